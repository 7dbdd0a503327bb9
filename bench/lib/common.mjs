// Shared by the orchestrator, the child processes and the servers: settings, statistics and the
// bearer-guard option adapter.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const AUDIENCE = 'https://api.example.com'
export const SCOPE = 'orders:read'
export const ORDERS = [{ id: 1, item: 'book' }]

const env = process.env
const QUICK = env.BENCH_QUICK === '1'

function number(name, fallback) {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0)
    throw new TypeError(`${name} must be a positive number`)
  return value
}

/** Every knob of the run. Defaults keep a full run under fifteen minutes on two cores. */
export const settings = Object.freeze({
  quick: QUICK,
  only: (env.BENCH_ONLY ?? '').split(',').filter(Boolean),
  deadlineSeconds: number('BENCH_DEADLINE_S', QUICK ? 240 : 1200),
  micro: {
    tokens: number('BENCH_MICRO_TOKENS', QUICK ? 500 : 2000),
    rounds: number('BENCH_MICRO_ROUNDS', QUICK ? 3 : 9),
    roundMs: number('BENCH_MICRO_ROUND_MS', QUICK ? 80 : 150),
    algorithms: (env.BENCH_MICRO_ALGS ?? 'RS256,PS256,ES256,EdDSA').split(','),
  },
  http: {
    connections: number('BENCH_CONNECTIONS', 50),
    seconds: number('BENCH_HTTP_SECONDS', QUICK ? 1 : 1.5),
    runs: number('BENCH_HTTP_RUNS', QUICK ? 1 : 5),
    warmupSeconds: number('BENCH_HTTP_WARMUP_S', QUICK ? 0.5 : 1),
    rotatingTokens: number('BENCH_HTTP_TOKENS', 1000),
    frameworks: (env.BENCH_FRAMEWORKS ?? 'express,fastify,nestjs').split(','),
  },
  stampede: {
    requests: number('BENCH_STAMPEDE_REQUESTS', 1000),
    repeats: number('BENCH_STAMPEDE_REPEATS', QUICK ? 1 : 3),
  },
  memory: {
    tokens: number('BENCH_MEMORY_TOKENS', QUICK ? 200_000 : 1_000_000),
    tenants: number('BENCH_MEMORY_TENANTS', 10_000),
  },
  dpop: {
    // Proof algorithms of the microbenchmark (the HTTP rows use ES256).
    algorithms: (env.BENCH_DPOP_ALGS ?? 'ES256,EdDSA,RS256').split(','),
    // Interleaved rounds of the microbenchmark: more than `micro` has, as its rows compare a JS
    // overhead of a few µs with one signature check, and rounds on this machine vary by ±8 %.
    rounds: number('BENCH_DPOP_ROUNDS', QUICK ? 3 : 21),
    // Pre-made proofs per algorithm (microbenchmark), each used once per replay store.
    proofs: number('BENCH_DPOP_PROOFS', QUICK ? 500 : 2000),
    // DPoP requests per HTTP run (each with its own pre-made proof), and per warm-up.
    requests: number('BENCH_DPOP_REQUESTS', QUICK ? 1500 : 4000),
    warmupRequests: number('BENCH_DPOP_WARMUP_REQUESTS', QUICK ? 500 : 1000),
  },
})

/** True when this phase should run (`BENCH_ONLY=micro,http` selects phases). */
export function phaseEnabled(name) {
  return settings.only.length === 0 || settings.only.includes(name)
}

// ---------------------------------------------------------------------------------------------
// The verified-token cache of core: `tokenCache: false | { maxEntries }`, on by default.

/**
 * Whether the installed core build knows the `tokenCache` option. Until it does, "cache on" rows
 * measure the same code as "cache off" and are labelled "pending".
 */
export const tokenCacheSupported = (() => {
  const entry = import.meta.resolve('@bearer-guard/core')
  // Where the built core declares its option names: since core's stages, options/; before, one file.
  for (const file of ['./options/validator-options.js', './options.js']) {
    try {
      if (readFileSync(fileURLToPath(new URL(file, entry)), 'utf8').includes('tokenCache')) {
        return true
      }
    } catch {
      // Not in this layout; try the next.
    }
  }
  return false
})()

/**
 * The validator options for one cache setting. `on` passes nothing (the default is on), `off`
 * passes `tokenCache: false`; every other option stays at its default.
 */
export function bearerGuardOptions(issuer, cache) {
  const options = { issuer, audience: AUDIENCE }
  return cache === 'off' ? { ...options, tokenCache: false } : options
}

// ---------------------------------------------------------------------------------------------
// Statistics

export function median(values) {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values, p) {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[rank - 1]
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
