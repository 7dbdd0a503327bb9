#!/usr/bin/env node
/**
 * Load under issuer faults (issue 5): one bounded, loopback-only command that runs load against
 * each example API (started as a user would, `npm start --prefix examples/<fw>`) while a real
 * test issuer rotates keys, goes down, answers garbage, hangs, comes back slow and recovers.
 *
 *     node scripts/faults/run.mjs [--framework express|fastify|nestjs|nestjs-fastify|all]
 *                                 [--phase-seconds N] [--connections N] [--no-results]
 *
 * Invariants (any failure: exit status 1, details printed and written to RESULTS.md):
 * zero accepted forgeries, zero 5xx other than 503, every 503 with Retry-After, every expected
 * status (valid tokens with cached keys always 200, also while the issuer is down), no request
 * slower than the fetch timeout plus a margin, retired keys refused once the refresh that drops
 * them has been observed, cold start answers 503 then recovers within the backoff bound, clean
 * exit on SIGTERM, and no RSS growth above 50 % after the steady phase.
 *
 * The phase design and the latest figures are in scripts/faults/RESULTS.md (written by this script).
 */
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { createServer } from 'node:net'
import os from 'node:os'
import { dirname, relative, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { clearInterval, setInterval } from 'node:timers'
import { setTimeout as sleep, setImmediate as tick } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Buffer } from 'node:buffer'
import { createTestIssuer, encodeToken } from '@bearer-guard/testing'

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = resolve(here, '../..')

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

/** The core's defaults (packages/core/src/options.ts, key-set.ts) the phases are timed against. */
const CORE = {
  keySetMinAge: 60,
  unknownKeyCooldown: 30,
  fetchTimeout: 5,
  retryAfter: 10,
  maxBackoff: 30,
}
/**
 * `Cache-Control: max-age` of the JWKS served in normal operation. The test issuer's own JWKS says
 * 300; serving 60 (the core's lower bound) instead makes the cached key set go stale 54-60 s
 * after a load, so stale-if-error is actually exercised within a short run.
 */
const JWKS_MAX_AGE = CORE.keySetMinAge
/** No request may take longer than one key-set fetch timeout plus this margin. */
const LATENCY_MARGIN_MS = 2500
const LATENCY_BOUND_MS = CORE.fetchTimeout * 1000 + LATENCY_MARGIN_MS
/** A request still unanswered after this is counted as a client-side failure. */
const CLIENT_TIMEOUT_MS = 20_000
/** RSS growth between the end of the steady phase and the end of the run flagged as unbounded. */
const RSS_GROWTH_LIMIT = 0.5
const AUDIENCE = 'https://api.example.com'
const SLOW_MS = 3000

const FRAMEWORKS = {
  express: { dir: 'examples/express', env: {} },
  fastify: { dir: 'examples/fastify', env: {} },
  nestjs: { dir: 'examples/nestjs', env: { NEST_PLATFORM: 'express' } },
  'nestjs-fastify': { dir: 'examples/nestjs', env: { NEST_PLATFORM: 'fastify' } },
}

const VALID_SCOPE = 'orders:read reports:read'
const ADMIN_SCOPE = 'orders:read orders:write orders:admin reports:read admin'
const ROUTES = ['/orders', '/me', '/reports']
const FORGERIES = [
  'forged:foreign-key',
  'forged:alg-none',
  'forged:hs256-public-key',
  'forged:tampered-payload',
]
const RING_SIZE = 200
const SMALL_RING = 32

const { values: args } = parseArgs({
  options: {
    framework: { type: 'string', default: 'all' },
    'phase-seconds': { type: 'string', default: '8' },
    connections: { type: 'string', default: '24' },
    'cold-down-seconds': { type: 'string', default: '6' },
    'budget-minutes': { type: 'string', default: '16' },
    'no-results': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
})
if (args.help) {
  console.log(
    'node scripts/faults/run.mjs [--framework express|fastify|nestjs|nestjs-fastify|all] [--phase-seconds N] [--connections N] [--cold-down-seconds N] [--budget-minutes N] [--no-results]',
  )
  process.exit(0)
}
const selected = args.framework === 'all' ? Object.keys(FRAMEWORKS) : args.framework.split(',')
for (const name of selected) {
  if (!(name in FRAMEWORKS)) {
    console.error(`unknown framework "${name}"; expected ${Object.keys(FRAMEWORKS).join(', ')}`)
    process.exit(2)
  }
}
const PHASE_S = Number(args['phase-seconds'])
const CONNECTIONS = Number(args.connections)
const COLD_DOWN_S = Number(args['cold-down-seconds'])
const BUDGET_MS = Number(args['budget-minutes']) * 60_000
for (const [name, value] of Object.entries({ PHASE_S, CONNECTIONS, COLD_DOWN_S, BUDGET_MS })) {
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`invalid ${name}`)
    process.exit(2)
  }
}

const now = () => performance.now()
const log = (...parts) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...parts)

// ---------------------------------------------------------------------------------------------
// Processes: start an example as a user would, find the server PID, kill only what we started
// ---------------------------------------------------------------------------------------------

/** npm PIDs (each the leader of its own process group) still to reap on exit. */
const started = new Set()

async function freePort() {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()
  server.close()
  await once(server, 'close')
  return port
}

function killGroup(pid) {
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

function parentOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
  } catch {
    return undefined
  }
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ')
  } catch {
    return ''
  }
}

/** The descendant of `rootPid` running `node dist/...`: the server itself, not npm. */
function findServerPid(rootPid) {
  const children = new Map()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const parent = parentOf(entry)
    if (parent === undefined) continue
    if (!children.has(parent)) children.set(parent, [])
    children.get(parent).push(Number(entry))
  }
  const queue = [[rootPid]]
  while (queue.length > 0) {
    const path = queue.shift()
    const pid = path.at(-1)
    if (pid !== rootPid && /\bnode\b.*dist\/(server|main)\.js/.test(cmdline(pid))) {
      const describe = (p) =>
        `${p} ${cmdline(p)
          .replace(/^\S*\/(node|npm)\b/, '$1')
          .slice(0, 60)}`
      return { pid, chain: path.map(describe) }
    }
    for (const child of children.get(pid) ?? []) queue.push([...path, child])
  }
  return { pid: undefined, chain: [String(rootPid)] }
}

function rssKiB(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) : undefined
  } catch {
    return undefined
  }
}

async function startExample(framework, port, issuer) {
  const { dir, env } = FRAMEWORKS[framework]
  const base = { ...process.env }
  for (const name of ['PORT', 'ISSUER', 'AUDIENCE', 'JWKS_URI', 'NEST_PLATFORM']) delete base[name]
  const child = spawn('npm', ['start', '--silent', '--prefix', dir], {
    cwd: repoRoot,
    env: { ...base, ...env, PORT: String(port), ISSUER: issuer, AUDIENCE },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  started.add(child.pid)
  let output = ''
  const exited = new Promise((done) => {
    child.once('exit', (code, signal) => done({ code, signal, at: now() }))
  })
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-20_000)
  }
  child.stderr.on('data', keep)
  const startedAt = now()
  await new Promise((ready, fail) => {
    const timer = setTimeout(() => {
      killGroup(child.pid)
      fail(new Error(`${dir} did not print "listening" in 30 s:\n${output}`))
    }, 30_000)
    child.stdout.on('data', (chunk) => {
      keep(chunk)
      if (/listening/i.test(output)) {
        clearTimeout(timer)
        ready()
      }
    })
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      fail(new Error(`${dir} exited (${code ?? signal}) before listening:\n${output}`))
    })
  })
  const startupMs = now() - startedAt
  let found = findServerPid(child.pid)
  for (let i = 0; found.pid === undefined && i < 20; i++) {
    await sleep(100)
    found = findServerPid(child.pid)
  }
  return {
    npmPid: child.pid,
    serverPid: found.pid,
    chain: found.chain,
    startupMs,
    output: () => output,
    async stop() {
      const target = found.pid ?? child.pid
      const sentAt = now()
      if (child.exitCode === null && child.signalCode === null) process.kill(target, 'SIGTERM')
      const result = await Promise.race([exited, sleep(10_000, undefined)])
      killGroup(child.pid)
      started.delete(child.pid)
      if (result === undefined) return { ok: false, detail: 'ignored SIGTERM for 10 s' }
      const ms = Math.round(result.at - sentAt)
      return {
        ok: result.code === 0,
        detail: `exit ${result.code ?? result.signal} ${ms} ms after SIGTERM`,
      }
    },
  }
}

// ---------------------------------------------------------------------------------------------
// The issuer: a real @bearer-guard/testing issuer on a fixed port, closable and reopenable
// ---------------------------------------------------------------------------------------------

class IssuerHolder {
  port
  issuer
  up = false
  /** Published keys, in order; the JWKS served in normal operation lists exactly these. */
  keys = []
  /** Fault currently set on each endpoint (null: normal), and a label for reports. */
  faults = { jwks: null, discovery: null }
  label = 'normal'
  /** JWKS requests seen: { at, label }. */
  hits = []
  onHit = undefined
  #seen = 0
  #polling = false
  #timer

  constructor(port) {
    this.port = port
  }

  async init() {
    this.issuer = await createTestIssuer({ port: this.port, tokenLifetime: 3600 })
    this.keys = [this.issuer.activeKey]
    this.up = true
    this.#apply()
    this.#timer = setInterval(() => this.poll(), 20)
  }

  get issuerId() {
    return this.issuer.issuer
  }

  /** The port is closed: connections are refused. */
  async close() {
    this.poll()
    this.up = false
    await this.issuer.close()
  }

  /** A fresh server on the same port, publishing the same keys, with the current faults. */
  async reopen() {
    const fresh = await createTestIssuer({ port: this.port, tokenLifetime: 3600 })
    fresh.unpublishKey(fresh.activeKey.kid)
    for (const key of this.keys) fresh.publishKey(key)
    this.issuer = fresh
    this.#seen = 0
    this.up = true
    this.#apply()
  }

  publish(key) {
    this.keys.push(key)
    this.issuer.publishKey(key)
    this.#apply()
  }

  /** Publishes `add` and removes `removeKid` in one JWKS change. */
  replace(add, removeKid) {
    this.keys = [...this.keys.filter((k) => k.kid !== removeKid), add]
    this.issuer.unpublishKey(removeKid)
    this.issuer.publishKey(add)
    this.#apply()
  }

  setFault(endpoint, fault, label) {
    this.poll()
    if (endpoint === 'all' || endpoint === 'jwks') this.faults.jwks = fault
    if (endpoint === 'all' || endpoint === 'discovery') this.faults.discovery = fault
    this.label = label
    this.#apply()
  }

  normal() {
    this.setFault('all', null, 'normal')
  }

  mint(claims, options) {
    return this.issuer.mint(claims, options)
  }

  generateKey() {
    return this.issuer.generateKey()
  }

  poll() {
    // Re-entered when `onHit` changes the fault: the outer loop goes on with the rest.
    if (!this.up || this.#polling) return
    this.#polling = true
    try {
      const count = this.issuer.requests.jwks
      while (this.#seen < count) {
        this.#seen += 1
        const hit = { at: now(), label: this.label }
        this.hits.push(hit)
        this.onHit?.(hit)
      }
    } finally {
      this.#polling = false
    }
  }

  async dispose() {
    clearInterval(this.#timer)
    if (this.up) await this.close()
  }

  #apply() {
    if (!this.up) return
    // Normal operation is served through a `status: 200` "fault" only to set Cache-Control.
    const normal = {
      kind: 'status',
      status: 200,
      body: JSON.stringify({ keys: this.keys.map((k) => k.publicJwk) }),
      headers: { 'content-type': 'application/json', 'cache-control': `max-age=${JWKS_MAX_AGE}` },
    }
    this.issuer.fail('jwks', this.faults.jwks ?? normal)
    this.issuer.fail('discovery', this.faults.discovery)
  }
}

// ---------------------------------------------------------------------------------------------
// Tokens: what the clients send
// ---------------------------------------------------------------------------------------------

const b64json = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
const unb64json = (text) => JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
const pickOne = (list) => list[Math.floor(Math.random() * list.length)]

class Tokens {
  holder
  active
  foreign
  /** Valid tokens: { token, kid }. */
  valid = []
  /** Tokens of keys published while the issuer could not be reached. */
  newKid = []
  /** Tokens of keys no longer published. */
  retired = []
  noScope = []
  forged = new Map()
  /** kid → receive time of the first 200 for a new-kid token (the server has the key). */
  learnedAt = new Map()
  /** The rotation that removed a key: { newKid, retiredKid, at, observedAt }. */
  removal = undefined
  #refilling = false
  #timer

  constructor(holder) {
    this.holder = holder
  }

  async init() {
    this.foreign = await this.holder.generateKey()
    this.active = this.holder.keys[0]
    this.valid = await this.mint(this.active, RING_SIZE, VALID_SCOPE)
    const rings = await this.#forActive(this.active)
    this.noScope = rings.noScope
    this.forged = rings.forged
    // Fresh tokens keep arriving, so signature verification stays on the hot path rather than
    // only the verified-token cache.
    this.#timer = setInterval(() => void this.#refill(), 250)
  }

  stop() {
    clearInterval(this.#timer)
  }

  async mint(key, count, scope) {
    const out = []
    for (let i = 0; i < count; i++) {
      out.push({ token: await this.holder.mint({ scope }, { key }), kid: key.kid })
      if (i % 4 === 3) await tick()
    }
    return out
  }

  async #forActive(key) {
    const noScope = await this.mint(key, SMALL_RING, 'profile')
    const forged = new Map(FORGERIES.map((kind) => [kind, []]))
    for (let i = 0; i < SMALL_RING; i++) {
      const claims = { scope: ADMIN_SCOPE, sub: 'admin' }
      // A key that is not the issuer's, with the issuer's kid.
      forged.get('forged:foreign-key').push(
        await this.holder.mint(claims, {
          key: this.foreign,
          header: { kid: key.kid, alg: key.alg },
        }),
      )
      // The issuer's public key PEM used as an HMAC secret (algorithm confusion).
      forged
        .get('forged:hs256-public-key')
        .push(await this.holder.mint(claims, { key, secret: key.publicKeyPem }))
      // A real token with the payload swapped for an admin one, signature kept.
      const real = await this.holder.mint({ scope: 'profile' }, { key })
      const [header, payload, signature] = real.split('.')
      const escalated = { ...unb64json(payload), ...claims }
      forged.get('forged:tampered-payload').push(`${header}.${b64json(escalated)}.${signature}`)
      // The same claims, unsigned.
      forged.get('forged:alg-none').push(
        encodeToken({
          header: { alg: 'none', typ: 'at+jwt', kid: key.kid },
          payload: escalated,
        }),
      )
      if (i % 4 === 3) await tick()
    }
    return { noScope, forged }
  }

  /** Makes `key` the signing key: new tokens, no-scope and forged tokens use it from now on. */
  async rotateTo(key, { retire } = {}) {
    const fresh = await this.mint(key, RING_SIZE / 2, VALID_SCOPE)
    const rings = await this.#forActive(key)
    // Tokens of the key being removed that clients still hold.
    const held = retire === undefined ? [] : await this.mint(retire, SMALL_RING, VALID_SCOPE)
    return () => {
      // Synchronous switch, done together with the JWKS change.
      this.active = key
      this.noScope = rings.noScope
      this.forged = rings.forged
      if (retire !== undefined) {
        this.retired.push(...held, ...this.valid.filter((t) => t.kid === retire.kid))
        this.valid = this.valid.filter((t) => t.kid !== retire.kid)
      }
      for (const entry of fresh) {
        if (this.valid.length < RING_SIZE) this.valid.push(entry)
        else this.valid[Math.floor(Math.random() * RING_SIZE)] = entry
      }
    }
  }

  async #refill() {
    if (this.#refilling) return
    this.#refilling = true
    try {
      const key = this.active
      const fresh = await this.mint(key, 5, VALID_SCOPE)
      if (this.active !== key) return
      for (const entry of fresh) this.valid[Math.floor(Math.random() * this.valid.length)] = entry
    } finally {
      this.#refilling = false
    }
  }

  /** One request: { kind, path, headers, kid }. */
  pick() {
    const r = Math.random()
    if (r < 0.06 && this.newKid.length > 0) {
      const { token, kid } = pickOne(this.newKid)
      return { kind: 'new-kid', path: pickOne(ROUTES), auth: `Bearer ${token}`, kid }
    }
    if (r >= 0.06 && r < 0.12 && this.retired.length > 0) {
      const { token, kid } = pickOne(this.retired)
      return { kind: 'retired-key', path: pickOne(ROUTES), auth: `Bearer ${token}`, kid }
    }
    if (r >= 0.12 && r < 0.32) {
      const kind = FORGERIES[Math.floor((r - 0.12) / 0.05)]
      return { kind, path: pickOne(ROUTES), auth: `Bearer ${pickOne(this.forged.get(kind))}` }
    }
    if (r >= 0.32 && r < 0.42) {
      const { token, kid } = pickOne(this.noScope)
      return { kind: 'no-scope', path: '/orders', auth: `Bearer ${token}`, kid }
    }
    if (r >= 0.42 && r < 0.52) return { kind: 'no-credentials', path: pickOne(ROUTES) }
    if (r >= 0.52 && r < 0.56) return { kind: 'malformed', path: '/orders', auth: 'Bearer abc def' }
    const { token, kid } = pickOne(this.valid)
    return { kind: 'valid', path: pickOne(ROUTES), auth: `Bearer ${token}`, kid }
  }
}

// ---------------------------------------------------------------------------------------------
// Load and judgement
// ---------------------------------------------------------------------------------------------

function send(agent, port, path, auth) {
  return new Promise((done) => {
    const headers = auth === undefined ? {} : { authorization: auth }
    const req = http.request(
      { host: '127.0.0.1', port, path, method: 'GET', headers, agent },
      (res) => {
        const chunks = []
        let size = 0
        res.on('data', (chunk) => {
          if (size < 1024) chunks.push(chunk)
          size += chunk.length
        })
        res.on('end', () =>
          done({
            status: res.statusCode,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8').slice(0, 600),
          }),
        )
        res.on('error', (error) => done({ status: 0, error: error.message }))
      },
    )
    req.setTimeout(CLIENT_TIMEOUT_MS, () => req.destroy(new Error('client timeout')))
    req.on('error', (error) => done({ status: 0, error: error.message }))
    req.end()
  })
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

class PhaseStats {
  constructor(name, about, options = {}) {
    this.name = name
    this.about = about
    this.options = options
    this.startedAt = now()
    this.endedAt = undefined
    this.total = 0
    this.statuses = new Map()
    this.kinds = new Map()
    this.latencies = []
    this.forgeriesAccepted = 0
    this.other5xx = 0
    this.s503 = 0
    this.netErrors = 0
    this.unexpected = 0
    this.jwks = new Map()
  }

  kind(name) {
    let entry = this.kinds.get(name)
    if (entry === undefined) {
      entry = { count: 0, statuses: new Map(), latencies: [] }
      this.kinds.set(name, entry)
    }
    return entry
  }

  summary() {
    const sorted = Float64Array.from(this.latencies).sort()
    const seconds = ((this.endedAt ?? now()) - this.startedAt) / 1000
    return {
      seconds,
      rps: this.total / seconds,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.length > 0 ? sorted[sorted.length - 1] : 0,
    }
  }
}

const histogram = (map) =>
  [...map.entries()]
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([status, count]) => `${status === 0 ? 'err' : status}:${count}`)
    .join(' ')

/** One framework's run: load, phase bookkeeping, judgement of every response. */
class Run {
  framework
  tokens
  port
  phase
  phases = []
  violations = new Map()
  running = false
  workers = []
  agent
  cold = undefined
  t0 = now()

  constructor(framework, port, tokens) {
    this.framework = framework
    this.port = port
    this.tokens = tokens
    this.agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS })
  }

  begin(name, about, options = {}) {
    this.end()
    this.phase = new PhaseStats(name, about, options)
    this.phases.push(this.phase)
    log(`${this.framework}: phase ${name}`)
    return this.phase
  }

  end() {
    if (this.phase === undefined || this.phase.endedAt !== undefined) return
    this.phase.endedAt = now()
    this.phase.rssKiB = this.rssNow?.()
  }

  start() {
    this.running = true
    for (let i = 0; i < CONNECTIONS; i++) this.workers.push(this.#worker())
  }

  async stop() {
    this.running = false
    await Promise.all(this.workers)
    this.agent.destroy()
  }

  async #worker() {
    while (this.running) {
      const request = this.tokens.pick()
      const phase = this.phase
      const sentAt = now()
      const response = await send(this.agent, this.port, request.path, request.auth)
      this.#judge(phase, request, response, sentAt, now())
    }
  }

  violation(phase, what, detail) {
    const key = `${phase.name} | ${what}`
    let entry = this.violations.get(key)
    if (entry === undefined) {
      entry = { phase: phase.name, what, count: 0, examples: [] }
      this.violations.set(key, entry)
    }
    entry.count += 1
    if (entry.examples.length < 3) entry.examples.push(detail)
  }

  #allowed(phase, request, sentAt, receivedAt) {
    const { kind } = request
    const cold = phase.options.cold
    if (kind === 'no-credentials') return [401]
    if (kind === 'malformed') return [400]
    if (cold !== undefined) {
      const loaded = cold.firstOkAt !== undefined && sentAt > cold.firstOkAt
      const upByReply = cold.upAt !== undefined && receivedAt >= cold.upAt
      const success = kind === 'no-scope' ? 403 : kind === 'valid' ? 200 : 401
      if (loaded) return [success]
      if (kind.startsWith('forged:')) return [401, 503]
      return upByReply ? [success, 503] : [503]
    }
    switch (kind) {
      case 'valid':
        return [200]
      case 'no-scope':
        return [403]
      case 'new-kid': {
        const learned = this.tokens.learnedAt.get(request.kid)
        return learned !== undefined && sentAt > learned ? [200] : [200, 401, 503]
      }
      case 'retired-key': {
        const removal = this.tokens.removal
        const observed = removal?.retiredKid === request.kid && removal.observedAt < sentAt
        return observed ? [401, 503] : [200, 401, 503]
      }
      default:
        return [401]
    }
  }

  #judge(phase, request, response, sentAt, receivedAt) {
    const { status } = response
    const latency = receivedAt - sentAt
    phase.total += 1
    phase.statuses.set(status, (phase.statuses.get(status) ?? 0) + 1)
    phase.latencies.push(latency)
    const kind = phase.kind(request.kind)
    kind.count += 1
    kind.statuses.set(status, (kind.statuses.get(status) ?? 0) + 1)
    kind.latencies.push(latency)

    const at = ((sentAt - this.t0) / 1000).toFixed(2)
    const detail = () => ({
      kind: request.kind,
      route: `GET ${request.path}`,
      kid: request.kid,
      sentAtS: at,
      latencyMs: Math.round(latency),
      status,
      retryAfter: response.headers?.['retry-after'],
      wwwAuthenticate: response.headers?.['www-authenticate'],
      body: response.error ?? response.body,
    })

    // Bookkeeping the expectations depend on.
    if (status === 200 && request.kid !== undefined) {
      if (request.kind === 'new-kid' && !this.tokens.learnedAt.has(request.kid)) {
        this.tokens.learnedAt.set(request.kid, receivedAt)
      }
      const removal = this.tokens.removal
      if (
        removal !== undefined &&
        removal.observedAt === undefined &&
        request.kid === removal.newKid
      ) {
        removal.observedAt = receivedAt
      }
    }
    const cold = phase.options.cold
    if (cold !== undefined && request.kind === 'valid') {
      if (status === 200 && cold.firstOkAt === undefined) cold.firstOkAt = receivedAt
      if (status === 503 && cold.upAt === undefined) cold.down503 += 1
    }

    if (status === 0) {
      phase.netErrors += 1
      this.violation(phase, 'request failed (no HTTP answer)', detail())
      return
    }
    if (request.kind.startsWith('forged:') && status >= 200 && status < 300) {
      phase.forgeriesAccepted += 1
      this.violation(phase, 'FORGERY ACCEPTED', detail())
    }
    if (status >= 500 && status !== 503) {
      phase.other5xx += 1
      this.violation(phase, `5xx other than 503`, detail())
    }
    if (status === 503) {
      phase.s503 += 1
      if (!/^\d+$/.test(String(response.headers['retry-after'] ?? ''))) {
        this.violation(phase, '503 without Retry-After', detail())
      }
    }
    if ([400, 401, 403].includes(status) && !response.headers['www-authenticate']) {
      this.violation(phase, `${status} without WWW-Authenticate`, detail())
    }
    const allowed = this.#allowed(phase, request, sentAt, receivedAt)
    if (!allowed.includes(status)) {
      phase.unexpected += 1
      this.violation(
        phase,
        `${request.kind}: status ${status}, expected ${allowed.join('|')}`,
        detail(),
      )
    }
    if (phase.options.no503 && status === 503) {
      this.violation(phase, '503 after recovery', detail())
    }
    if (latency > LATENCY_BOUND_MS) {
      this.violation(phase, `slower than ${LATENCY_BOUND_MS} ms`, detail())
    }
  }
}

async function waitUntil(predicate, { min = 0, max }) {
  const start = now()
  for (;;) {
    const elapsed = now() - start
    if (elapsed >= max) return predicate()
    if (elapsed >= min && predicate()) return true
    await sleep(100)
  }
}

/** Next attempt after `downMs` of continuous failures: attempts at 0, 1, 3, 7, 15, 31, 61… s. */
function nextAttemptAfter(downMs) {
  let at = 0
  for (let failures = 1; at < downMs; failures++) {
    at += Math.min(CORE.maxBackoff, 2 ** (failures - 1)) * 1000
  }
  return at
}

// ---------------------------------------------------------------------------------------------
// One framework
// ---------------------------------------------------------------------------------------------

/** When the code an example loads was built: dist times of core, adapter and example. */
function buildStamps(framework) {
  const adapter = framework.startsWith('nestjs') ? 'nestjs' : framework
  const entries = [
    ['core', 'packages/core/dist/index.js'],
    [adapter, `packages/${adapter}/dist/index.js`],
    ['example', `${FRAMEWORKS[framework].dir}/dist`],
  ]
  return entries
    .map(([name, path]) => {
      try {
        return `${name} ${statSync(resolve(repoRoot, path)).mtime.toISOString().slice(11, 19)}Z`
      } catch {
        return `${name} missing`
      }
    })
    .join(', ')
}

async function runFramework(framework, budgetEnd) {
  const issuerPort = await freePort()
  const apiPort = await freePort()
  const holder = new IssuerHolder(issuerPort)
  await holder.init()
  const tokens = new Tokens(holder)
  await tokens.init()
  const keyA = holder.keys[0]
  const notes = []

  // Cold start: the issuer's port is closed while the example starts.
  await holder.close()
  const builds = buildStamps(framework)
  const example = await startExample(framework, apiPort, holder.issuerId)
  log(
    `${framework}: example listening on ${apiPort} (npm PID ${example.npmPid}, server PID ${example.serverPid}), issuer ${holder.issuerId}`,
  )
  const rss = []
  const rssTimer = setInterval(() => {
    const kib = rssKiB(example.serverPid ?? example.npmPid)
    if (kib !== undefined) rss.push({ at: now(), kib })
  }, 1000)
  rss.push({ at: now(), kib: rssKiB(example.serverPid ?? example.npmPid) })

  const run = new Run(framework, apiPort, tokens)
  run.rssNow = () => rss.at(-1)?.kib
  const hitsIn = (phase) =>
    holder.hits.filter((h) => h.at >= phase.startedAt && h.at <= (phase.endedAt ?? now()))
  const budget = (ms) => Math.max(1000, Math.min(ms, budgetEnd - now()))
  let rssAfterSteady
  let stop
  try {
    // 0. Cold start
    const cold = { upAt: undefined, firstOkAt: undefined, down503: 0 }
    const p0 = run.begin(
      '0 cold start',
      'Example started while the issuer port is closed; then the issuer comes up.',
      { cold },
    )
    run.start()
    await sleep(COLD_DOWN_S * 1000)
    await holder.reopen()
    cold.upAt = now()
    const recovered = await waitUntil(() => cold.firstOkAt !== undefined, {
      max: budget((CORE.maxBackoff + CORE.fetchTimeout + 5) * 1000),
    })
    await sleep(1500)
    const downMs = cold.upAt - p0.startedAt
    const expectedAt = nextAttemptAfter(downMs)
    const boundMs = expectedAt - downMs + 2000
    const recoveryMs = recovered ? cold.firstOkAt - cold.upAt : Infinity
    p0.coldFigures = { downMs, recoveryMs, boundMs, down503: cold.down503 }
    if (!recovered || recoveryMs > boundMs) {
      run.violation(p0, 'cold start: no 200 within the backoff bound', {
        downMs: Math.round(downMs),
        recoveryMs: Math.round(recoveryMs),
        boundMs: Math.round(boundMs),
      })
    }
    if (cold.down503 === 0) {
      run.violation(p0, 'cold start: no 503 while the issuer was down', {})
    }

    // 1. Steady
    run.begin('1 steady', 'Issuer healthy; keys cached.')
    await sleep(PHASE_S * 1000)
    rssAfterSteady = rss.at(-1)

    // 2. Rotation: B published and signing at once (unknown-kid refetch), then C replaces A.
    const p2 = run.begin(
      '2 rotation',
      'rotate(keepOld) to B and sign with B at once; 32 s later (past the unknown-kid cooldown) publish C, unpublish A, sign with C.',
    )
    const keyB = await holder.generateKey()
    const switchB = await tokens.rotateTo(keyB)
    holder.publish(keyB)
    switchB()
    const rot1 = now()
    const keyC = await holder.generateKey()
    const switchC = await tokens.rotateTo(keyC, { retire: keyA })
    await sleep(Math.max(0, rot1 + (CORE.unknownKeyCooldown + 2) * 1000 - now()))
    holder.replace(keyC, keyA.kid)
    tokens.removal = { newKid: keyC.kid, retiredKid: keyA.kid, at: now(), observedAt: undefined }
    switchC()
    const removed = await waitUntil(() => tokens.removal.observedAt !== undefined, {
      max: budget(10_000),
    })
    if (!removed) run.violation(p2, 'rotation: the new key C was never accepted', {})
    await sleep(3000)
    const loadedAt = tokens.removal.observedAt ?? now()
    notes.push(
      `rotation: C accepted ${Math.round(loadedAt - tokens.removal.at)} ms after publication (unknown-kid refetch)`,
    )

    // 3. Issuer down, until the cached set is past its age and refreshes have failed.
    const keyD = await holder.generateKey()
    const dTokens = await tokens.mint(keyD, SMALL_RING, VALID_SCOPE)
    holder.publish(keyD)
    tokens.newKid.push(...dTokens)
    const downEnd = loadedAt + (JWKS_MAX_AGE + 8) * 1000
    const third = Math.max(2000, (downEnd - now()) * 0.3)
    run.begin(
      '3a down: port closed',
      'Issuer port closed (ECONNREFUSED). Key D published meanwhile.',
    )
    await holder.close()
    await sleep(budget(third))
    run.begin('3b down: connection reset', 'Issuer accepts and resets every connection.')
    holder.setFault('all', { kind: 'reset' }, 'reset')
    await holder.reopen()
    await sleep(budget(third))
    run.begin(
      '3c down: HTTP 503',
      'Issuer answers 503 to discovery and JWKS; the cached set goes stale (age ≥ 54-60 s) here.',
    )
    holder.setFault('all', { kind: 'status', status: 503, body: 'down' }, '503')
    await sleep(budget(Math.max(PHASE_S * 1000, downEnd - now())))

    // 4. Garbage JWKS: each JWKS request gets the next broken answer.
    const keyE = await holder.generateKey()
    const eTokens = await tokens.mint(keyE, SMALL_RING, VALID_SCOPE)
    const garbage = [
      [{ kind: 'garbage' }, 'garbage (HTML as JSON)'],
      [{ kind: 'status', status: 500, body: 'boom' }, 'HTTP 500'],
      [{ kind: 'body', body: '{"keys":"none"}' }, 'wrong shape'],
      [{ kind: 'body', body: '{"keys":[{"kty":"RSA","n":' }, 'truncated JSON'],
    ]
    let next = 0
    const nextGarbage = () => {
      const [fault, label] = garbage[next % garbage.length]
      next += 1
      holder.setFault('jwks', fault, label)
    }
    const p4 = run.begin(
      '4 garbage JWKS',
      'Discovery fine; the JWKS answers garbage, 500, wrong-shape and truncated JSON in turn (next one after each request). Key E published meanwhile.',
    )
    holder.setFault('discovery', null, 'normal')
    nextGarbage()
    holder.publish(keyE)
    tokens.newKid.push(...eTokens)
    holder.onHit = () => nextGarbage()
    await waitUntil(() => hitsIn(p4).length >= 2, { min: PHASE_S * 1000, max: budget(40_000) })
    holder.onHit = undefined

    // 5. Slow issuer: hang (the fetch timeout ends it), then a 3 s delay (slow but successful).
    const p5a = run.begin(
      '5a slow: hang',
      'JWKS requests are accepted and never answered; the 5 s fetch timeout must end each.',
    )
    holder.setFault('jwks', { kind: 'hang' }, 'hang')
    await waitUntil(
      () => {
        const hit = hitsIn(p5a)[0]
        return hit !== undefined && now() > hit.at + (CORE.fetchTimeout + 1.5) * 1000
      },
      { min: PHASE_S * 1000, max: budget(45_000) },
    )
    const p5b = run.begin('5b slow: 3 s delay', `JWKS answers correctly after ${SLOW_MS} ms.`)
    holder.setFault('jwks', { kind: 'delay', ms: SLOW_MS }, `delay ${SLOW_MS} ms`)
    await waitUntil(
      () => {
        const hit = hitsIn(p5b)[0]
        return hit !== undefined && now() > hit.at + SLOW_MS + 1500
      },
      { min: PHASE_S * 1000, max: budget(45_000) },
    )

    // 6. Recovery
    const p6 = run.begin('6 recovery', 'Issuer healthy again: no 503 at all is acceptable.', {
      no503: true,
    })
    holder.normal()
    await waitUntil(() => [keyD, keyE].every((k) => tokens.learnedAt.has(k.kid)), {
      min: PHASE_S * 1000,
      max: budget(40_000),
    })
    for (const key of [keyD, keyE]) {
      if (!tokens.learnedAt.has(key.kid)) {
        run.violation(p6, 'recovery: a key published during the faults was never accepted', {
          kid: key.kid,
        })
      }
    }
    run.end()
  } finally {
    await run.stop()
    tokens.stop()
    clearInterval(rssTimer)
    rss.push({ at: now(), kib: rssKiB(example.serverPid ?? example.npmPid) })
    stop = await example.stop()
    await holder.dispose()
  }
  for (const phase of run.phases) {
    for (const hit of hitsIn(phase)) phase.jwks.set(hit.label, (phase.jwks.get(hit.label) ?? 0) + 1)
  }
  if (!stop.ok) run.violation(run.phases.at(-1), 'SIGTERM: not a clean exit', stop)

  const kib = rss.map((s) => s.kib).filter((v) => v !== undefined)
  const memory = {
    start: kib[0],
    afterSteady: rssAfterSteady?.kib,
    peak: kib.reduce((a, b) => Math.max(a, b), 0),
    end: kib.at(-2) ?? kib.at(-1),
    samples: kib.length,
  }
  memory.growth = memory.end / memory.afterSteady - 1
  if (!(memory.growth <= RSS_GROWTH_LIMIT)) {
    run.violation(run.phases.at(-1), 'RSS: unbounded? growth above 50 % after the steady phase', {
      ...memory,
    })
  }
  return {
    framework,
    phases: run.phases,
    violations: [...run.violations.values()],
    memory,
    stop,
    notes,
    pids: { npm: example.npmPid, server: example.serverPid, chain: example.chain },
    startupMs: example.startupMs,
    builds,
    output: example.output(),
  }
}

// ---------------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------------

const ms = (value) => (value >= 100 ? Math.round(value).toString() : value.toFixed(1))
const mib = (kib) => (kib === undefined ? '?' : (kib / 1024).toFixed(1))

function table(headers, rows) {
  return [
    `| ${headers.join(' | ')} |`,
    `|${headers.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n')
}

function phaseTable(result) {
  return table(
    [
      'phase',
      's',
      'requests',
      'req/s',
      'statuses',
      'forgeries accepted',
      '5xx ≠ 503',
      '503',
      'unexpected',
      'p50 ms',
      'p99 ms',
      'max ms',
      'valid: max ms',
      'JWKS requests (answer)',
      'RSS MiB at end',
    ],
    result.phases.map((p) => {
      const s = p.summary()
      const jwks = [...p.jwks.entries()].map(([label, n]) => `${n}× ${label}`).join(', ') || '0'
      const validMax = (p.kinds.get('valid')?.latencies ?? []).reduce((a, b) => Math.max(a, b), 0)
      return [
        p.name,
        s.seconds.toFixed(1),
        p.total,
        Math.round(s.rps),
        histogram(p.statuses),
        p.forgeriesAccepted,
        p.other5xx,
        p.s503,
        p.unexpected,
        ms(s.p50),
        ms(s.p99),
        ms(s.max),
        ms(validMax),
        jwks,
        mib(p.rssKiB),
      ]
    }),
  )
}

function kindTable(result) {
  const merged = new Map()
  for (const phase of result.phases) {
    for (const [name, k] of phase.kinds) {
      const entry = merged.get(name) ?? { count: 0, statuses: new Map(), latencies: [] }
      entry.count += k.count
      for (const [status, n] of k.statuses)
        entry.statuses.set(status, (entry.statuses.get(status) ?? 0) + n)
      for (const l of k.latencies) entry.latencies.push(l)
      merged.set(name, entry)
    }
  }
  const order = [
    'valid',
    'new-kid',
    'retired-key',
    ...FORGERIES,
    'no-scope',
    'no-credentials',
    'malformed',
  ]
  return table(
    ['request kind', 'requests', 'statuses (whole run)', 'p99 ms', 'max ms'],
    order
      .filter((name) => merged.has(name))
      .map((name) => {
        const k = merged.get(name)
        const sorted = Float64Array.from(k.latencies).sort()
        return [
          name,
          k.count,
          histogram(k.statuses),
          ms(percentile(sorted, 99)),
          ms(sorted.at(-1) ?? 0),
        ]
      }),
  )
}

function frameworkSection(result) {
  const cold = result.phases[0]?.coldFigures
  const m = result.memory
  const lines = [
    `### ${result.framework}`,
    '',
    phaseTable(result),
    '',
    kindTable(result),
    '',
    `- Processes (PID command): ${result.pids.chain.map((c) => `\`${c}\``).join(' → ')}. npm itself does not exec; the script's \`exec node …\` replaces only the shell, so the server is npm's child, found through /proc; its VmRSS is sampled every second.`,
    `- RSS (MiB): start ${mib(m.start)}, after steady ${mib(m.afterSteady)}, peak ${mib(m.peak)}, end ${mib(m.end)} → growth after steady ${(m.growth * 100).toFixed(1)} % (limit ${RSS_GROWTH_LIMIT * 100} %)${m.growth > RSS_GROWTH_LIMIT ? ' **unbounded?**' : ''}.`,
  ]
  if (cold !== undefined) {
    lines.push(
      `- Cold start: issuer down ${(cold.downMs / 1000).toFixed(1)} s (${cold.down503} valid-token requests answered 503 meanwhile); first 200 ${Math.round(cold.recoveryMs)} ms after the issuer came up (bound from the backoff schedule: ${Math.round(cold.boundMs)} ms).`,
    )
  }
  lines.push(
    `- Builds loaded (dist modification times, UTC, when the example started): ${result.builds}.`,
  )
  for (const note of result.notes) lines.push(`- ${note}`)
  lines.push(`- SIGTERM: ${result.stop.detail}.`)
  if (result.violations.length === 0) {
    lines.push('- **All invariants held.**')
  } else {
    lines.push('- **Invariant violations:**', '')
    for (const v of result.violations) {
      lines.push(`  - ${v.phase}: ${v.what} (${v.count}×)`)
      for (const example of v.examples) lines.push(`    - \`${JSON.stringify(example)}\``)
    }
    const tail = result.output.trim().split('\n').slice(-15).join('\n')
    lines.push('', '  Last lines the example printed:', '', '  ```', tail, '  ```')
  }
  return lines.join('\n')
}

function summaryTable(results) {
  return table(
    [
      'framework',
      'requests',
      'forgeries sent',
      'forgeries accepted',
      '5xx ≠ 503',
      '503',
      'max ms',
      'cold-start recovery ms',
      'RSS start/peak/end MiB',
      'verdict',
    ],
    results.map((r) => {
      let total = 0
      let forged = 0
      let accepted = 0
      let other = 0
      let s503 = 0
      let max = 0
      for (const p of r.phases) {
        total += p.total
        accepted += p.forgeriesAccepted
        other += p.other5xx
        s503 += p.s503
        max = Math.max(max, p.summary().max)
        for (const [name, k] of p.kinds) if (name.startsWith('forged:')) forged += k.count
      }
      const cold = r.phases[0]?.coldFigures
      return [
        r.framework,
        total,
        forged,
        accepted,
        other,
        s503,
        ms(max),
        cold === undefined ? '-' : Math.round(cold.recoveryMs),
        `${mib(r.memory.start)} / ${mib(r.memory.peak)} / ${mib(r.memory.end)}`,
        r.violations.length === 0 ? 'pass' : `**FAIL (${r.violations.length})**`,
      ]
    }),
  )
}

function environment(loadBefore, loadAfter, startedAt, seconds) {
  const cpu = os.cpus()
  let commit = '?'
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot })
      .toString()
      .trim()
  } catch {
    // not a git checkout
  }
  return [
    `- Date: ${startedAt.toISOString()} (run took ${Math.round(seconds)} s)`,
    `- Node ${process.version}, ${os.type()} ${os.release()}, ${cpu.length} × ${cpu[0]?.model ?? '?'}`,
    `- Load average (1/5/15 min) before: ${loadBefore.map((v) => v.toFixed(2)).join(' / ')}; after: ${loadAfter.map((v) => v.toFixed(2)).join(' / ')} (other work may share the machine)`,
    `- Commit ${commit} (the working tree may hold uncommitted work; each framework lists the builds it loaded)`,
    `- ${CONNECTIONS} keep-alive connections, closed loop, loopback only; --phase-seconds ${PHASE_S}, cold-start outage ${COLD_DOWN_S} s`,
  ].join('\n')
}

const DESIGN = `## What each phase proves

Timing follows the core's defaults: a JWKS \`max-age\` is honoured within [60 s, 600 s] less up to
10 % jitter, stale keys serve for 6 h while refreshes fail (backoff 1, 2, 4… ≤ 30 s), an unknown
\`kid\` refetches at most once per 30 s (the initial load does not count), and every fetch times out
after 5 s. The test issuer normally says \`max-age=300\`; the script serves the same JWKS with
\`max-age=60\` (through a \`status: 200\` fault carrying the header) so the key set goes stale
54-60 s after its last load and stale-if-error is exercised within the run. The issuer keeps one
port throughout (closing it means a fresh test issuer on the same port with the same keys).

Traffic, per request at random: 44 % valid tokens (fresh ones minted 20/s, so signature
verification stays on the hot path), 6 % tokens of a key published while the issuer was unreachable
(\`new-kid\`), 6 % tokens of a removed key (\`retired-key\`), 20 % forgeries (a foreign key with the
issuer's \`kid\`; \`alg: none\`; HS256 keyed with the issuer's public-key PEM; a real token with an
admin payload swapped in), 10 % valid tokens without the scope (403), 10 % no credentials (401),
4 % a non-token68 Bearer value (400). Routes: \`GET /orders\`, \`/me\`, \`/reports\`.

| phase | issuer | expectation (besides: no forgery accepted, no 5xx but 503, Retry-After on every 503, WWW-Authenticate on 400/401/403, no request over ${LATENCY_BOUND_MS} ms) |
|---|---|---|
| 0 cold start | port closed for ${COLD_DOWN_S} s, then up | token requests: 503 with Retry-After only (never 401 \`invalid_token\`, never 500); once up, the first 200 comes within the backoff schedule's next attempt + 2 s; from then on strict |
| 1 steady | healthy | valid 200, no scope 403, forgeries 401, no credentials 401, malformed 400 |
| 2 rotation | \`rotate(keepOld)\` to B, minting with B at once; 32 s later C published and A unpublished in one JWKS change, minting with C | B and C tokens 200 from their first request (one unknown-kid refetch each, concurrent requests wait for it, the second one is past the 30 s cooldown). A tokens (\`retired-key\`) may pass until the refresh that drops A is observed (the first 200 for C), and must get 401 for every request sent after it. A removed key would otherwise keep verifying until the next refresh (≥ 54 s) |
| 3a/3b/3c down | port closed, then every connection reset, then HTTP 503 on discovery and JWKS, until 68 s after the last load | valid tokens (B, C: cached keys) 200 throughout, including after the set passes its age in 3c (stale-if-error: 3c lasts about 25 s, so at most one of its JWKS requests can be an unknown-kid refetch; the others are the failing background refreshes of the stale set, with their 1, 2, 4… s backoff). Key D is published at 3a: its tokens may get 503 (the unknown-kid refetch failed) or 401 (cooldown) |
| 4 garbage JWKS | discovery fine; JWKS answers HTML-as-JSON, 500, \`{"keys":"none"}\`, truncated JSON in turn (next answer after each request); key E published | stale keys keep serving valid tokens 200; D/E tokens 503/401; nothing else changes |
| 5a hang | JWKS accepts and never answers | valid tokens do not wait for the hung refresh (cached keys answer synchronously: see "valid: max ms"); requests with an unknown \`kid\` wait for the in-flight fetch and get 503 after the 5 s timeout, never longer. The closed-loop rate drops while several connections wait those 5 s |
| 5b 3 s delay | JWKS correct after 3 s | the delayed fetch succeeds (it carries the issuer's own \`max-age=300\`): D and E tokens become 200 |
| 6 recovery | healthy | no 503 at all; D and E tokens 200; A tokens 401 |

Memory: VmRSS of the server process (the \`node dist/…\` child of \`npm start\`, found through
/proc) every second; growth above 50 % between the end of phase 1 and the end of the run is
flagged "unbounded?". SIGTERM must end the server with status 0 within 10 s.`

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

function reapAll() {
  for (const pid of started) killGroup(pid)
  started.clear()
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping the example processes`)
    reapAll()
    process.exit(130)
  })
}
process.on('exit', reapAll)

const startedAt = new Date()
const t0 = now()
const budgetEnd = t0 + BUDGET_MS
const watchdog = setTimeout(() => {
  console.error(`time budget of ${args['budget-minutes']} min exceeded: aborting`)
  reapAll()
  process.exit(3)
}, BUDGET_MS + 60_000)
const loadBefore = os.loadavg()
log(
  `fault scenario: ${selected.join(', ')}; load average ${loadBefore.map((v) => v.toFixed(2)).join(' ')}`,
)

const results = []
let crashed
for (const framework of selected) {
  try {
    const result = await runFramework(framework, budgetEnd)
    results.push(result)
    console.log(`\n${frameworkSection(result)}\n`)
  } catch (error) {
    crashed = error
    console.error(`${framework}: the scenario itself failed:`, error)
    reapAll()
    break
  }
}
clearTimeout(watchdog)
const loadAfter = os.loadavg()
const seconds = (now() - t0) / 1000
const failed = crashed !== undefined || results.some((r) => r.violations.length > 0)

const report = [
  '# Load under issuer faults: results',
  '',
  'Produced by `node scripts/faults/run.mjs` (issue 5). Re-run it to refresh this file.',
  '',
  environment(loadBefore, loadAfter, startedAt, seconds),
  '',
  '## Summary',
  '',
  summaryTable(results),
  '',
  crashed === undefined ? '' : `**The scenario aborted:** ${String(crashed)}\n`,
  DESIGN,
  '',
  '## Per framework',
  '',
  results.map(frameworkSection).join('\n\n'),
  '',
].join('\n')

console.log(`## Summary\n\n${summaryTable(results)}\n`)
if (!args['no-results']) {
  const out = resolve(here, 'RESULTS.md')
  let text = report
  try {
    // The repository checks every file with Prettier: write it formatted.
    const prettier = await import('prettier')
    const config = (await prettier.resolveConfig(out)) ?? {}
    text = await prettier.format(report, { ...config, filepath: out })
  } catch (error) {
    log(`RESULTS.md left unformatted: ${String(error)}`)
  }
  writeFileSync(out, text)
  log(`wrote ${relative(process.cwd(), out)}`)
}
log(failed ? 'FAILED: see the violations above' : 'all invariants held')
process.exit(failed ? 1 : 0)
