// Memory, run with --expose-gc in a child process of run.mjs: heap after N distinct tokens went
// through one validator with the default cache settings, against the same with the cache off;
// then an `issuerResolver` fed tokens of 10,000 distinct tenants and 10,000 unknown issuers.
//
// A million asymmetric signatures take minutes to make and to verify, so the tokens are HS256,
// signed here with node:crypto, one at a time (never all held in memory). What the cache holds
// per token does not depend on the algorithm (a SHA-256 of the token as key, the verified result
// and a reference to the key), except for the claims; the payload carries a realistic claim set
// and a `pad` claim bringing each token to the length of an RS256 token (~750 characters).
/* global gc */
import { Buffer } from 'node:buffer'
import { createHmac, generateKeyPairSync, sign } from 'node:crypto'
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

// ---------------------------------------------------------------------------------------------
// An issuer resolver over many tenants. Its bound: `maxIssuers` validators (an LRU, default 1,000)
// and the negative cache of unknown issuers (an LRU of max(1,000, maxIssuers) entries). Every
// tenant's issuer is https://tenant-<i>.example.com/, answered by the resolver with static keys
// (one RSA key shared by all tenants, imported per tenant as a distinct tenant's key would be);
// each tenant's token is RS256, signed here one at a time. Unknown issuers are answered
// `undefined`; their tokens are refused before any signature check, so theirs is not valid.

const TENANT = (i) => `https://tenant-${i}.example.com/`
const UNKNOWN = (i) => `https://unknown-${i}.example.com/`

async function measureResolver(tenants) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'tenant-key', alg: 'RS256' }
  const header = Buffer.from(
    JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: 'tenant-key' }),
  ).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const token = (iss, i, signed) => {
    const claims = {
      iss,
      sub: `user-${i}`,
      aud: AUDIENCE,
      client_id: 'bench-client',
      scope: 'orders:read',
      iat: now,
      exp: now + 3600,
      jti: `${i}`.padStart(12, '0'),
    }
    const body = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
    const signature = signed ? sign('sha256', Buffer.from(body), privateKey) : Buffer.alloc(256)
    return `${body}.${signature.toString('base64url')}`
  }
  const known = new Set(Array.from({ length: tenants }, (_, i) => TENANT(i)))
  let lookups = 0
  const issuerResolver = {
    resolve: (iss) => {
      lookups++
      return known.has(iss) ? { issuer: iss, keys: jwk } : undefined
    },
  }
  // The token cache off, so the figures are the resolver's alone (the cache's own bound is above).
  const options = { issuerResolver, audience: AUDIENCE, tokenCache: false }
  // The defaults of `issuerResolver.maxIssuers` and of the negative cache's size.
  const maxIssuers = 1000
  const maxUnknown = Math.max(1000, maxIssuers)
  if (tenants < maxUnknown)
    throw new TypeError(`BENCH_MEMORY_TENANTS must be ${maxUnknown} or more`)

  const before = heapMiB()
  const validator = createAccessTokenValidator(options)
  const stage = (label, count) => {
    const heap = heapMiB()
    return { label, count, heapMiB: heap, growthMiB: heap - before }
  }
  const stages = [stage('validator created', 0)]
  const started = Date.now()
  const tenantPoints = new Set([maxIssuers, 2 * maxIssuers, tenants])
  for (let i = 0; i < tenants; i++) {
    await validator.verify(token(TENANT(i), i, true))
    if (tenantPoints.has(i + 1)) stages.push(stage(`${i + 1} tenants`, i + 1))
  }
  const unknownPoints = new Set([maxUnknown, tenants])
  let refused = 0
  for (let i = 0; i < tenants; i++) {
    try {
      await validator.verify(token(UNKNOWN(i), i, false))
    } catch (error) {
      if (error?.code !== 'ERR_TOKEN_ISSUER_INVALID') throw error
      refused++
    }
    if (unknownPoints.has(i + 1)) stages.push(stage(`+ ${i + 1} unknown issuers`, i + 1))
  }
  if (refused !== tenants) throw new Error(`${tenants - refused} unknown issuers were accepted`)
  // Keep the validator alive until the last measurement.
  if (typeof validator.verify !== 'function') throw new Error('unreachable')

  // The bound, from the stages where each LRU first filled: per validator, from the first
  // maxIssuers tenants; per unknown issuer, from the first maxUnknown unknown ones.
  const at = (label) => stages.find((s) => s.label === label)
  const filled = at(`${maxIssuers} tenants`)
  const allTenants = at(`${tenants} tenants`)
  const unknownFilled = at(`+ ${maxUnknown} unknown issuers`)
  const perValidatorKiB = ((filled.heapMiB - stages[0].heapMiB) * 1024) / maxIssuers
  const perUnknownBytes = ((unknownFilled.heapMiB - allTenants.heapMiB) * 2 ** 20) / maxUnknown
  const boundMiB =
    stages[0].growthMiB +
    (maxIssuers * perValidatorKiB) / 1024 +
    (maxUnknown * perUnknownBytes) / 2 ** 20
  return {
    tenants,
    maxIssuers,
    maxUnknown,
    lookups,
    stages,
    perValidatorKiB,
    perUnknownBytes,
    boundMiB,
    seconds: (Date.now() - started) / 1000,
  }
}

async function main() {
  if (typeof gc !== 'function') throw new Error('run with --expose-gc')
  const { length } = tokenFactory()
  const on = await measure(true, settings.memory.tokens)
  // The reference without cache stays flat; a fifth of the tokens (at most 200,000) shows it.
  const off = await measure(false, Math.min(200_000, Math.ceil(settings.memory.tokens / 5)))
  const resolver = await measureResolver(settings.memory.tenants)
  return { tokens: settings.memory.tokens, tokenLength: length, on, off, resolver }
}

main().then(
  (result) => process.send({ ok: true, result }, () => process.exit(0)),
  (error) => {
    console.error(error)
    process.send({ ok: false, error: String(error?.stack ?? error) }, () => process.exit(1))
  },
)
