// DPoP (RFC 9449) and the Redis replay check (issue 11), in two parts:
//
// - the microbenchmark: run as a child process of run.mjs (like micro.mjs), it measures DPoP
//   requests through core's `verifyRequestCallback` (token cached, a fresh proof per call) against
//   the floor "cached token + one crypto.verify of the proof", in interleaved rounds;
// - HTTP (`benchDpopHttp`, in the orchestrator; autocannon, 50 connections, as http.mjs): Fastify
//   with Bearer requests with DPoP off and allowed, and DPoP requests with the in-memory and with
//   the Redis replay store, on a real redis-server started on a free loopback port.
//
// Every DPoP request carries its own proof (a distinct `jti`), made beforehand with
// @bearer-guard/testing's `generateDpopKey(alg).proof(...)`, outside the timed windows: a proof is
// accepted once, and signing them while measuring would load the client (see README.md).
import { Buffer } from 'node:buffer'
import { spawn, spawnSync } from 'node:child_process'
import { constants, verify as cryptoVerify } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MemoryReplayStore, createAccessTokenValidator } from '@bearer-guard/core'
import { verifyRequestCallback } from '@bearer-guard/core/adapter'
import { createTestIssuer, generateDpopKey } from '@bearer-guard/testing'
import autocannon from 'autocannon'
import { SCOPE, bearerGuardOptions, median, settings, sleep } from './common.mjs'
import { children, cpuTime, startServer } from './http.mjs'

/** The origin clients use (`dpop.origin`); proofs' `htu` is it plus the route's path. */
export const ORIGIN = 'https://api.example.com'
const PATH = '/orders'
const HTU = `${ORIGIN}${PATH}`
/** Core accepts a proof for 60 s after its `iat` (`dpop.maxAge`); older pools are remade. */
const PROOF_REFRESH_MS = 30_000

/** node:crypto parameters per proof algorithm, as core verifies them. */
const CRYPTO = {
  ES256: { hash: 'sha256', options: { dsaEncoding: 'ieee-p1363' } },
  EdDSA: { hash: null, options: {} },
  RS256: { hash: 'sha256', options: {} },
  PS256: {
    hash: 'sha256',
    options: {
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    },
  },
}

/** Throws a refusal out of the callback, so a benchmark never counts one as a verification. */
function expectVerified(error, auth) {
  if (auth === undefined) throw error ?? new Error('no result')
}

/** A proof for GET /orders with `token`, by `key`: a fresh `jti` and `iat` each time. */
function makeProof(key, token) {
  return key.proof({ htm: 'GET', htu: HTU, accessToken: token })
}

function makeProofs(key, token, count) {
  return Promise.all(Array.from({ length: count }, () => makeProof(key, token)))
}

// ---------------------------------------------------------------------------------------------
// Microbenchmark (child process)

const { roundMs: ROUND_MS } = settings.micro
const { rounds: ROUNDS, proofs: PROOFS, algorithms } = settings.dpop

/** Remakes the pool's proofs (outside any timed window) and their pre-split signing inputs. */
async function fillPool(pool) {
  pool.made = Date.now()
  pool.proofs = await makeProofs(pool.key, pool.token, PROOFS)
  pool.split = pool.proofs.map((proof) => {
    const dot = proof.lastIndexOf('.')
    return [Buffer.from(proof.slice(0, dot)), Buffer.from(proof.slice(dot + 1), 'base64url')]
  })
}

/** A validator (token cache on, defaults otherwise), keys loaded and `token` already cached. */
async function cachedValidator(issuer, token, dpop, replayStore) {
  const validator = createAccessTokenValidator({
    ...bearerGuardOptions(issuer.issuer, 'on'),
    ...(dpop ? { dpop: { origin: ORIGIN, ...(replayStore ? { replayStore } : {}) } } : {}),
  })
  await validator.ready()
  await validator.verify(token)
  return validator
}

/** One request through `verifyRequestCallback`, as an adapter makes it. */
function request(validator, authorization, proof) {
  const headers = proof === undefined ? { authorization } : { authorization, dpop: proof }
  verifyRequestCallback(validator, { method: 'GET', url: PATH, headers }, expectVerified)
}

/** Throws unless `fn` is refused with `code`. */
function expectRefused(what, code, fn) {
  try {
    fn()
  } catch (error) {
    if (error?.code === code) return
    throw new Error(`${what}: expected ${code}, got ${error?.code ?? error}`)
  }
  throw new Error(`${what}: expected ${code}, but it was accepted`)
}

async function microCandidates(issuer) {
  const bearerToken = await issuer.mint({ scope: SCOPE })
  const bearer = `Bearer ${bearerToken}`
  const plain = await cachedValidator(issuer, bearerToken, false)
  const withDpop = await cachedValidator(issuer, bearerToken, true)
  const list = [
    {
      id: 'bearer',
      label: 'cached Bearer request, DPoP off',
      alg: '-',
      make: () => () => request(plain, bearer),
    },
    {
      id: 'bearer-dpop',
      label: 'cached Bearer request, DPoP allowed',
      alg: '-',
      make: () => () => request(withDpop, bearer),
    },
  ]
  for (const alg of algorithms) {
    const crypto = CRYPTO[alg]
    if (crypto === undefined)
      throw new Error(`BENCH_DPOP_ALGS: ${alg} is not one of ${Object.keys(CRYPTO)}`)
    const key = await generateDpopKey(alg)
    const token = await issuer.mint({ scope: SCOPE }, { dpop: key })
    const pool = { key, token }
    await fillPool(pool)
    const dpop = `DPoP ${token}`
    const proofKey = { key: key.publicKey, ...crypto.options }
    const verifyProof = (i) => {
      const [data, signature] = pool.split[i]
      if (!cryptoVerify(crypto.hash, data, proofKey, signature)) throw new Error('signature')
    }

    // Correctness first: a fresh proof is accepted once (RFC 9449 §11.1), a bound token is
    // refused as Bearer (§7.2), and the floor's signature check accepts every proof.
    const check = await cachedValidator(issuer, token, true)
    request(check, dpop, pool.proofs[0])
    expectRefused(`${alg}: replayed proof`, 'ERR_DPOP_PROOF_INVALID', () =>
      request(check, dpop, pool.proofs[0]),
    )
    expectRefused(`${alg}: bound token as Bearer`, 'ERR_TOKEN_BINDING_MISMATCH', () =>
      request(check, `Bearer ${token}`),
    )
    for (let i = 0; i < PROOFS; i++) verifyProof(i)

    list.push(
      {
        id: 'proof-crypto',
        label: 'crypto.verify of the proof only',
        alg,
        pool,
        make: () => verifyProof,
      },
      {
        id: 'floor',
        label: 'floor: cached Bearer request + crypto.verify of the proof',
        alg,
        pool,
        make: () => (i) => {
          request(plain, bearer)
          verifyProof(i)
        },
      },
      {
        id: 'dpop',
        label: 'DPoP request, token cached, fresh proof',
        alg,
        pool,
        // One validator, as the floor's, whose replay store is core's MemoryReplayStore, a fresh
        // one for every pass over the pool (through a store that hands each claim to the current
        // one: one call more per request): each proof is new to the store it meets. Building a
        // validator per pass instead left its garbage (key sets, caches, the JWKS fetch) to the
        // timed passes that followed.
        fresh: true,
        make: async () => {
          pool.replay = new MemoryReplayStore()
          pool.validator ??= await cachedValidator(issuer, token, true, {
            claimOnce: (id, expiresAt, issuedAt) => pool.replay.claimOnce(id, expiresAt, issuedAt),
          })
          const validator = pool.validator
          return (i) => request(validator, dpop, pool.proofs[i])
        },
      },
    )
  }
  return list
}

/** Passes over the pool for about ROUND_MS; returns calls per second. */
async function round(candidate) {
  const { pool } = candidate
  if (pool !== undefined && Date.now() - pool.made > PROOF_REFRESH_MS) await fillPool(pool)
  // Run with --expose-gc (run.mjs): the previous candidate's garbage is collected here, outside
  // the timed window; each candidate's own garbage is collected in its own.
  globalThis.gc?.()
  let ops = 0
  let elapsed = 0n
  const budget = BigInt(ROUND_MS) * 1_000_000n
  while (elapsed < budget) {
    if (candidate.fresh || candidate.verify === undefined) candidate.verify = await candidate.make()
    const verify = candidate.verify
    const start = process.hrtime.bigint()
    for (let i = 0; i < PROOFS; i++) verify(i)
    elapsed += process.hrtime.bigint() - start
    ops += PROOFS
  }
  return ops / (Number(elapsed) / 1e9)
}

async function micro() {
  const started = Date.now()
  const issuer = await createTestIssuer({ algorithm: 'RS256', tokenLifetime: 3600 })
  try {
    const all = (await microCandidates(issuer)).map((c) => ({ ...c, samples: [] }))
    // Warm-up: one round of everything, discarded.
    for (const candidate of all) await round({ ...candidate, verify: undefined })
    for (let r = 0; r < ROUNDS; r++) {
      // Each round starts one candidate later, so none always follows the same one (and pays
      // for its garbage: the DPoP rows leave validators, keys and replay entries behind).
      for (let i = 0; i < all.length; i++) {
        const candidate = all[(i + r) % all.length]
        candidate.samples.push(await round(candidate))
      }
    }
    return {
      proofs: PROOFS,
      rounds: ROUNDS,
      roundMs: ROUND_MS,
      seconds: (Date.now() - started) / 1000,
      results: all.map(({ id, label, alg, samples }) => ({
        id,
        label,
        alg,
        opsPerSecond: median(samples),
        samples,
      })),
    }
  } finally {
    await issuer.close()
  }
}

// ---------------------------------------------------------------------------------------------
// A real redis-server, as packages/redis/test/support/redis-server.ts starts one (that file is
// TypeScript, which Node 20 does not import): a free loopback port, no persistence, stopped by PID.

async function freePort() {
  const server = createServer()
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Sends one inline command; resolves with the raw reply once it is complete. */
export function redisCommand(port, command) {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' })
    let reply = Buffer.alloc(0)
    socket.setTimeout(2000, () => {
      socket.destroy()
      reject(new Error(`redis: no answer to ${command}`))
    })
    socket.once('error', reject)
    socket.once('connect', () => socket.write(`${command}\r\n`))
    socket.on('data', (chunk) => {
      reply = Buffer.concat([reply, chunk])
      const text = reply.toString()
      const end = text.indexOf('\r\n')
      if (end < 0) return
      // A bulk string ($<length>) is complete after its length and the final CRLF.
      if (text[0] === '$' && reply.length < end + 2 + Number(text.slice(1, end)) + 2) return
      socket.destroy()
      resolve(text)
    })
  })
}

/** Starts redis-server on a free port of 127.0.0.1; resolves once it answers PING. */
export async function startRedis() {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error('redis-server is not installed (apt-get install redis-server)', {
      cause: probe.error,
    })
  }
  const dir = mkdtempSync(join(tmpdir(), 'bearer-guard-bench-redis-'))
  // A port found free may be taken before the server binds it: try a few.
  for (let attempt = 0; ; attempt++) {
    const port = await freePort()
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly']
    args.push('no', '--dir', dir, '--loglevel', 'warning')
    const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] })
    children.add(child)
    let stderr = ''
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    const stop = async () => {
      children.delete(child)
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGKILL')
        await exited
      }
    }
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline && child.exitCode === null) {
      const pong = await redisCommand(port, 'PING').catch(() => '')
      if (pong.startsWith('+PONG')) {
        return {
          port,
          url: `redis://127.0.0.1:${port}`,
          pid: child.pid,
          async stop() {
            await stop()
            rmSync(dir, { recursive: true, force: true })
          },
        }
      }
      await sleep(20)
    }
    await stop()
    if (attempt >= 4) {
      rmSync(dir, { recursive: true, force: true })
      throw new Error(`redis-server did not answer PING on port ${port}: ${stderr.trim()}`)
    }
  }
}

/**
 * Script runs Redis has completed so far: each replay claim is one, an `EVALSHA` (or, when Redis
 * did not hold the script yet, a failed `EVALSHA` and an `EVAL`).
 */
async function evalCalls(port) {
  const info = await redisCommand(port, 'INFO commandstats')
  const stat = (name, field) =>
    Number(new RegExp(`cmdstat_${name}:[^\r\n]*\\b${field}=(\\d+)`).exec(info)?.[1] ?? 0)
  return stat('eval', 'calls') + stat('evalsha', 'calls') - stat('evalsha', 'failed_calls')
}

// ---------------------------------------------------------------------------------------------
// HTTP (orchestrator)

const HTTP_VARIANTS = [
  { id: 'bearer-off', label: 'Bearer, DPoP off', kind: 'bearer', env: { BENCH_DPOP: 'off' } },
  {
    id: 'bearer-allowed',
    label: 'Bearer, DPoP allowed (in-memory replay store)',
    kind: 'bearer',
    env: { BENCH_DPOP: 'allowed' },
  },
  {
    id: 'dpop-memory',
    label: 'DPoP, ES256 proofs, in-memory replay store',
    kind: 'dpop',
    env: { BENCH_DPOP: 'allowed' },
  },
  {
    id: 'dpop-redis',
    label: 'DPoP, ES256 proofs, Redis replay store',
    kind: 'dpop',
    env: { BENCH_DPOP: 'allowed', BENCH_REPLAY: 'redis' },
    redis: true,
  },
]

/** Requests per 1-connection run of the DPoP rows (latency without queueing). */
const IDLE_REQUESTS = 500

/** Nearest-rank percentile of a sorted Float64Array (p in 0..100). */
function rank(sorted, p) {
  return sorted.length === 0
    ? Number.NaN
    : sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]
}

/**
 * One autocannon run. Bearer: `seconds` long, one prebuilt request. DPoP: `amount` requests, each
 * taking the next pre-made proof in `setupRequest` (an array read: the client signs nothing). The
 * latencies are kept from every response, in ms with µs resolution (autocannon's own histogram
 * rounds to whole ms).
 */
async function load(
  url,
  { connections = settings.http.connections, seconds, amount, authorization, proofs },
) {
  const options = { url, connections }
  if (proofs === undefined) {
    options.duration = seconds
    options.headers = { authorization }
  } else {
    let next = 0
    options.amount = amount
    options.requests = [
      {
        setupRequest(req) {
          req.headers.authorization = authorization
          req.headers.dpop = proofs[next++]
          return req
        },
      },
    ]
  }
  const times = []
  let last = 0n
  const start = process.hrtime.bigint()
  const tracker = autocannon(options)
  tracker.on('response', (_client, _status, _bytes, ms) => {
    times.push(ms)
    last = process.hrtime.bigint()
  })
  const result = await tracker
  const sorted = Float64Array.from(times).sort()
  return {
    // Not `result.duration`: an `amount` run ends on autocannon's next 1-second tick.
    rps: times.length / (Number(last - start) / 1e9),
    p50: rank(sorted, 50),
    p99: rank(sorted, 99),
    total: times.length,
    bad: result.non2xx + result.errors + result.timeouts,
  }
}

/**
 * Checks a server does what its row claims: Bearer 200/401/403 as in http.mjs; with DPoP allowed,
 * a fresh proof 200, the same proof again 401 (RFC 9449 §11.1), no proof 401, the bound token
 * as Bearer 401 (§7.2); with DPoP off, a DPoP request 401.
 */
async function checkServer(url, variant, tokens, freshProof) {
  const expect = async (what, headers, status) => {
    const response = await fetch(url, { headers })
    await response.arrayBuffer()
    if (response.status !== status) {
      throw new Error(`${variant.id}: ${what}: expected ${status}, got ${response.status}`)
    }
  }
  await expect('Bearer token', { authorization: `Bearer ${tokens.good}` }, 200)
  await expect('no token', {}, 401)
  await expect('Bearer token without the scope', { authorization: `Bearer ${tokens.noScope}` }, 403)
  const dpop = { authorization: `DPoP ${tokens.bound}`, dpop: await freshProof() }
  if (variant.env.BENCH_DPOP === 'off') return expect('DPoP request, DPoP off', dpop, 401)
  await expect('DPoP request with a fresh proof', dpop, 200)
  await expect('the same proof again (replay)', dpop, 401)
  await expect('DPoP request without a proof', { authorization: dpop.authorization }, 401)
  await expect('DPoP-bound token sent as Bearer', { authorization: `Bearer ${tokens.bound}` }, 401)
}

/** CPU µs per request of `pid` between two `cpuTime` readings, user + system. */
function cpuPerRequest(before, after, requests) {
  if (before === undefined || after === undefined || requests === 0) return undefined
  return (after.user - before.user + after.system - before.system) / requests
}

/**
 * The HTTP rows on Fastify 5, `runs` interleaved rounds, a fresh server process per run (see
 * http.mjs `benchFramework`): median req/s, p50, p99, and the per-run values for paired ratios.
 */
export async function benchDpopHttp(log) {
  const { runs, seconds, warmupSeconds, connections } = settings.http
  const { requests, warmupRequests } = settings.dpop
  // Proofs a run may take beyond `amount`: each connection builds one request ahead.
  const spare = 2 * connections + 10
  const issuer = await createTestIssuer({ algorithm: 'RS256', tokenLifetime: 3600 })
  let redis
  try {
    redis = await startRedis()
    const key = await generateDpopKey('ES256')
    const tokens = {
      good: await issuer.mint({ scope: SCOPE }),
      noScope: await issuer.mint({ scope: 'orders:write' }),
      bound: await issuer.mint({ scope: SCOPE }, { dpop: key }),
    }
    const proofs = (count) => makeProofs(key, tokens.bound, count + spare)
    const entries = HTTP_VARIANTS.map((variant) => ({ variant, samples: [] }))
    for (let run = 0; run < runs; run++) {
      const order = entries.map((_, i) => entries[(i + run) % entries.length])
      for (const entry of order) {
        const { variant } = entry
        const env = { ...variant.env, BENCH_DPOP_ORIGIN: ORIGIN }
        if (variant.redis) {
          env.BENCH_REDIS_URL = redis.url
          env.BENCH_REDIS_NAMESPACE = `bench:${process.pid}:${run}`
        }
        const server = await startServer('fastify-dpop', issuer, env)
        try {
          await checkServer(server.url, variant, tokens, () => makeProof(key, tokens.bound))
          const fail = (sample) => {
            if (sample.bad > 0) {
              throw new Error(
                `DPoP/${variant.id}: ${sample.bad} failed requests\n${server.stderr()}`,
              )
            }
          }
          let sample
          if (variant.kind === 'bearer') {
            const authorization = `Bearer ${tokens.good}`
            fail(await load(server.url, { seconds: warmupSeconds, authorization }))
            const before = cpuTime(server.pid)
            sample = await load(server.url, { seconds, authorization })
            sample.cpu = cpuPerRequest(before, cpuTime(server.pid), sample.total)
            fail(sample)
          } else {
            const authorization = `DPoP ${tokens.bound}`
            const warm = await proofs(warmupRequests)
            fail(await load(server.url, { amount: warmupRequests, authorization, proofs: warm }))
            const list = await proofs(requests)
            const calls = variant.redis ? await evalCalls(redis.port) : 0
            const before = [cpuTime(server.pid), cpuTime(redis.pid)]
            sample = await load(server.url, { amount: requests, authorization, proofs: list })
            const after = [cpuTime(server.pid), cpuTime(redis.pid)]
            sample.cpu = cpuPerRequest(before[0], after[0], sample.total)
            if (variant.redis) {
              sample.redisCpu = cpuPerRequest(before[1], after[1], sample.total)
              // Every accepted request claimed its proof in Redis: one script run each (EVALSHA).
              const claims = (await evalCalls(redis.port)) - calls
              if (claims < sample.total) {
                throw new Error(
                  `DPoP/${variant.id}: ${claims} claims in Redis for ${sample.total} requests`,
                )
              }
            }
            fail(sample)
            // Latency without queueing: one connection.
            const idle = await proofs(IDLE_REQUESTS)
            sample.idle = await load(server.url, {
              connections: 1,
              amount: IDLE_REQUESTS,
              authorization,
              proofs: idle,
            })
            fail(sample.idle)
          }
          entry.samples.push(sample)
        } finally {
          await server.stop()
        }
      }
      log(`  DPoP HTTP: round ${run + 1}/${runs} done`)
    }
    const med = (list, pick) => {
      const values = list.map(pick).filter((v) => v !== undefined)
      return values.length === list.length ? median(values) : undefined
    }
    return {
      label: 'Fastify 5',
      connections,
      requests,
      seconds,
      runs,
      rows: entries.map(({ variant, samples }) => ({
        id: variant.id,
        label: variant.label,
        kind: variant.kind,
        rps: median(samples.map((s) => s.rps)),
        p50: median(samples.map((s) => s.p50)),
        p99: median(samples.map((s) => s.p99)),
        cpu: med(samples, (s) => s.cpu),
        redisCpu: med(samples, (s) => s.redisCpu),
        cpus: samples.map((s) => s.cpu),
        samples: samples.map((s) => Math.round(s.rps)),
        p50s: samples.map((s) => s.p50),
        p99s: samples.map((s) => s.p99),
        idle:
          variant.kind === 'dpop'
            ? {
                requests: IDLE_REQUESTS,
                p50: median(samples.map((s) => s.idle.p50)),
                p99: median(samples.map((s) => s.idle.p99)),
                p50s: samples.map((s) => s.idle.p50),
                p99s: samples.map((s) => s.idle.p99),
              }
            : undefined,
      })),
    }
  } finally {
    await redis?.stop()
    await issuer.close()
  }
}

// Run as a child process of run.mjs (`BENCH_ONLY=dpop`): the microbenchmark.
if (process.send !== undefined && process.argv[1] === fileURLToPath(import.meta.url)) {
  micro().then(
    (result) => process.send({ ok: true, result }, () => process.exit(0)),
    (error) => {
      console.error(error)
      process.send({ ok: false, error: String(error?.stack ?? error) }, () => process.exit(1))
    },
  )
}
