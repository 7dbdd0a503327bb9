// What a DPoP request costs above its floor, "cached token + one crypto.verify of the proof"
// (issue 11), without the proof's signature check in the way: on this machine rounds of an RS256
// request vary by ±8 % on their own, more than the few µs of work being measured.
//
//   node bench/dpop-overhead.mjs [time|instructions] [core-build-dir…]
//
// `time` (the default): in one process, node:crypto's `verify` is replaced by a function that
// answers true (through `syncBuiltinESMExports`, after every key is loaded and every check below
// has passed with the real one), then a cached Bearer request and a DPoP request (RS256 token in
// the cache, a fresh RS256 proof from a pool of 2,000, core's MemoryReplayStore, fresh per pass)
// go through `verifyRequestCallback`, in interleaved passes (BENCH_OVERHEAD_ROUNDS, 61). Prints
// the median ns per request: the DPoP row minus the Bearer row is what core adds for DPoP besides
// the signature check.
//
// `instructions`: callgrind counts of the real thing, per request, for the floor (a cached Bearer
// request plus crypto.verify of a pre-split proof) and for the DPoP request, each in a child
// process run for N1 and N2 requests (BENCH_INSTR_N1, BENCH_INSTR_N2: 4,000 and 16,000) with
// `--single-threaded`; the difference over N2 - N1 is the count per request. About 2 minutes per
// build. Counts are stable on a busy machine but are not time (see uncached.mjs).
//
// Core builds: the built `@bearer-guard/core`, then every other build named on the command line,
// for A/B comparisons (`npx tsc -p packages/core/tsconfig.build.json --outDir /tmp/core-before`
// before a change, say, and `node bench/dpop-overhead.mjs time /tmp/core-before`).
import { Buffer } from 'node:buffer'
import { createPublicKey, verify as cryptoVerify } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire, syncBuiltinESMExports } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { callgrindInstructions } from './lib/callgrind.mjs'
import { AUDIENCE, median } from './lib/common.mjs'

const env = process.env
const HERE = fileURLToPath(new URL('.', import.meta.url))
const ORIGIN = 'https://api.example.com'
const PROOFS = 2000

/** Core's public entry and adapter subpath from a build directory, or the installed package. */
async function loadCore(build) {
  if (build === '@bearer-guard/core') {
    return {
      ...(await import('@bearer-guard/core')),
      ...(await import('@bearer-guard/core/adapter')),
    }
  }
  const dir = pathToFileURL(path.resolve(build) + path.sep)
  return {
    ...(await import(new URL('index.js', dir).href)),
    ...(await import(new URL('adapter.js', dir).href)),
  }
}

/** Throws a refusal out of the callback: a refused request must never be counted. */
function expectVerified(error, auth) {
  if (auth === undefined) throw error ?? new Error('no result')
}

/**
 * The two requests of one core build, on the data made by the parent: `bearer(i)` and `dpop(i)`,
 * and `fresh()`, which gives the DPoP validator a new replay store (before each pass).
 */
async function requests(core, data) {
  const options = { issuer: data.issuer, audience: AUDIENCE, keys: data.publicKeyPem }
  const plain = core.createAccessTokenValidator(options)
  await plain.verify(data.bearer)
  let replay = new core.MemoryReplayStore()
  const withDpop = core.createAccessTokenValidator({
    ...options,
    // maxAge: the proofs are made once, and a callgrind run takes minutes.
    dpop: {
      origin: ORIGIN,
      maxAge: 3600,
      replayStore: { claimOnce: (...args) => replay.claimOnce(...args) },
    },
  })
  await withDpop.verify(data.token)
  const bearer = `Bearer ${data.bearer}`
  const dpop = `DPoP ${data.token}`
  return {
    fresh: () => {
      replay = new core.MemoryReplayStore()
    },
    bearer: () =>
      core.verifyRequestCallback(
        plain,
        { method: 'GET', url: '/orders', headers: { authorization: bearer } },
        expectVerified,
      ),
    dpop: (i) =>
      core.verifyRequestCallback(
        withDpop,
        { method: 'GET', url: '/orders', headers: { authorization: dpop, dpop: data.proofs[i] } },
        expectVerified,
      ),
  }
}

/** Every request of a build accepted once with the real crypto.verify, before anything is timed. */
function check(calls) {
  calls.fresh()
  for (let i = 0; i < PROOFS; i++) {
    calls.bearer()
    calls.dpop(i)
  }
  calls.fresh()
}

// ---------------------------------------------------------------------------------------------
// Child (instructions): N requests of one candidate under callgrind, then exit.

if (env.BENCH_OVERHEAD_CHILD !== undefined) {
  const data = JSON.parse(readFileSync(env.BENCH_OVERHEAD_DATA, 'utf8'))
  const count = Number(env.BENCH_OVERHEAD_N)
  const calls = await requests(await loadCore(env.BENCH_OVERHEAD_BUILD), data)
  let run
  if (env.BENCH_OVERHEAD_CHILD === 'floor') {
    const key = { key: createPublicKey({ key: data.proofJwk, format: 'jwk' }) }
    const split = data.proofs.map((proof) => {
      const dot = proof.lastIndexOf('.')
      return [Buffer.from(proof.slice(0, dot)), Buffer.from(proof.slice(dot + 1), 'base64url')]
    })
    run = (i) => {
      calls.bearer()
      if (!cryptoVerify('sha256', split[i][0], key, split[i][1])) throw new Error('signature')
    }
  } else run = calls.dpop
  for (let i = 0; i < count; i++) {
    if (i % PROOFS === 0) calls.fresh()
    run(i % PROOFS)
  }
  process.exit(0)
}

// ---------------------------------------------------------------------------------------------
// Parent.

const [mode = 'time', ...extra] = process.argv.slice(2)
if (mode !== 'time' && mode !== 'instructions') {
  throw new TypeError('usage: node bench/dpop-overhead.mjs [time|instructions] [core-build-dir…]')
}
const builds = ['@bearer-guard/core', ...extra]
const { createTestIssuer, generateDpopKey } = await import('@bearer-guard/testing')
const issuer = await createTestIssuer({ algorithm: 'RS256', tokenLifetime: 36_000 })
let data
try {
  const key = await generateDpopKey('RS256')
  const token = await issuer.mint({ scope: 'orders:read' }, { dpop: key })
  data = {
    issuer: issuer.issuer,
    publicKeyPem: issuer.activeKey.publicKeyPem,
    bearer: await issuer.mint({ scope: 'orders:read' }),
    token,
    proofJwk: key.publicKey.export({ format: 'jwk' }),
    proofs: await Promise.all(
      Array.from({ length: PROOFS }, () =>
        key.proof({ htm: 'GET', htu: `${ORIGIN}/orders`, accessToken: token }),
      ),
    ),
  }
} finally {
  await issuer.close()
}

if (mode === 'time') {
  const rounds = Number(env.BENCH_OVERHEAD_ROUNDS ?? 61)
  const candidates = []
  for (const build of builds) {
    const calls = await requests(await loadCore(build), data)
    check(calls)
    candidates.push({ label: `${build}: cached Bearer request`, pass: () => calls.bearer(), calls })
    candidates.push({ label: `${build}: DPoP request`, pass: calls.dpop, calls })
  }
  // From here on no signature is checked: every module's `verify` from node:crypto answers true.
  const crypto = createRequire(import.meta.url)('node:crypto')
  crypto.verify = () => true
  syncBuiltinESMExports()
  for (const candidate of candidates) candidate.samples = []
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < candidates.length; k++) {
      const candidate = candidates[(k + r) % candidates.length]
      candidate.calls.fresh()
      const start = process.hrtime.bigint()
      for (let i = 0; i < PROOFS; i++) candidate.pass(i)
      candidate.samples.push(Number(process.hrtime.bigint() - start) / PROOFS)
    }
  }
  console.log(`ns per request, crypto.verify answering true (median of ${rounds} passes):`)
  for (const { label, samples } of candidates) {
    console.log(`${String(Math.round(median(samples))).padStart(7)}  ${label}`)
  }
} else {
  const n1 = Number(env.BENCH_INSTR_N1 ?? 4000)
  const n2 = Number(env.BENCH_INSTR_N2 ?? 16_000)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bearer-guard-dpop-overhead-'))
  const file = path.join(dir, 'data.json')
  writeFileSync(file, JSON.stringify(data))
  try {
    const rows = [['floor', builds[0]], ...builds.map((build) => ['dpop', build])]
    const counts = await Promise.all(
      rows.map(async ([child, build]) => {
        const [a, b] = await Promise.all([n1, n2].map((n) => collected(child, build, file, n)))
        return (b - a) / (n2 - n1)
      }),
    )
    console.log(`instructions per request (callgrind, ${n2} - ${n1} requests):`)
    rows.forEach(([child, build], i) => {
      const label =
        child === 'floor' ? 'floor: cached Bearer + crypto.verify' : `DPoP request, ${build}`
      const above = child === 'floor' ? '' : `  (+${Math.round(counts[i] - counts[0])})`
      console.log(`${String(Math.round(counts[i])).padStart(9)}  ${label}${above}`)
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Instructions of one child run of `count` requests, counted by callgrind. */
function collected(child, build, file, count) {
  const childEnv = {
    BENCH_OVERHEAD_CHILD: child,
    BENCH_OVERHEAD_BUILD: build,
    BENCH_OVERHEAD_DATA: file,
    BENCH_OVERHEAD_N: String(count),
  }
  return callgrindInstructions(`${HERE}dpop-overhead.mjs`, childEnv, child)
}
