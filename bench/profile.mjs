// Where does a verification spend its time? Profiles one microbenchmark candidate with
// `node --cpu-prof` and prints the functions with the most self time.
//
//   node bench/profile.mjs [core-off|core-hit|floor|dpop] [RS256|PS256|ES256|EdDSA] [seconds]
//
// `dpop`: DPoP requests through core's `verifyRequestCallback`, the RS256 access token cached and
// every proof (by a key of the given algorithm) fresh, as lib/dpop.mjs measures them.
//
// The profile itself is left in bench/results/profiles/ (open it in Chrome DevTools).
import { Buffer } from 'node:buffer'
import { spawnSync } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { constants, verify as cryptoVerify } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { MemoryReplayStore, createAccessTokenValidator } from '@bearer-guard/core'
import { verifyRequestCallback } from '@bearer-guard/core/adapter'
import { createTestIssuer, generateDpopKey } from '@bearer-guard/testing'
import { bearerGuardOptions } from './lib/common.mjs'

const [candidate = 'core-off', alg = 'RS256', seconds = '5'] = process.argv.slice(2)
const DIR = fileURLToPath(new URL('./results/profiles/', import.meta.url))

/**
 * DPoP requests as lib/dpop.mjs makes them: a pool of proofs, one validator whose replay store hands
 * each claim to a fresh MemoryReplayStore for every pass over the pool.
 */
async function dpopWorkload() {
  const issuer = await createTestIssuer({ algorithm: 'RS256', tokenLifetime: 3600 })
  const key = await generateDpopKey(alg)
  const token = await issuer.mint({ scope: 'orders:read' }, { dpop: key })
  const origin = 'https://api.example.com'
  const htu = `${origin}/orders`
  const authorization = `DPoP ${token}`
  const done = (error, auth) => {
    if (auth === undefined) throw error ?? new Error('no result')
  }
  // Made once, before the profiled loop (a proof is accepted for 60 s, by each store once).
  const proofs = await Promise.all(
    Array.from({ length: 2000 }, () => key.proof({ htm: 'GET', htu, accessToken: token })),
  )
  let replay = new MemoryReplayStore()
  const validator = createAccessTokenValidator({
    ...bearerGuardOptions(issuer.issuer, 'on'),
    dpop: { origin, replayStore: { claimOnce: (...args) => replay.claimOnce(...args) } },
  })
  await validator.ready()
  await validator.verify(token)
  const end = Date.now() + Number(seconds) * 1000
  let ops = 0
  const start = performance.now()
  while (Date.now() < end) {
    replay = new MemoryReplayStore()
    for (const dpop of proofs) {
      const headers = { authorization, dpop }
      verifyRequestCallback(validator, { method: 'GET', url: '/orders', headers }, done)
    }
    ops += proofs.length
  }
  const elapsed = performance.now() - start
  console.log(`dpop ${alg}: ${Math.round(ops / (elapsed / 1000))} requests/s`)
  await issuer.close()
}

async function workload() {
  if (candidate === 'dpop') return dpopWorkload()
  const issuer = await createTestIssuer({ algorithm: alg, tokenLifetime: 3600 })
  const tokens = await Promise.all(
    Array.from({ length: 2000 }, () => issuer.mint({ scope: 'orders:read' })),
  )
  let verify
  if (candidate === 'floor') {
    const key = {
      key: issuer.activeKey.publicKey,
      ...(alg === 'PS256' ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : {}),
      ...(alg === 'ES256' ? { dsaEncoding: 'ieee-p1363' } : {}),
    }
    const hash = alg === 'EdDSA' ? null : 'sha256'
    verify = (token) => {
      const dot = token.lastIndexOf('.')
      const first = token.indexOf('.')
      JSON.parse(Buffer.from(token.slice(0, first), 'base64url').toString())
      JSON.parse(Buffer.from(token.slice(first + 1, dot), 'base64url').toString())
      const data = Buffer.from(token.slice(0, dot))
      cryptoVerify(hash, data, key, Buffer.from(token.slice(dot + 1), 'base64url'))
    }
  } else {
    const validator = createAccessTokenValidator(
      bearerGuardOptions(issuer.issuer, candidate === 'core-hit' ? 'on' : 'off'),
    )
    await validator.ready()
    verify = (token) => validator.verify(token)
  }
  const list = candidate === 'core-hit' ? [tokens[0]] : tokens
  const end = Date.now() + Number(seconds) * 1000
  let ops = 0
  while (Date.now() < end) {
    for (const token of list) await verify(token)
    ops += list.length
  }
  console.log(`${candidate} ${alg}: ${Math.round(ops / Number(seconds))} verifications/s`)
  await issuer.close()
}

function summarize(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const self = new Map()
  const interval = (profile.endTime - profile.startTime) / profile.samples.length
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const counts = new Map()
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1)
  let total = 0
  for (const [id, count] of counts) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame
    const where =
      url === ''
        ? ''
        : ` ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(packages|bench)\//, '$1/')}:${lineNumber + 1}`
    const name = `${functionName || '(anonymous)'}${where}`
    self.set(name, (self.get(name) ?? 0) + count)
    total += count
  }
  const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 20)
  console.log(`\nTop self time (${total} samples, ~${Math.round(interval)} µs each):`)
  for (const [name, count] of top) {
    console.log(`${((count / total) * 100).toFixed(1).padStart(5)} %  ${name}`)
  }
}

if (process.env.BENCH_PROFILE_CHILD === '1') {
  await workload()
} else {
  mkdirSync(DIR, { recursive: true })
  const started = Date.now()
  const run = spawnSync(
    process.execPath,
    [
      '--cpu-prof',
      '--cpu-prof-interval=100',
      `--cpu-prof-dir=${DIR}`,
      fileURLToPath(import.meta.url),
      candidate,
      alg,
      seconds,
    ],
    { stdio: 'inherit', env: { ...process.env, BENCH_PROFILE_CHILD: '1' } },
  )
  if (run.status !== 0) process.exit(run.status ?? 1)
  const latest = readdirSync(DIR)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => `${DIR}${name}`)
    .filter((path) => statSync(path).mtimeMs >= started)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]
  summarize(latest)
}
