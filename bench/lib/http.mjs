// HTTP benchmarks: each server in its own child process (servers/*.mjs), the load from autocannon
// in this process. The variants of one framework are measured in interleaved rounds, so noise on
// the machine spreads over every variant alike.
import { fork } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { median, settings } from './common.mjs'

const SERVERS = fileURLToPath(new URL('../servers/', import.meta.url))

const bg = (file) => [
  { id: 'bg-on', label: 'bearer-guard, cache on', file, env: { BENCH_TOKEN_CACHE: 'on' } },
  { id: 'bg-off', label: 'bearer-guard, cache off', file, env: { BENCH_TOKEN_CACHE: 'off' } },
]

/**
 * Every server, by framework. `peer` rows are what bearer-guard's cache-off rows must beat;
 * `reference` rows are shown for context only; `open` rows do not authenticate (checked for 200
 * only).
 */
export const FRAMEWORKS = {
  express: {
    label: 'Express 5',
    variants: [
      { id: 'bare', label: 'bare (no auth)', file: 'express-bare', open: true },
      ...bg('express-bearer-guard'),
      {
        id: 'express-oauth2-jwt-bearer',
        label: 'express-oauth2-jwt-bearer',
        file: 'express-oauth2-jwt-bearer',
        peer: true,
      },
      { id: 'express-jwt', label: 'express-jwt + jwks-rsa', file: 'express-jwt', peer: true },
    ],
  },
  fastify: {
    label: 'Fastify 5',
    variants: [
      { id: 'bare', label: 'bare (no auth)', file: 'fastify-bare', open: true },
      ...bg('fastify-bearer-guard'),
      { id: 'fastify-jwt', label: '@fastify/jwt + get-jwks', file: 'fastify-jwt', peer: true },
      {
        id: 'fastify-jwt-static',
        label: '@fastify/jwt, static key (no JWKS)',
        file: 'fastify-jwt',
        env: { BENCH_KEY: 'static' },
        // Shown for reference, not a peer: a key baked in at start-up cannot follow rotation.
        reference: true,
      },
    ],
  },
  nestjs: {
    label: 'NestJS 11 (Express)',
    variants: [
      { id: 'bare', label: 'bare (no auth)', file: 'nestjs-bare', open: true },
      ...bg('nestjs-bearer-guard'),
      {
        id: 'passport',
        label: '@nestjs/passport + passport-jwt + jwks-rsa',
        file: 'nestjs-passport',
        peer: true,
      },
    ],
  },
}

/** Child processes still running, for clean-up on any exit path. */
export const children = new Set()

/**
 * Starts `servers/<file>.mjs` with the issuer's settings; resolves with its port. Its stderr is
 * kept (last 4 KiB) to explain a failure.
 */
export function startServer(file, issuer, env = {}) {
  // No NODE_ENV: express-oauth2-jwt-bearer refuses an http:// issuer in production.
  const inherited = { ...process.env }
  delete inherited.NODE_ENV
  const child = fork(`${SERVERS}${file}.mjs`, {
    env: {
      ...inherited,
      BENCH_ISSUER: issuer.issuer,
      BENCH_JWKS_URI: issuer.jwksUri,
      BENCH_PUBLIC_KEY_PEM: issuer.activeKey.publicKeyPem,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  })
  children.add(child)
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4096)
  })
  const stop = () =>
    new Promise((resolve) => {
      children.delete(child)
      if (child.exitCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill()
    })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file}: not listening after 30 s`)), 30_000)
    child.once('message', ({ port }) => {
      clearTimeout(timer)
      resolve({
        url: `http://127.0.0.1:${port}/orders`,
        pid: child.pid,
        stop,
        stderr: () => stderr,
      })
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      children.delete(child)
      reject(new Error(`${file} exited (${code}) before listening:\n${stderr}`))
    })
  })
}

/**
 * CPU time a process has used so far, in µs (user, system), from /proc; undefined where there is
 * no /proc. Clock ticks are 10 ms, so only differences over whole runs are meaningful.
 */
export function cpuTime(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return { user: Number(fields[11]) * 10_000, system: Number(fields[12]) * 10_000 }
  } catch {
    return undefined
  }
}

/**
 * Checks that a server does what its row claims before it is measured: 200 with a good token,
 * and unless `open`, 401 without a token, 403 without the scope and 401 with a forged signature.
 */
export async function checkServer(url, tokens, open) {
  const forged = tokens.good.slice(0, -4) + (tokens.good.endsWith('AAAA') ? 'BBBB' : 'AAAA')
  const cases = [
    [tokens.good, 200],
    [undefined, open ? 200 : 401],
    [tokens.noScope, open ? 200 : 403],
    [forged, open ? 200 : 401],
  ]
  for (const [token, expected] of cases) {
    const headers = token === undefined ? {} : { authorization: `Bearer ${token}` }
    const response = await fetch(url, { headers })
    await response.arrayBuffer()
    if (response.status !== expected) {
      throw new Error(`${url}: expected ${expected}, got ${response.status}`)
    }
  }
}

/**
 * One autocannon run. With several tokens each connection cycles through all of them, so 1,000
 * tokens are 1,000 distinct clients. The requests are prebuilt (no per-request `setupRequest`),
 * so rotating tokens cost the load generator nothing more than one token.
 */
export async function load(url, tokens, seconds) {
  const options = {
    url,
    connections: settings.http.connections,
    duration: seconds,
    headers: { authorization: `Bearer ${tokens[0]}` },
  }
  if (tokens.length > 1) {
    options.requests = tokens.map((token) => ({ headers: { authorization: `Bearer ${token}` } }))
  }
  const result = await autocannon(options)
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    total: result.requests.total,
    bad: result.non2xx + result.errors + result.timeouts,
  }
}

/**
 * Measures every variant of one framework with 1 token and with the rotating tokens: `runs`
 * interleaved rounds, median req/s and median p99 kept. Every run starts a fresh server process:
 * how V8 compiles a server's hot path differs from one process to the next (by up to ±15 % for
 * the same code, see ANALYSIS.md), so a median over one process per run measures the code, where
 * a single process per variant would measure that process's luck.
 */
export async function benchFramework({ label, variants }, issuer, tokens, log) {
  const { runs, seconds, warmupSeconds } = settings.http
  const modes = { single: [tokens.good], rotating: tokens.rotating }
  const entries = variants.map((variant) => ({ variant, samples: { single: [], rotating: [] } }))
  for (let run = 0; run < runs; run++) {
    // Each run starts one variant later, so no variant always follows the same one.
    const order = entries.map((_, i) => entries[(i + run) % entries.length])
    for (const entry of order) {
      const server = await startServer(entry.variant.file, issuer, entry.variant.env)
      try {
        await checkServer(server.url, tokens, entry.variant.open === true)
        // Warm-up: keys fetched, JIT warm, caches as they are after a while in production.
        for (const list of Object.values(modes)) await load(server.url, list, warmupSeconds)
        for (const [mode, list] of Object.entries(modes)) {
          const before = cpuTime(server.pid)
          const sample = await load(server.url, list, seconds)
          const after = cpuTime(server.pid)
          if (before !== undefined && after !== undefined && sample.total > 0) {
            // The server's own CPU time per request: tells a slower server from a busier one.
            sample.cpu = {
              user: (after.user - before.user) / sample.total,
              system: (after.system - before.system) / sample.total,
            }
          }
          if (sample.bad > 0) {
            throw new Error(
              `${label}/${entry.variant.id}: ${sample.bad} failed requests\n${server.stderr()}`,
            )
          }
          entry.samples[mode].push(sample)
        }
      } finally {
        await server.stop()
      }
    }
    log(`  ${label}: round ${run + 1}/${runs} done`)
  }
  return {
    label,
    rows: entries.map(({ variant, samples }) => ({
      id: variant.id,
      label: variant.label,
      peer: variant.peer === true,
      reference: variant.reference === true,
      ...Object.fromEntries(
        Object.entries(samples).map(([mode, list]) => [
          mode,
          {
            rps: median(list.map((s) => s.rps)),
            p99: median(list.map((s) => s.p99)),
            samples: list.map((s) => Math.round(s.rps)),
            cpu: list.every((s) => s.cpu !== undefined)
              ? {
                  user: median(list.map((s) => s.cpu.user)),
                  system: median(list.map((s) => s.cpu.system)),
                }
              : undefined,
          },
        ]),
      ),
    })),
  }
}
