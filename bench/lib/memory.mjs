// Memory, run with --expose-gc in a child process of run.mjs: heap after N distinct tokens went
// through one validator with the default cache settings, against the same with the cache off.
//
// A million asymmetric signatures take minutes to make and to verify, so the tokens are HS256,
// signed here with node:crypto, one at a time (never all held in memory). What the cache holds
// per token does not depend on the algorithm (a SHA-256 of the token as key, the verified result
// and a reference to the key), except for the claims; the payload carries a realistic claim set
// and a `pad` claim bringing each token to the length of an RS256 token (~750 characters).
/* global gc */
import { Buffer } from 'node:buffer'
import { createHmac } from 'node:crypto'
import { createAccessTokenValidator } from '@bearer-guard/core'
import { AUDIENCE, settings } from './common.mjs'

const ISSUER = 'https://issuer.example.com'
const SECRET = 'bench-secret-bench-secret-bench-secret!!'
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'at+jwt' })).toString('base64url')
const RS256_TOKEN_LENGTH = 750

function tokenFactory() {
  const now = Math.floor(Date.now() / 1000)
  const claims = (i, pad) => ({
    iss: ISSUER,
    sub: `user-${i}`,
    aud: AUDIENCE,
    client_id: 'bench-client',
    scope: 'orders:read orders:write',
    iat: now,
    exp: now + 3600,
    jti: `${i}`.padStart(12, '0'),
    pad,
  })
  const make = (i, pad) => {
    const body = `${HEADER}.${Buffer.from(JSON.stringify(claims(i, pad))).toString('base64url')}`
    return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`
  }
  const pad = 'x'.repeat(
    Math.max(0, Math.floor(((RS256_TOKEN_LENGTH - make(0, '').length) * 3) / 4)),
  )
  return { make: (i) => make(i, pad), length: make(0, pad).length }
}

function heapMiB() {
  gc()
  gc()
  return process.memoryUsage().heapUsed / 2 ** 20
}

async function measure(cache, count) {
  const options = { issuer: ISSUER, audience: AUDIENCE, secret: SECRET, algorithms: ['HS256'] }
  const before = heapMiB()
  const validator = createAccessTokenValidator(cache ? options : { ...options, tokenCache: false })
  const { make } = tokenFactory()
  const checkpoints = new Set([10_000, 20_000, 100_000, count].filter((n) => n <= count))
  const point = (tokens) => {
    const heap = heapMiB()
    return { tokens, heapMiB: heap, growthMiB: heap - before }
  }
  const points = [point(0)]
  const started = Date.now()
  for (let i = 1; i <= count; i++) {
    await validator.verify(make(i))
    if (checkpoints.has(i)) points.push(point(i))
  }
  // Keep the validator (and its cache) alive until the last measurement.
  if (typeof validator.verify !== 'function') throw new Error('unreachable')
  return { cache, points, seconds: (Date.now() - started) / 1000 }
}

async function main() {
  if (typeof gc !== 'function') throw new Error('run with --expose-gc')
  const { length } = tokenFactory()
  const on = await measure(true, settings.memory.tokens)
  // The reference without cache stays flat; a fifth of the tokens (at most 200,000) shows it.
  const off = await measure(false, Math.min(200_000, Math.ceil(settings.memory.tokens / 5)))
  return { tokens: settings.memory.tokens, tokenLength: length, on, off }
}

main().then(
  (result) => process.send({ ok: true, result }, () => process.exit(0)),
  (error) => {
    console.error(error)
    process.send({ ok: false, error: String(error?.stack ?? error) }, () => process.exit(1))
  },
)
