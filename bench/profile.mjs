// Where does a verification spend its time? Profiles one microbenchmark candidate with
// `node --cpu-prof` and prints the functions with the most self time.
//
//   node bench/profile.mjs [core-off|core-hit|floor] [RS256|PS256|ES256|EdDSA] [seconds]
//
// The profile itself is left in bench/results/profiles/ (open it in Chrome DevTools).
import { Buffer } from 'node:buffer'
import { spawnSync } from 'node:child_process'
import { constants, verify as cryptoVerify } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createAccessTokenValidator } from '@bearer-guard/core'
import { createTestIssuer } from '@bearer-guard/testing'
import { bearerGuardOptions } from './lib/common.mjs'

const [candidate = 'core-off', alg = 'RS256', seconds = '5'] = process.argv.slice(2)
const DIR = fileURLToPath(new URL('./results/profiles/', import.meta.url))

async function workload() {
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
