// End-to-end demo: a real authorization server (oidc-provider, ./provider.mjs) issues RFC 9068 JWT
// access tokens; an example API from examples/<framework> is started exactly as a user would start
// it; every CONTRACT.md route is called with good and bad credentials, and the answers are checked.
//
//   node examples/demo/run.mjs [express|fastify|nestjs]     (or DEMO_FRAMEWORK=…; DEMO_VERBOSE=1)
//
// Exit status 0 only if every request was answered as CONTRACT.md says.
import { Buffer } from 'node:buffer'
import { spawn } from 'node:child_process'
import { createHmac, createPublicKey } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'

import {
  API,
  CLIENTS,
  OTHER_API,
  getJson,
  providerNotices,
  requestToken,
  startAuthorizationServer,
} from './provider.mjs'

const FRAMEWORKS = ['express', 'fastify', 'nestjs']
const REPO = resolve(import.meta.dirname, '../..')
const VERBOSE = Boolean(process.env.DEMO_VERBOSE)
const DEADLINE_MS = 55_000
const LISTEN_TIMEOUT_MS = 20_000

// ---------------------------------------------------------------------------------------------
// Lifecycle: everything started is registered with `onCleanup`; any exit path runs them once.

const cleanups = []
let exiting = false
async function shutdown(code) {
  if (exiting) return
  exiting = true
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
  process.exit(code)
}
/** Registers a cleanup; one registered while shutting down (a start that raced Ctrl-C) runs now. */
function onCleanup(cleanup) {
  if (exiting) void cleanup().catch(() => {})
  else cleanups.push(cleanup)
}
process.on('SIGINT', () => {
  console.log('\ninterrupted, cleaning up')
  void shutdown(130)
})
process.on('SIGTERM', () => void shutdown(143))
setTimeout(() => {
  console.error(`demo: gave up after ${DEADLINE_MS / 1000} s`)
  void shutdown(1)
}, DEADLINE_MS).unref()

// ---------------------------------------------------------------------------------------------
// Tokens: real ones from the authorization server, and forgeries derived from a real one.

/** Token requests: six good tokens, then three properly issued ones the API must still refuse. */
const TOKEN_REQUESTS = [
  { label: 'token, no scope', client: 'orders-reader' },
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

const decodePart = (part) => JSON.parse(Buffer.from(part, 'base64url').toString())
const encodePart = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')

async function obtainTokens(tokenEndpoint) {
  const client = (id) => CLIENTS.find((candidate) => candidate.client_id === id)
  const tokens = {}
  const rows = []
  for (const { label, client: id, scope, resource } of TOKEN_REQUESTS) {
    const answer = await requestToken(tokenEndpoint, client(id), { scope, resource })
    if (!answer.access_token) {
      throw new Error(
        `token request "${label}" refused: ${answer.error} ${answer.error_description}`,
      )
    }
    const [header, payload] = answer.access_token.split('.').slice(0, 2).map(decodePart)
    tokens[label] = answer.access_token
    rows.push([
      label,
      `${id} (${client(id).auth})`,
      payload.scope ?? '-',
      payload.aud,
      `${header.alg} ${header.typ}`,
      `${payload.exp - Math.floor(Date.now() / 1000)} s`,
    ])
  }
  // The server enforces each client's allowed scopes: this request must be refused.
  const refused = await requestToken(tokenEndpoint, client('orders-reader'), {
    scope: 'orders:write',
  })
  const refusedOk = refused.status === 400 && refused.error === 'invalid_scope'
  rows.push([
    'orders:write',
    'orders-reader (client_secret_basic)',
    `refused: ${refused.status} ${refused.error ?? ''}`,
    '',
    '',
    refusedOk ? 'as expected' : 'UNEXPECTED',
  ])
  printTable(['token', 'client (authentication)', 'scope', 'aud', 'alg typ', 'expires in'], rows)
  return { tokens, refusedOk }
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

async function startExample(dir, issuer) {
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
  const signal = (name) => {
    try {
      process.kill(-child.pid, name)
    } catch {
      // ESRCH: the group is gone already
    }
  }
  const stop = async () => {
    signal('SIGTERM')
    const timer = new Promise((resolveTimer) => setTimeout(() => resolveTimer('timeout'), 3000))
    if ((await Promise.race([exited, timer])) === 'timeout') {
      console.error('the example API ignored SIGTERM for 3 s; killing it')
      signal('SIGKILL')
    }
  }
  onCleanup(stop)

  const listening = new Promise((resolveListening, reject) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line)
        if (VERBOSE) console.log(`  [api] ${line}`)
        if (stream === child.stdout && line.includes('listening')) resolveListening()
      })
    }
    child.once('error', reject)
    void exited.then((code) => reject(new Error(`the example API exited (code ${code})`)))
    setTimeout(
      () => reject(new Error(`no "listening" line within ${LISTEN_TIMEOUT_MS / 1000} s`)),
      LISTEN_TIMEOUT_MS,
    ).unref()
  })
  try {
    await listening
  } catch (err) {
    if (!VERBOSE && !exiting) console.error(output.slice(-30).join('\n'))
    throw err
  }
  return `http://127.0.0.1:${port}`
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

function plan(tokens, publicJwk) {
  const requests = [{ method: 'GET', path: '/health', label: 'none', expect: { status: 200 } }]
  for (const label of GOOD_LABELS) {
    const [, payload] = tokens[label].split('.')
    const scopes = new Set((decodePart(payload).scope ?? '').split(' ').filter(Boolean))
    for (const { method, path, success, allowed } of ROUTES) {
      const expect = allowed(scopes)
        ? { status: success }
        : { status: 403, error: 'insufficient_scope' }
      requests.push({ method, path, label, authorization: `Bearer ${tokens[label]}`, expect })
    }
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
  for (const [label, [authorization, status, error]] of Object.entries(bad)) {
    requests.push({
      method: 'GET',
      path: '/orders',
      label,
      authorization,
      expect: { status, error },
    })
  }
  return requests
}

/** `error="…"` and friends from a WWW-Authenticate challenge. */
function challengeParams(header) {
  const params = {}
  for (const [, key, quoted, bare] of header.matchAll(/(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/g)) {
    params[key] = quoted ?? bare
  }
  return params
}

const shorten = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text)

function describeSuccess(path, body) {
  if (Array.isArray(body)) return `${body.length} item(s)`
  if (path === '/me' && body) return `sub=${body.sub} scopes=[${(body.scopes ?? []).join(' ')}]`
  return body === undefined ? '' : shorten(JSON.stringify(body), 50)
}

async function perform(baseUrl, { method, path, authorization, expect }) {
  const headers = authorization === undefined ? {} : { authorization }
  const init = { method, headers, signal: AbortSignal.timeout(5000) }
  if (method === 'POST') {
    headers['content-type'] = 'application/json'
    init.body = JSON.stringify({ item: 'widget', quantity: 1 })
  }
  const response = await fetch(new URL(path, baseUrl), init)
  const text = await response.text()
  let body
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    body = text
  }
  const challenge = response.headers.get('www-authenticate')
  const params = challenge ? challengeParams(challenge) : {}

  const problems = []
  if (response.status !== expect.status) problems.push(`want ${expect.status}`)
  if (expect.status >= 400) {
    if (!challenge) problems.push('no WWW-Authenticate')
    else if (params.error !== expect.error) problems.push(`want error=${expect.error ?? '(none)'}`)
  }
  let shown = describeSuccess(path, body)
  if (challenge) {
    const description = params.error_description
    shown = challenge
      .replace(/\s*,?\s*error_description="(?:[^"\\]|\\.)*"/, '')
      .replace(/realm="(?:[^"\\]|\\.)*"/, 'realm=…') // the same in every row: printed once, below
    if (description) shown += ` — ${shorten(description, 48)}`
  }
  return { status: response.status, shown, problems, realm: params.realm }
}

// ---------------------------------------------------------------------------------------------

function printTable(headings, rows) {
  const widths = headings.map((heading, i) =>
    Math.max(heading.length, ...rows.map((row) => String(row[i]).length)),
  )
  const line = (cells) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : String(cell).padEnd(widths[i])))
      .join('  ')
      .trimEnd()
  console.log(line(headings))
  console.log(line(widths.map((width) => '-'.repeat(width))))
  for (const row of rows) console.log(line(row))
  console.log()
}

async function main() {
  const framework = process.argv[2] ?? process.env.DEMO_FRAMEWORK ?? 'express'
  if (!FRAMEWORKS.includes(framework)) {
    console.error(`unknown framework "${framework}"; choose one of: ${FRAMEWORKS.join(', ')}`)
    return 1
  }
  const exampleDir = join(REPO, 'examples', framework)
  if (!existsSync(join(exampleDir, 'dist'))) {
    console.error(
      existsSync(exampleDir)
        ? `examples/${framework} is not built (no dist/): run \`npm run build\` at the repository root.`
        : `examples/${framework} does not exist (yet) in this repository.`,
    )
    return 1
  }

  const authorizationServer = await startAuthorizationServer()
  onCleanup(authorizationServer.close)
  const { issuer } = authorizationServer
  const discovery = await getJson(`${issuer}/.well-known/openid-configuration`)
  const { keys } = await getJson(discovery.jwks_uri)
  console.log(`Authorization server (oidc-provider)  ${issuer}`)
  console.log(`  token endpoint  ${discovery.token_endpoint}`)
  console.log(`  jwks_uri        ${discovery.jwks_uri}  (${keys.map((k) => k.alg).join(', ')})`)
  if (VERBOSE) for (const notice of providerNotices) console.log(`  ${notice}`)
  else if (providerNotices.length) {
    const gist = providerNotices.map((notice) => shorten(notice.replace(/^.*?: /, ''), 32))
    console.log(
      `  oidc-provider notices (expected, DEMO_VERBOSE=1 shows them): ${gist.join(' | ')}`,
    )
  }
  console.log()
  const { tokens, refusedOk } = await obtainTokens(discovery.token_endpoint)

  const baseUrl = await startExample(exampleDir, issuer)
  console.log(`Example API examples/${framework}  ${baseUrl}  (AUDIENCE=${API})\n`)

  const rows = []
  const realms = new Set()
  let matched = 0
  const requests = plan(tokens, keys[0])
  for (const [index, request] of requests.entries()) {
    const { status, shown, problems, realm } = await perform(baseUrl, request)
    if (problems.length === 0) matched += 1
    if (realm !== undefined) realms.add(`"${realm}"`)
    rows.push([
      index + 1,
      `${request.method} ${request.path}`,
      request.label,
      status,
      request.expect.status,
      problems.length ? `✗ ${problems.join(', ')}` : '✓',
      shown,
    ])
  }
  printTable(['#', 'request', 'credential', 'got', 'want', 'ok', 'WWW-Authenticate / body'], rows)
  if (realms.size) console.log(`realm=… stands for realm=${[...realms].join(' or ')}\n`)

  const allGood = matched === requests.length && refusedOk
  console.log(`${requests.length} requests, ${matched} as expected.`)
  if (!refusedOk) console.log('The authorization server did not refuse a disallowed scope.')
  console.log(allGood ? 'The API follows CONTRACT.md.' : 'MISMATCHES: see ✗ above.')
  return allGood ? 0 : 1
}

main().then(
  (code) => shutdown(code),
  (err) => {
    if (exiting) return undefined // interrupted: the failure is only the shutdown's echo
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`)
    return shutdown(1)
  },
)
