// Core's uncached RS256 verification against the floor (issue 10: ≥ 0.90×), on its own, so that
// one change to the miss path can be measured without a whole bench run.
//
//   node bench/uncached.mjs [time|instructions] [core-build-dir…]
//
// Candidates: `crypto` (crypto.verify alone on pre-split input), `floor` (the floor of
// lib/micro.mjs: split, base64url and JSON decoding, crypto.verify with the same key argument,
// alg/iss/aud/exp), and core with its token cache off, awaited one verification at a time as
// lib/micro.mjs does: the built `@bearer-guard/core`, then every other build of core named on the
// command line, for A/B comparisons (build one with
// `npx tsc -p packages/core/tsconfig.build.json --outDir /tmp/core-before`, say, before a change).
// Every candidate verifies the same 1,000 tokens of a test issuer, in turn; core fetches the
// issuer's keys over loopback first, as in the bench.
//
// `time` (the default): interleaved rounds (round 1 of every candidate, then round 2…), each
// BENCH_UNCACHED_COUNT verifications (5,000), BENCH_UNCACHED_ROUNDS rounds (30). A round is
// timed by the process's CPU time (user + system), not the wall clock: on a shared machine
// another process's work then slows a round but is not counted in it. Prints the median µs per
// verification and the median of the per-round ratios to the floor.
//
// `instructions`: each candidate in a child process under valgrind's callgrind, for N1 and N2
// verifications (BENCH_INSTR_N1, BENCH_INSTR_N2: 4,000 and 14,000), with `--single-threaded`; the
// difference over N2 - N1 is the count per verification, BENCH_INSTR_REPEATS times (3); about 15
// minutes for three candidates. Counts are stable on a busy machine but are not time: valgrind's
// CPU lacks the SHA and AVX-512 extensions, so OpenSSL's RSA and SHA-256 run other code than
// natively, and the JavaScript around them runs at another instructions-per-cycle rate than the
// bignum code.
import { Buffer } from 'node:buffer'
import { verify as cryptoVerify } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { callgrindInstructions } from './lib/callgrind.mjs'
import { AUDIENCE, median } from './lib/common.mjs'

const env = process.env
const HERE = fileURLToPath(new URL('.', import.meta.url))

/** The floor of lib/micro.mjs for RS256, verbatim: what any correct verifier must do at least. */
function floorVerifier(publicKey, issuer) {
  const key = { key: publicKey }
  return (token) => {
    const first = token.indexOf('.')
    const second = token.indexOf('.', first + 1)
    const header = JSON.parse(Buffer.from(token.slice(0, first), 'base64url').toString())
    if (header.alg !== 'RS256') throw new Error('alg')
    const payload = JSON.parse(Buffer.from(token.slice(first + 1, second), 'base64url').toString())
    const signature = Buffer.from(token.slice(second + 1), 'base64url')
    const data = Buffer.from(token.slice(0, second))
    if (!cryptoVerify('sha256', data, key, signature)) throw new Error('signature')
    if (payload.iss !== issuer || payload.aud !== AUDIENCE) throw new Error('claims')
    if (!(payload.exp > Date.now() / 1000)) throw new Error('exp')
    return payload
  }
}

/** crypto.verify alone on pre-split input (lib/micro.mjs `cryptoOnly`). */
function cryptoOnly(publicKey, tokens) {
  const key = { key: publicKey }
  const split = tokens.map((token) => {
    const dot = token.lastIndexOf('.')
    return [Buffer.from(token.slice(0, dot)), Buffer.from(token.slice(dot + 1), 'base64url')]
  })
  return (i) => {
    const [data, signature] = split[i]
    if (!cryptoVerify('sha256', data, key, signature)) throw new Error('signature')
  }
}

/** Core from a build directory (or the package), cache off, keys loaded. */
async function coreVerifier(from, issuer) {
  const entry = from === '@bearer-guard/core' ? from : pathToFileURL(path.resolve(from, 'index.js'))
  const { createAccessTokenValidator } = await import(entry)
  const validator = createAccessTokenValidator({
    issuer,
    audience: AUDIENCE,
    tokenCache: false,
  })
  await validator.ready()
  return (token) => validator.verify(token)
}

/** The candidates, each as (i) => verification of tokens[i] (a promise for core). */
async function candidates(data, publicKey, builds) {
  const { tokens, issuer } = data
  const floor = floorVerifier(publicKey, issuer)
  const list = [
    { id: 'crypto', label: 'crypto.verify only', run: cryptoOnly(publicKey, tokens) },
    {
      id: 'floor',
      label: 'floor: crypto.verify + parse + iss/aud/exp',
      run: (i) => floor(tokens[i]),
    },
  ]
  for (const from of builds) {
    const verify = await coreVerifier(from, issuer)
    await verify(tokens[0])
    list.push({
      id: from,
      label: `core, cache off (${from})`,
      run: (i) => verify(tokens[i]),
      async: true,
    })
  }
  return list
}

// ---------------------------------------------------------------------------------------------
// Child: N verifications of one candidate under callgrind, then exit.

if (env.BENCH_UNCACHED_CHILD !== undefined) {
  const data = JSON.parse(readFileSync(env.BENCH_UNCACHED_DATA, 'utf8'))
  const { createPublicKey } = await import('node:crypto')
  const publicKey = createPublicKey(data.publicKeyPem)
  const which = env.BENCH_UNCACHED_CHILD
  const builds = which === 'crypto' || which === 'floor' ? [] : [which]
  const [candidate] = (await candidates(data, publicKey, builds)).filter((c) => c.id === which)
  const count = Number(env.BENCH_UNCACHED_N)
  const size = data.tokens.length
  if (candidate.async) for (let i = 0; i < count; i++) await candidate.run(i % size)
  else for (let i = 0; i < count; i++) candidate.run(i % size)
  process.exit(0)
}

// ---------------------------------------------------------------------------------------------
// Parent.

const [mode = 'time', ...extra] = process.argv.slice(2)
if (mode !== 'time' && mode !== 'instructions') {
  throw new TypeError('usage: node bench/uncached.mjs [time|instructions] [core-build-dir…]')
}
const builds = ['@bearer-guard/core', ...extra]
const { createTestIssuer } = await import('@bearer-guard/testing')
const issuer = await createTestIssuer({ algorithm: 'RS256', tokenLifetime: 36_000 })
try {
  const tokens = await Promise.all(
    Array.from({ length: 1000 }, () => issuer.mint({ scope: 'orders:read' })),
  )
  const data = { tokens, issuer: issuer.issuer, publicKeyPem: issuer.activeKey.publicKeyPem }
  if (mode === 'time') await timeRounds(data)
  else await countInstructions(data)
} finally {
  await issuer.close()
}

async function timeRounds(data) {
  const COUNT = Number(env.BENCH_UNCACHED_COUNT ?? 5000)
  const ROUNDS = Number(env.BENCH_UNCACHED_ROUNDS ?? 30)
  const list = await candidates(data, issuer.activeKey.publicKey, builds)
  const size = data.tokens.length
  async function round(candidate) {
    const before = process.cpuUsage()
    if (candidate.async) for (let i = 0; i < COUNT; i++) await candidate.run(i % size)
    else for (let i = 0; i < COUNT; i++) candidate.run(i % size)
    const used = process.cpuUsage(before)
    return (used.user + used.system) / COUNT
  }
  for (const candidate of list) {
    candidate.samples = []
    await round(candidate) // warm-up, discarded
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const candidate of list) candidate.samples.push(await round(candidate))
  }
  const floor = list.find((c) => c.id === 'floor').samples
  console.log(`| RS256, ${ROUNDS} rounds of ${COUNT}, CPU time | µs per verification | × floor |`)
  console.log('| --- | ---: | ---: |')
  for (const c of list) {
    const ratio = median(c.samples.map((s, i) => floor[i] / s))
    console.log(`| ${c.label} | ${median(c.samples).toFixed(2)} | ${ratio.toFixed(3)}× |`)
  }
}

async function countInstructions(data) {
  const N1 = Number(env.BENCH_INSTR_N1 ?? 4000)
  const N2 = Number(env.BENCH_INSTR_N2 ?? 14_000)
  const REPEATS = Number(env.BENCH_INSTR_REPEATS ?? 3)
  const dir = mkdtempSync(`${os.tmpdir()}/bearer-guard-uncached-`)
  try {
    const file = `${dir}/data.json`
    writeFileSync(file, JSON.stringify(data))
    const ids = ['crypto', 'floor', ...builds]
    const counts = Object.fromEntries(ids.map((id) => [id, []]))
    for (let r = 0; r < REPEATS; r++) {
      for (const id of ids) {
        const a = await collected(id, file, N1)
        const b = await collected(id, file, N2)
        counts[id].push(Math.round((b - a) / (N2 - N1)))
        console.error(`${id}: ${counts[id].at(-1).toLocaleString('en-US')}`)
      }
    }
    console.log(`| RS256, N1 ${N1}, N2 ${N2} | instructions per verification (median) | runs |`)
    console.log('| --- | ---: | --- |')
    for (const id of ids) {
      const runs = counts[id].map((n) => n.toLocaleString('en-US')).join(', ')
      console.log(`| ${id} | ${median(counts[id]).toLocaleString('en-US')} | ${runs} |`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Instructions of one child run of `count` verifications, counted by callgrind. */
function collected(id, file, count) {
  const childEnv = {
    BENCH_UNCACHED_CHILD: id,
    BENCH_UNCACHED_DATA: file,
    BENCH_UNCACHED_N: String(count),
  }
  return callgrindInstructions(`${HERE}uncached.mjs`, childEnv, id)
}
