// End-to-end demo: a real authorization server (oidc-provider, ./provider.mjs) issues RFC 9068 JWT
// access tokens; an example API from examples/<framework> is started exactly as a user would start
// it; every CONTRACT.md route is called with good and bad credentials, and the answers are checked.
// Then the authorization server is taken down and brought back: the API keeps serving with cached
// keys, a fresh API process fails closed with 503 + Retry-After and recovers, and a key rotation
// is followed.
//
//   node examples/demo/run.mjs [--build] [express|fastify|nestjs]   (or DEMO_FRAMEWORK=…)
//
// --build first builds the example and the packages it uses with turbo, showing only errors.
// DEMO_VERBOSE=1 also shows the build's, the API's and oidc-provider's own output.
// Exit status 0 only if every answer was as expected and no line printed by the demo was wider
// than 100 columns.
import { Buffer } from 'node:buffer'
import { spawn } from 'node:child_process'
import { createHmac, createPublicKey } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

import {
  API,
  CLIENTS,
  OTHER_API,
  generateSigningKey,
  getJson,
  providerNotices,
  requestToken,
  startAuthorizationServer,
} from './provider.mjs'

const FRAMEWORKS = ['express', 'fastify', 'nestjs']
const REPO = resolve(import.meta.dirname, '../..')
const VERBOSE = Boolean(process.env.DEMO_VERBOSE)
/** The whole run after the build: two API start-ups, one Retry-After wait, a few seconds more. */
const DEADLINE_MS = 75_000
const LISTEN_TIMEOUT_MS = 20_000
/** No line the demo prints may be wider than this; checked on every write (see below). */
const WIDTH = 100

// ---------------------------------------------------------------------------------------------
// Output. Every write to stdout and stderr is measured; a line wider than WIDTH columns makes the
// run fail. Only pass-through output (DEMO_VERBOSE, a failed build's log) is exempt.

// eslint-disable-next-line no-control-regex -- ANSI colour codes take no columns
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g
/** Columns taken by `text`: one per code point (the demo prints no wide characters). */
const columns = (text) => [...text.replace(ANSI, '')].length
const overlong = []
let exempt = false
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream)
  let line = ''
  stream.write = (chunk, ...rest) => {
    if (!exempt) {
      for (const [index, piece] of String(chunk).split('\n').entries()) {
        if (index > 0) line = ''
        const before = columns(line)
        line += piece
        if (before <= WIDTH && columns(line) > WIDTH) overlong.push(line)
      }
    }
    return write(chunk, ...rest)
  }
}
const say = (line = '') => console.log(line)
/** Prints output that is not the demo's own (API logs, build errors) without measuring it. */
function passThrough(line) {
  exempt = true
  try {
    console.log(line)
  } finally {
    exempt = false
  }
}

/** Word-wraps `text` to `width` columns; a word wider than that is split. */
function wrap(text, width) {
  const lines = []
  let line = ''
  for (let word of String(text).split(/\s+/).filter(Boolean)) {
    while (columns(word) > width) {
      if (line) lines.push(line)
      line = ''
      lines.push([...word].slice(0, width).join(''))
      word = [...word].slice(width).join('')
    }
    if (!line) line = word
    else if (columns(line) + 1 + columns(word) <= width) line += ` ${word}`
    else {
      lines.push(line)
      line = word
    }
  }
  if (line || lines.length === 0) lines.push(line)
  return lines
}
/** Prints `text` wrapped, every line indented by `indent` spaces (to stdout, or with `print`). */
const paragraph = (text, indent = 0, print = say) => {
  for (const line of wrap(text, WIDTH - indent)) print(`${' '.repeat(indent)}${line}`)
}

function printTable(headings, rows, indent = 0) {
  const widths = headings.map((heading, i) =>
    Math.max(columns(heading), ...rows.map((row) => columns(String(row[i])))),
  )
  const pad = (text, width) => text + ' '.repeat(Math.max(0, width - columns(text)))
  const line = (cells) =>
    ' '.repeat(indent) +
    cells
      .map((cell, i) => (i === cells.length - 1 ? String(cell) : pad(String(cell), widths[i])))
      .join('  ')
      .trimEnd()
  say(line(headings))
  say(line(widths.map((width) => '-'.repeat(width))))
  for (const row of rows) say(line(row))
}

/** Result rows: `  <label>  <status> ✓  <what came back>`, details wrapped below the text. */
const LABEL_WIDTH = 19
const TEXT_INDENT = 2 + LABEL_WIDTH + 2 + 5 + 2
function printResult(label, { status, text, details = [], problems }) {
  const mark = problems.length ? '✗' : '✓'
  const lead = (name) => `  ${name.padEnd(LABEL_WIDTH)}  ${String(status).padEnd(3)} ${mark}  `
  const lines = wrap(text, WIDTH - TEXT_INDENT)
  if (columns(label) > LABEL_WIDTH) {
    say(`  ${label}`)
    label = ''
  }
  say(`${lead(label)}${lines[0]}`.trimEnd())
  const more = [...lines.slice(1)]
  for (const detail of details.filter(Boolean)) more.push(...wrap(detail, WIDTH - TEXT_INDENT))
  if (problems.length) more.push(...wrap(`✗ ${problems.join('; ')}`, WIDTH - TEXT_INDENT))
  for (const line of more) say(`${' '.repeat(TEXT_INDENT)}${line}`)
}

/** Every check the demo makes, for the final count. */
const checks = []
function record(section, result) {
  checks.push({ section, ok: result.problems.length === 0 })
  return result
}

// ---------------------------------------------------------------------------------------------
// Lifecycle: everything started is registered with `onCleanup`; any exit path runs them once.

const cleanups = []
let exiting = false
async function shutdown(code) {
  if (exiting) return
  exiting = true
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
  if (overlong.length) {
    const first = [...overlong[0].replace(ANSI, '')].slice(0, 60).join('')
    exempt = true // this report is about the measurement, not measured itself
    console.error(`demo: ${overlong.length} printed line(s) wider than ${WIDTH} columns,`)
    console.error(`  the first: "${first}…"`)
    if (code === 0) code = 1
  }
  process.exit(code)
}
/** Registers a cleanup; one registered while shutting down (a start that raced Ctrl-C) runs now. */
function onCleanup(cleanup) {
  if (exiting) void cleanup().catch(() => {})
  else cleanups.push(cleanup)
}
process.on('SIGINT', () => {
  say('\ninterrupted, cleaning up')
  void shutdown(130)
})
process.on('SIGTERM', () => void shutdown(143))

// ---------------------------------------------------------------------------------------------
// Building (npm run demo passes --build): turbo, showing its output only when something fails.

function build(framework) {
  const example = `examples/${framework}`
  say(`Building ${example} and the packages it uses (turbo, errors only)…`)
  const args = [
    'run',
    'build',
    `--filter=@bearer-guard/example-${framework}...`,
    '--output-logs=errors-only',
    '--ui=stream',
  ]
  const child = spawn(join(REPO, 'node_modules', '.bin', 'turbo'), args, {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output = []
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      output.push(line)
      if (VERBOSE) passThrough(`  [turbo] ${line}`)
    })
  }
  return new Promise((resolveBuild) => {
    child.once('error', (err) => {
      console.error(`cannot run turbo (${err.message}); run \`npm ci\` at the repository root`)
      resolveBuild(false)
    })
    child.once('close', (code) => {
      if (code === 0) {
        const find = (pattern) => output.map((line) => pattern.exec(line)?.[1]).find(Boolean)
        const tasks = find(/Tasks:\s+(\d+) successful/)
        const cached = find(/Cached:\s+(\d+) cached/)
        const time = find(/Time:\s+(\S+)/)
        say(`Built: ${tasks ?? '?'} tasks, ${cached ?? '?'} from turbo's cache, ${time ?? '?'}.\n`)
        resolveBuild(true)
        return
      }
      // Everything but turbo's banner: the failing task's log is the part that matters.
      const banner = /^\s*• (turbo \d|Packages in scope|Running |Remote caching)/
      if (!VERBOSE) for (const line of output) if (!banner.test(line)) passThrough(line)
      console.error(`\nThe build failed (turbo exit code ${code}); see the errors above.`)
      resolveBuild(false)
    })
  })
}

// ---------------------------------------------------------------------------------------------
// Tokens: real ones from the authorization server, and forgeries derived from a real one.

/** Token requests: six good tokens, then three properly issued ones the API must still refuse. */
const TOKEN_REQUESTS = [
  { label: 'no scope', client: 'orders-reader' },
  { label: 'orders:read', client: 'orders-reader', scope: 'orders:read' },
  { label: 'orders:read+write', client: 'orders-service', scope: 'orders:read orders:write' },
  { label: 'orders:write+admin', client: 'orders-service', scope: 'orders:write orders:admin' },
  { label: 'reports:read', client: 'reports-service', scope: 'reports:read' },
  { label: 'admin', client: 'admin-console', scope: 'admin' },
  { label: 'aud=billing', client: 'billing-service', scope: 'orders:read', resource: OTHER_API },
  { label: 'expired', client: 'backdated-issuer', scope: 'orders:read' },
  { label: 'typ=logout+jwt', client: 'logout-token-issuer', scope: 'orders:read' },
]
const GOOD_LABELS = TOKEN_REQUESTS.slice(0, 6).map((request) => request.label)
const AUDIENCES = { [API]: 'api', [OTHER_API]: 'billing' }

const decodePart = (part) => JSON.parse(Buffer.from(part, 'base64url').toString())
const encodePart = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
const claimsOf = (token) => decodePart(token.split('.')[1])
const kidOf = (token) => decodePart(token.split('.')[0]).kid
const clientById = (id) => CLIENTS.find((candidate) => candidate.client_id === id)

/** A token for `orders-reader` with scope `orders:read`, or an error naming what went wrong. */
async function ordersReaderToken(tokenEndpoint) {
  const answer = await requestToken(tokenEndpoint, clientById('orders-reader'), {
    scope: 'orders:read',
  })
  if (!answer.access_token) throw new Error(`token request refused: ${answer.error}`)
  return answer.access_token
}

async function obtainTokens(tokenEndpoint) {
  const tokens = {}
  const rows = []
  const headers = new Set()
  for (const { label, client: id, scope, resource } of TOKEN_REQUESTS) {
    const answer = await requestToken(tokenEndpoint, clientById(id), { scope, resource })
    if (!answer.access_token) {
      throw new Error(
        `token request "${label}" refused: ${answer.error} ${answer.error_description}`,
      )
    }
    const [header, payload] = answer.access_token.split('.').slice(0, 2).map(decodePart)
    tokens[label] = answer.access_token
    headers.add(`${header.alg}, kid ${header.kid}`)
    const expiresIn = payload.exp - Math.floor(Date.now() / 1000)
    rows.push([
      label,
      id,
      payload.scope ?? '-',
      AUDIENCES[payload.aud] ?? payload.aud,
      header.typ,
      `${expiresIn > 0 ? '+' : ''}${expiresIn} s`,
    ])
  }
  paragraph(
    'Tokens from the token endpoint (client-credentials grant; signed ' +
      `${[...headers].join(' or ')}):`,
  )
  printTable(['token', 'client', 'scope', 'aud', 'typ', 'exp'], rows, 2)
  paragraph(`aud: api = ${API} (the API), billing = ${OTHER_API}`, 2)
  const byAuth = (auth) =>
    CLIENTS.filter((client) => client.auth === auth).map((client) => client.client_id)
  paragraph(
    `Clients authenticate with client_secret_basic (${byAuth('client_secret_basic').join(', ')})` +
      ` or client_secret_post (${byAuth('client_secret_post').join(', ')}).`,
    2,
  )
  // The server enforces each client's allowed scopes: this request must be refused.
  const refused = await requestToken(tokenEndpoint, clientById('orders-reader'), {
    scope: 'orders:write',
  })
  const result = record('tokens', {
    status: refused.status,
    text: `orders-reader asked for orders:write: ${refused.error ?? 'issued!'}`,
    details: [refused.error_description],
    problems:
      refused.status === 400 && refused.error === 'invalid_scope'
        ? []
        : ['expected 400 invalid_scope: the client may not have this scope'],
  })
  say()
  printResult('POST /token', result)
  say()
  return tokens
}

/** Forged or malformed credentials built from a real token and the server's public key. */
function forgeries(real, publicJwk) {
  const [header, payload, signature] = real.split('.')
  const flipped = Buffer.from(signature, 'base64url')
  flipped[flipped.length >> 1] ^= 1
  const hsHeader = encodePart({ ...decodePart(header), alg: 'HS256' })
  const publicPem = createPublicKey({ key: publicJwk, format: 'jwk' }).export({
    type: 'spki',
    format: 'pem',
  })
  const hmac = createHmac('sha256', publicPem).update(`${hsHeader}.${payload}`).digest('base64url')
  return {
    'tampered signature': `Bearer ${header}.${payload}.${flipped.toString('base64url')}`,
    'alg=none': `Bearer ${encodePart({ ...decodePart(header), alg: 'none' })}.${payload}.`,
    'HS256 w/ public key': `Bearer ${hsHeader}.${payload}.${hmac}`,
  }
}

// ---------------------------------------------------------------------------------------------
// The example API, started as a user would: npm start --prefix examples/<framework>.

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolvePort(port))
    })
  })
}

async function startExample(dir, issuer, name) {
  const port = await freePort()
  const env = { ...process.env, PORT: String(port), ISSUER: issuer, AUDIENCE: API }
  delete env.JWKS_URI // keys must be found by discovery
  if (exiting) throw new Error('interrupted')
  // A process group of its own: Ctrl-C reaches only the demo, which then stops the API itself.
  const child = spawn('npm', ['start', '--prefix', dir], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  const output = []
  const exited = new Promise((resolveExit) => child.once('close', resolveExit))
  // SIGTERM goes to the API's process group (its id is the child's PID): npm does not pass the
  // signal on to the script it runs, so signalling npm alone would orphan the server.
  const signal = (signalName) => {
    try {
      process.kill(-child.pid, signalName)
    } catch {
      // ESRCH: the group is gone already
    }
  }
  const stop = async () => {
    signal('SIGTERM')
    const timer = new Promise((resolveTimer) => setTimeout(() => resolveTimer('timeout'), 3000))
    if ((await Promise.race([exited, timer])) === 'timeout') {
      console.error(`the ${name} ignored SIGTERM for 3 s; killing it`)
      signal('SIGKILL')
    }
  }
  onCleanup(stop)

  const listening = new Promise((resolveListening, reject) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line)
        if (VERBOSE) passThrough(`  [${name}] ${line}`)
        if (stream === child.stdout && line.includes('listening')) resolveListening()
      })
    }
    child.once('error', reject)
    void exited.then((code) => reject(new Error(`the ${name} exited (code ${code})`)))
    setTimeout(
      () => reject(new Error(`the ${name} printed no "listening" line within 20 s`)),
      LISTEN_TIMEOUT_MS,
    ).unref()
  })
  try {
    await listening
  } catch (err) {
    if (!VERBOSE && !exiting) for (const line of output.slice(-30)) passThrough(line)
    throw err
  }
  return { url: `http://127.0.0.1:${port}`, output }
}

// ---------------------------------------------------------------------------------------------
// The requests, and what CONTRACT.md says each must get.

const ROUTES = [
  { method: 'GET', path: '/me', success: 200, allowed: () => true },
  { method: 'GET', path: '/orders', success: 200, allowed: (s) => s.has('orders:read') },
  { method: 'POST', path: '/orders', success: 201, allowed: (s) => s.has('orders:write') },
  {
    method: 'DELETE',
    path: '/orders/42',
    success: 204,
    allowed: (s) => s.has('orders:write') && s.has('orders:admin'),
  },
  {
    method: 'GET',
    path: '/reports',
    success: 200,
    allowed: (s) => s.has('reports:read') || s.has('admin'),
  },
]

/** The contract requests, in groups: one per good token, then refused credentials. */
function plan(tokens, publicJwk) {
  const groups = []
  for (const label of GOOD_LABELS) {
    const claims = claimsOf(tokens[label])
    const scopes = new Set((claims.scope ?? '').split(' ').filter(Boolean))
    const granted = scopes.size ? `scope "${[...scopes].join(' ')}"` : 'no scope'
    const requests = ROUTES.map(({ method, path, success, allowed }) => ({
      method,
      path,
      label: `${method} ${path}`,
      authorization: `Bearer ${tokens[label]}`,
      expect: allowed(scopes) ? { status: success } : { status: 403, error: 'insufficient_scope' },
    }))
    groups.push({ heading: `Token "${label}" (${claims.client_id}, ${granted})`, requests })
  }
  // Everything below is refused before any scope is looked at; each would otherwise be allowed.
  const bad = {
    none: [undefined, 401],
    'Basic scheme': [`Basic ${Buffer.from('orders-reader:secret').toString('base64')}`, 401],
    'Bearer, no token': ['Bearer ', 400, 'invalid_request'],
    'Bearer a b': ['Bearer a b', 400, 'invalid_request'],
    ...Object.fromEntries(
      Object.entries(forgeries(tokens['orders:read'], publicJwk)).map(([label, value]) => [
        label,
        [value, 401, 'invalid_token'],
      ]),
    ),
    ...Object.fromEntries(
      ['aud=billing', 'expired', 'typ=logout+jwt'].map((label) => [
        label,
        [`Bearer ${tokens[label]}`, 401, 'invalid_token'],
      ]),
    ),
  }
  const refused = Object.entries(bad).map(([label, [authorization, status, error]]) => ({
    method: 'GET',
    path: '/orders',
    label,
    authorization,
    expect: { status, error },
  }))
  groups.unshift({
    heading: 'No token needed',
    requests: [{ method: 'GET', path: '/health', label: 'GET /health', expect: { status: 200 } }],
  })
  groups.push({
    heading: 'GET /orders with credentials refused before any scope is looked at',
    requests: refused,
  })
  // Step-up (RFC 9470): these client-credentials tokens carry no user authentication (`acr`,
  // `auth_time`), so even scope admin is refused, with what the client should ask for.
  groups.push({
    heading: 'GET /admin/audit: scope admin, acr urn:example:mfa, auth_time within 300 s',
    requests: [
      ['admin', { status: 401, error: 'insufficient_user_authentication' }],
      ['orders:read', { status: 403, error: 'insufficient_scope' }],
    ].map(([label, expect]) => ({
      method: 'GET',
      path: '/admin/audit',
      label: `token "${label}"`,
      authorization: `Bearer ${tokens[label]}`,
      expect,
    })),
  })
  return groups
}

/** `error="…"` and friends from a WWW-Authenticate challenge. */
function challengeParams(header) {
  const params = {}
  for (const [, key, quoted, bare] of header.matchAll(/(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/g)) {
    params[key] = quoted ?? bare
  }
  return params
}

/** The challenge as shown: no `error_description` (shown on its own), no `realm` (noted once). */
const shownChallenge = (header) =>
  header
    .replace(/\s*,?\s*error_description="(?:[^"\\]|\\.)*"/, '')
    .replace(/realm="(?:[^"\\]|\\.)*"\s*,?\s*/, '')
    .replace(/[\s,]+$/, '')

function describeSuccess(path, status, body) {
  if (status === 204) return '(no content)'
  if (Array.isArray(body)) return `${body.length} item(s)`
  if (path === '/me' && body) return `sub=${body.sub} scopes=[${(body.scopes ?? []).join(' ')}]`
  if (body && typeof body === 'object') {
    return Object.entries(body)
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(' ')
  }
  return body === undefined ? '' : String(body)
}

const realms = new Set()

async function perform(baseUrl, { method, path, authorization, expect }) {
  const headers = authorization === undefined ? {} : { authorization }
  const init = { method, headers, signal: AbortSignal.timeout(5000) }
  if (method === 'POST') {
    headers['content-type'] = 'application/json'
    init.body = JSON.stringify({ item: 'widget', quantity: 1 })
  }
  const response = await fetch(new URL(path, baseUrl), init)
  const raw = await response.text()
  let body
  try {
    body = raw ? JSON.parse(raw) : undefined
  } catch {
    body = raw
  }
  const challenge = response.headers.get('www-authenticate')
  const retryAfter = response.headers.get('retry-after')
  const params = challenge ? challengeParams(challenge) : {}
  if (params.realm !== undefined) realms.add(params.realm)

  const problems = []
  if (response.status !== expect.status) {
    problems.push(`expected ${expect.status}${expect.error ? ` ${expect.error}` : ''}`)
  } else if (expect.status >= 400) {
    if (!challenge) problems.push('no WWW-Authenticate header')
    else {
      if (params.realm === undefined) problems.push('no realm in the challenge')
      if (params.error !== expect.error) problems.push(`expected error=${expect.error ?? '(none)'}`)
    }
    if (expect.error && body?.error !== expect.error) {
      problems.push(`expected a JSON body with error "${expect.error}"`)
    }
    if (expect.status === 503 && !/^[1-9]\d*$/.test(retryAfter ?? '')) {
      problems.push('expected a Retry-After header (seconds)')
    }
  }

  let text
  if (response.status < 400) text = describeSuccess(path, response.status, body)
  else {
    const parts = []
    if (retryAfter !== null) parts.push(`Retry-After: ${retryAfter}`)
    if (challenge) {
      const shown = shownChallenge(challenge)
      const noCode = params.error === undefined && response.status === 401
      parts.push(noCode ? `${shown} (no error code)` : shown)
    }
    if (body?.error && params.error === undefined) parts.push(`body error=${body.error}`)
    text = parts.join('; ') || '(no challenge)'
  }
  const description = params.error_description ?? body?.error_description
  return {
    status: response.status,
    text,
    details: [description],
    problems,
    retryAfter: Number(retryAfter),
  }
}

/** Challenge + description pairs already shown in the contract section, which are not repeated. */
const shownDescriptions = new Set()

async function check(section, baseUrl, label, request) {
  const result = record(section, await perform(baseUrl, request))
  const [description] = result.details
  if (section === 'contract' && description !== undefined) {
    const key = `${result.text}\n${description}`
    if (shownDescriptions.has(key)) printResult(label, { ...result, details: [] })
    else {
      shownDescriptions.add(key)
      printResult(label, result)
    }
  } else printResult(label, result)
  return result
}

/**
 * What a token request gets while the authorization server is stopped. A connection that the
 * stopped server just closed may still be in fetch's pool; a second attempt connects afresh.
 */
async function tokenEndpointDown(tokenEndpoint) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await ordersReaderToken(tokenEndpoint)
      return 'a token was issued!'
    } catch (err) {
      const code = err.cause?.code ?? err.message
      if (code === 'UND_ERR_SOCKET' && attempt < 3) continue
      return `unreachable (${code}): no new tokens`
    }
  }
}

/** A note on the JWKS requests the authorization server saw during a step. */
const fetched = (count, what) => (count === 1 ? what : `${count} JWKS requests meanwhile`)

const getMe = (token) => ({
  method: 'GET',
  path: '/me',
  authorization: `Bearer ${token}`,
  expect: { status: 200 },
})

// ---------------------------------------------------------------------------------------------

async function main() {
  const args = process.argv.slice(2)
  const framework =
    args.find((arg) => !arg.startsWith('--')) ?? process.env.DEMO_FRAMEWORK ?? 'express'
  if (!FRAMEWORKS.includes(framework)) {
    console.error(`unknown framework "${framework}"; choose one of: ${FRAMEWORKS.join(', ')}`)
    return 1
  }
  const exampleDir = join(REPO, 'examples', framework)
  if (!existsSync(exampleDir)) {
    console.error(`examples/${framework} does not exist (yet) in this repository.`)
    return 1
  }
  if (args.includes('--build') && !(await build(framework))) return 1
  if (!existsSync(join(exampleDir, 'dist'))) {
    paragraph(
      `examples/${framework} is not built (no dist/): run \`npm run demo\` at the root.`,
      0,
      (line) => console.error(line),
    )
    return 1
  }
  const started = performance.now()
  setTimeout(() => {
    console.error(`demo: gave up after ${DEADLINE_MS / 1000} s`)
    void shutdown(1)
  }, DEADLINE_MS).unref()

  // --- The authorization server, and real tokens from it.
  const key1 = generateSigningKey(1)
  let authorizationServer = await startAuthorizationServer({ keys: [key1] })
  onCleanup(() => authorizationServer?.close() ?? Promise.resolve())
  const { issuer, port: issuerPort } = authorizationServer
  /** Stops the authorization server, or restarts it on the same port with `keys`. */
  const restart = async (keys) => {
    await authorizationServer?.close()
    authorizationServer = undefined
    if (keys) authorizationServer = await startAuthorizationServer({ port: issuerPort, keys })
  }
  const jwksRequests = () => authorizationServer?.counter.jwksRequests ?? 0

  const discovery = await getJson(`${issuer}/.well-known/openid-configuration`)
  const { keys } = await getJson(discovery.jwks_uri)
  const providerPackage = join(
    dirname(fileURLToPath(import.meta.resolve('oidc-provider'))),
    '..',
    'package.json',
  )
  const { version } = JSON.parse(readFileSync(providerPackage, 'utf8'))
  say(`Authorization server: oidc-provider ${version} at ${issuer}`)
  say(`  token endpoint  ${discovery.token_endpoint}`)
  say(
    `  jwks_uri        ${discovery.jwks_uri}  (${keys.map((k) => `${k.alg} ${k.kid}`).join(', ')})`,
  )
  reportNotices()
  say()
  const tokens = await obtainTokens(discovery.token_endpoint)

  // --- The example API and every route of the contract.
  const { url: baseUrl } = await startExample(exampleDir, issuer, 'example API')
  say(`Example API examples/${framework}: ${baseUrl} (AUDIENCE=${API})`)
  say('  started with npm start, as CONTRACT.md describes; it finds the keys by discovery')
  say()
  for (const { heading, requests } of plan(tokens, keys[0])) {
    say(heading)
    for (const request of requests) await check('contract', baseUrl, request.label, request)
  }
  say()
  if (realms.size) {
    const list = [...realms].map((realm) => `realm="${realm}"`).join(' or ')
    paragraph(
      `Every challenge carried ${list}; it is left out above, and so is a description ` +
        'already shown for the same challenge.',
    )
    say()
  }

  // --- Outage 1: the authorization server stops once the API has its keys.
  say('Outage 1: the authorization server stops after warm-up')
  const unseen = await ordersReaderToken(discovery.token_endpoint) // minted now, sent later
  const unseenForRotation = await ordersReaderToken(discovery.token_endpoint)
  await restart(undefined)
  paragraph('The API has had the keys since the requests above. Authorization server stopped.', 2)
  // The second API process starts meanwhile; it is used in outage 2.
  const second = startExample(exampleDir, issuer, 'second example API')
  second.catch(() => {}) // awaited below; this only keeps an early failure from being unhandled
  const noToken = await tokenEndpointDown(discovery.token_endpoint)
  printResult(
    'POST /token',
    record('outage', {
      status: '-',
      text: noToken,
      problems: noToken.startsWith('unreachable') ? [] : ['the server should be down'],
    }),
  )
  say('  GET /me with a token the API has seen, one minted before the stop, and a forgery:')
  await check('outage', baseUrl, 'seen before', getMe(tokens['orders:read']))
  await check('outage', baseUrl, 'not sent before', getMe(unseen))
  await check('outage', baseUrl, 'tampered signature', {
    ...getMe(''),
    authorization: forgeries(unseen, keys[0])['tampered signature'],
    expect: { status: 401, error: 'invalid_token' },
  })
  say()

  // --- Outage 2: a fresh API process that never had the keys.
  say('Outage 2: a fresh API process starts while the authorization server is down')
  const { url: secondUrl, output: secondOutput } = await second
  paragraph(`A second example API at ${secondUrl}, same settings, no keys yet.`, 2)
  const logged = secondOutput.length
  const cold = await check('outage', secondUrl, 'GET /me', {
    ...getMe(tokens['orders:read']),
    expect: { status: 503 },
  })
  await sleep(100) // the API's log line about the failure, if it writes one
  const logLines = secondOutput.slice(logged, logged + 3)
  if (!VERBOSE && logLines.length) {
    say('  The API logged:')
    for (const line of logLines) paragraph(line.replace(ANSI, ''), 4)
  }
  const refusedAt = performance.now()
  await restart([key1])
  const wait = Number.isFinite(cold.retryAfter) && cold.retryAfter > 0 ? cold.retryAfter : 10
  paragraph(
    'Authorization server restarted: same port, same key. ' +
      `Waiting ${wait} s, as Retry-After asks…`,
    2,
  )
  await sleep(Math.max(0, refusedAt + wait * 1000 - performance.now()))
  const before = jwksRequests()
  const recovered = await check('outage', secondUrl, 'GET /me', getMe(tokens['orders:read']))
  if (!recovered.problems.length) {
    paragraph(fetched(jwksRequests() - before, 'the API fetched the keys'), TEXT_INDENT)
  }
  say()

  // --- Key rotation: a new key signs, the old one stays published, then is retired.
  say('Key rotation')
  const key2 = generateSigningKey(2)
  await restart([key2, key1])
  paragraph(`Restarted with a new key first: ${key2.kid} signs; ${key1.kid} stays published.`, 2)
  const rotated = await ordersReaderToken(discovery.token_endpoint)
  if (kidOf(rotated) !== key2.kid) {
    throw new Error(`the new token is signed by ${kidOf(rotated)}, not by ${key2.kid}`)
  }
  say('  First API, GET /me:')
  let fetchesBefore = jwksRequests()
  await check('rotation', baseUrl, `${key2.kid} token`, getMe(rotated))
  paragraph(
    fetched(jwksRequests() - fetchesBefore, 'unknown kid: the API fetched the JWKS again'),
    TEXT_INDENT,
  )
  await check('rotation', baseUrl, `${key1.kid} token`, getMe(unseenForRotation))
  paragraph('not sent before; its key is still published', TEXT_INDENT)
  await restart([key2])
  paragraph(`Restarted with ${key2.kid} only: ${key1.kid} is retired.`, 2)
  say(`  Second API (it holds ${key1.kid} only, fetched when it recovered), GET /me:`)
  fetchesBefore = jwksRequests()
  await check('rotation', secondUrl, `${key2.kid} token`, getMe(rotated))
  paragraph(
    fetched(jwksRequests() - fetchesBefore, 'unknown kid: the API fetched the JWKS again'),
    TEXT_INDENT,
  )
  await check('rotation', secondUrl, `${key1.kid} token`, {
    ...getMe(tokens['orders:read']),
    expect: { status: 401, error: 'invalid_token' },
  })
  reportNotices()
  say()

  // --- Summary.
  const failed = checks.filter((c) => !c.ok).length
  const count = (section) => checks.filter((c) => c.section === section).length
  paragraph(
    `${checks.length} checks, ${checks.length - failed} as expected ` +
      `(token endpoint ${count('tokens')}, contract ${count('contract')}, ` +
      `outages ${count('outage')}, key rotation ${count('rotation')}); ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s.`,
  )
  paragraph(
    failed
      ? 'MISMATCHES: see ✗ above.'
      : `examples/${framework} follows CONTRACT.md, keeps serving from cached keys while the ` +
          'authorization server is down, fails closed with 503 and Retry-After when it has no ' +
          'keys, recovers, and follows a key rotation.',
  )
  return failed ? 1 : 0
}

// oidc-provider's console notices (kept off the output by ./provider.mjs): the two expected here
// are summarised once; any other one is shown in full.
const KNOWN_NOTICES = [
  [/Unsupported runtime/, 'unsupported runtime (it wants Node.js 22 LTS or later)'],
  [/in-memory adapter/, 'development-only in-memory adapter'],
]
let noticesReported = 0
function reportNotices() {
  const fresh = providerNotices.slice(noticesReported).map((notice) => notice.replace(ANSI, ''))
  noticesReported = providerNotices.length
  if (VERBOSE) {
    for (const notice of fresh) passThrough(`  ${notice}`)
    return
  }
  const known = new Set()
  for (const notice of fresh) {
    const match = KNOWN_NOTICES.find(([pattern]) => pattern.test(notice))
    if (match) known.add(match[1])
    else paragraph(notice, 2)
  }
  if (known.size && noticesReported === fresh.length) {
    paragraph(
      `oidc-provider notices, expected here (DEMO_VERBOSE=1 shows them): ${[...known].join('; ')}`,
      2,
    )
  }
}

main().then(
  (code) => shutdown(code),
  (err) => {
    if (exiting) return undefined // interrupted: the failure is only the shutdown's echo
    const message = err instanceof Error ? err.message : String(err)
    paragraph(`demo failed: ${message}`, 0, (line) => console.error(line))
    return shutdown(1)
  },
)
