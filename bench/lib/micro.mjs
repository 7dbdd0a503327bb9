// Microbenchmarks, run in a child process of run.mjs: verifications per second of one token at a
// time on one core, for every candidate and algorithm, in interleaved rounds (round 1 of every
// candidate, then round 2 of every candidate…) so a burst of noise hits all of them alike. The
// figure kept is the median of the rounds.
//
// "Distinct tokens" cycle through a pool of pre-minted tokens. Candidates with a token cache get
// a fresh verifier (built and warmed outside the timed window) before each pass over the pool,
// so a distinct-token row never hits its cache: it measures the miss path.
import { Buffer } from 'node:buffer'
import { constants, verify as cryptoVerify } from 'node:crypto'
import { createAccessTokenValidator } from '@bearer-guard/core'
import { verifyRequestCallback } from '@bearer-guard/core/adapter'
import { createTestIssuer } from '@bearer-guard/testing'
import { createVerifier } from 'fast-jwt'
import { jwtVerify } from 'jose'
import { AUDIENCE, bearerGuardOptions, median, settings } from './common.mjs'

const { tokens: POOL, rounds: ROUNDS, roundMs: ROUND_MS, algorithms } = settings.micro

/** node:crypto parameters of each algorithm, as a hand-written verifier would pass them. */
const CRYPTO = {
  RS256: { hash: 'sha256', options: {} },
  PS256: {
    hash: 'sha256',
    options: {
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    },
  },
  ES256: { hash: 'sha256', options: { dsaEncoding: 'ieee-p1363' } },
  EdDSA: { hash: null, options: {} },
}

/**
 * The practical floor: what any correct verifier must do at least. Split, base64url-decode and
 * JSON-parse header and payload, check `alg`, verify the signature with a prebuilt KeyObject,
 * check `iss`, `aud` and `exp`.
 */
function floorVerifier(alg, publicKey, issuer) {
  const { hash, options } = CRYPTO[alg]
  const key = { key: publicKey, ...options }
  return (token) => {
    const first = token.indexOf('.')
    const second = token.indexOf('.', first + 1)
    const header = JSON.parse(Buffer.from(token.slice(0, first), 'base64url').toString())
    if (header.alg !== alg) throw new Error('alg')
    const payload = JSON.parse(Buffer.from(token.slice(first + 1, second), 'base64url').toString())
    const signature = Buffer.from(token.slice(second + 1), 'base64url')
    const data = Buffer.from(token.slice(0, second))
    if (!cryptoVerify(hash, data, key, signature)) throw new Error('signature')
    if (payload.iss !== issuer || payload.aud !== AUDIENCE) throw new Error('claims')
    if (!(payload.exp > Date.now() / 1000)) throw new Error('exp')
    return payload
  }
}

/** crypto.verify alone on pre-split input: the cost of the signature and nothing else. */
function cryptoOnly(alg, publicKey, tokens) {
  const { hash, options } = CRYPTO[alg]
  const key = { key: publicKey, ...options }
  const split = new Map(
    tokens.map((token) => {
      const dot = token.lastIndexOf('.')
      return [
        token,
        [Buffer.from(token.slice(0, dot)), Buffer.from(token.slice(dot + 1), 'base64url')],
      ]
    }),
  )
  return (token) => {
    const [data, signature] = split.get(token)
    if (!cryptoVerify(hash, data, key, signature)) throw new Error('signature')
  }
}

async function coreVerifier(issuer, cache) {
  const validator = createAccessTokenValidator(bearerGuardOptions(issuer, cache))
  await validator.ready()
  return (token) => validator.verify(token)
}

/** This API's client at the test issuers' introspection endpoints (RFC 7662). */
const INTROSPECTION_CLIENT = { clientId: 'bench-api', clientSecret: 'bench-secret' }

/**
 * A validator that introspects opaque tokens at `issuer`, with `token` introspected once before
 * timing: what a repeated opaque token costs once its answer is cached.
 */
async function introspectingVerifier(issuer, token) {
  const validator = createAccessTokenValidator({
    ...bearerGuardOptions(issuer, 'on'),
    introspection: INTROSPECTION_CLIENT,
  })
  await validator.ready()
  await validator.verify(token)
  return (t) => validator.verify(t)
}

/** The candidates of one algorithm. `make` builds a verifier; `fresh` rebuilds it every pass. */
function candidates(alg, issuer, tokens, opaque) {
  const key = issuer.activeKey
  const repeat = [tokens[0]]
  const fastJwt = (cache) => () =>
    createVerifier({
      key: key.publicKeyPem,
      algorithms: [alg],
      allowedIss: issuer.issuer,
      allowedAud: AUDIENCE,
      cache,
    })
  const joseOptions = { issuer: issuer.issuer, audience: AUDIENCE, algorithms: [alg] }
  return [
    {
      id: 'crypto',
      label: 'crypto.verify only',
      make: () => cryptoOnly(alg, key.publicKey, tokens),
      tokens,
    },
    {
      id: 'floor',
      label: 'floor: crypto.verify + parse + iss/aud/exp',
      make: () => floorVerifier(alg, key.publicKey, issuer.issuer),
      tokens,
    },
    {
      id: 'core-off',
      label: 'bearer-guard core, cache off',
      make: () => coreVerifier(issuer.issuer, 'off'),
      async: true,
      tokens,
    },
    {
      id: 'core-miss',
      label: 'bearer-guard core, cache on, distinct tokens (miss)',
      make: () => coreVerifier(issuer.issuer, 'on'),
      async: true,
      fresh: true,
      tokens,
    },
    {
      id: 'core-hit',
      label: 'bearer-guard core, cache on, repeated token (hit)',
      make: () => coreVerifier(issuer.issuer, 'on'),
      async: true,
      tokens: repeat,
    },
    {
      id: 'core-hit-introspected',
      label: 'bearer-guard core, introspected opaque token, repeated (hit)',
      make: () => introspectingVerifier(issuer.issuer, opaque),
      async: true,
      tokens: [opaque],
    },
    {
      id: 'jose',
      label: 'jose jwtVerify (static KeyObject)',
      make: () => (t) => jwtVerify(t, key.publicKey, joseOptions),
      async: true,
      tokens,
    },
    { id: 'fast-jwt', label: 'fast-jwt, no cache (static key)', make: fastJwt(false), tokens },
    {
      id: 'fast-jwt-miss',
      label: 'fast-jwt, cache, distinct tokens (miss)',
      make: fastJwt(true),
      fresh: true,
      tokens,
    },
    {
      id: 'fast-jwt-hit',
      label: 'fast-jwt, cache, repeated token (hit)',
      make: fastJwt(true),
      tokens: repeat,
    },
  ]
}

// ---------------------------------------------------------------------------------------------
// One issuer against ten: the cost of a validator that accepts several issuers, per request.

/** How many test issuers the multi-issuer rows use. */
const ISSUERS = 10
/** Tokens per pool: cached rows cycle through them (all hits once the first pass is done). */
const ISSUER_POOL = 100

/** Throws a refusal out of the callback, so a benchmark never counts one as a verification. */
function expectVerified(error, auth) {
  if (auth === undefined) throw error
}

/**
 * A validator for `issuers` (test issuers), verifying requests the way the adapters do:
 * `verifyRequestCallback` on the request's raw parts, synchronously once keys are loaded.
 */
async function requestVerifier(issuers, cache) {
  const list = issuers.map((i) => i.issuer)
  const validator = createAccessTokenValidator(
    bearerGuardOptions(list.length === 1 ? list[0] : list, cache),
  )
  await validator.ready()
  return (authorization) => {
    verifyRequestCallback(
      validator,
      { method: 'GET', url: '/orders', headers: { authorization } },
      expectVerified,
    )
  }
}

/**
 * The multi-issuer candidates (RS256): a validator for 1 issuer against one for 10, with tokens of
 * one issuer and with tokens spread over all 10, cache on (every request a hit) and off. Inputs
 * are whole `Authorization` header values.
 */
async function issuerCandidates() {
  const issuers = await Promise.all(
    Array.from({ length: ISSUERS }, () =>
      createTestIssuer({ algorithm: 'RS256', tokenLifetime: 3600 }),
    ),
  )
  const header = async (issuer) => `Bearer ${await issuer.mint({ scope: 'orders:read' })}`
  const [first] = issuers
  const one = await Promise.all(Array.from({ length: ISSUER_POOL }, () => header(first)))
  const spread = await Promise.all(
    Array.from({ length: ISSUER_POOL }, (_, i) => header(issuers[i % ISSUERS])),
  )
  const rows = []
  for (const cache of ['on', 'off']) {
    const suffix = cache === 'on' ? 'hit' : 'off'
    const when = cache === 'on' ? 'cache on, cached tokens' : 'cache off'
    rows.push(
      {
        id: `issuers-1-${suffix}`,
        label: `1 issuer, ${when}`,
        make: () => requestVerifier([first], cache),
        tokens: one,
      },
      {
        id: `issuers-10-one-${suffix}`,
        label: `10 issuers, tokens of one, ${when}`,
        make: () => requestVerifier(issuers, cache),
        tokens: one,
      },
      {
        id: `issuers-10-spread-${suffix}`,
        label: `10 issuers, tokens of all 10, ${when}`,
        make: () => requestVerifier(issuers, cache),
        tokens: spread,
      },
    )
  }
  return { issuers, rows: rows.map((row) => ({ ...row, alg: 'RS256', group: 'issuers' })) }
}

/** Runs passes over the candidate's tokens for about ROUND_MS; returns verifications per second. */
async function round(candidate) {
  let ops = 0
  let elapsed = 0n
  const budget = BigInt(ROUND_MS) * 1_000_000n
  const { tokens } = candidate
  while (elapsed < budget) {
    if (candidate.fresh || candidate.verify === undefined) candidate.verify = await candidate.make()
    const verify = candidate.verify
    // A pass over a single repeated token is a batch of 256 calls.
    const count = tokens.length === 1 ? 256 : tokens.length
    const start = process.hrtime.bigint()
    if (candidate.async) {
      for (let i = 0; i < count; i++) await verify(tokens[i % tokens.length])
    } else {
      for (let i = 0; i < count; i++) verify(tokens[i % tokens.length])
    }
    elapsed += process.hrtime.bigint() - start
    ops += count
  }
  return ops / (Number(elapsed) / 1e9)
}

async function main() {
  const started = Date.now()
  const all = []
  for (const alg of algorithms) {
    const issuer = await createTestIssuer({ algorithm: alg, tokenLifetime: 3600 })
    const tokens = await Promise.all(
      Array.from({ length: POOL }, () => issuer.mint({ scope: 'orders:read' })),
    )
    issuer.registerClient(INTROSPECTION_CLIENT)
    const opaque = issuer.mintOpaque({ scope: 'orders:read' })
    for (const candidate of candidates(alg, issuer, tokens, opaque)) {
      // Correctness first: every candidate must accept the token (and reject nothing).
      const check = await candidate.make()
      await check(tokens[0])
      all.push({ ...candidate, alg, issuer, samples: [] })
    }
  }
  const multi = await issuerCandidates()
  for (const candidate of multi.rows) {
    // Every token verified once: the cached rows' first measured pass is all hits.
    const verify = await candidate.make()
    for (const token of candidate.tokens) verify(token)
    all.push({ ...candidate, verify, samples: [] })
  }
  // Warm-up: one short round of everything, discarded.
  for (const candidate of all) await round({ ...candidate, verify: undefined })
  for (let r = 0; r < ROUNDS; r++) {
    for (const candidate of all) candidate.samples.push(await round(candidate))
  }
  const results = all.map(({ id, label, alg, group, samples }) => ({
    id,
    label,
    alg,
    ...(group === undefined ? {} : { group }),
    opsPerSecond: median(samples),
    samples,
  }))
  await Promise.all(all.filter((c) => c.id === 'crypto').map((c) => c.issuer.close()))
  await Promise.all(multi.issuers.map((issuer) => issuer.close()))
  return {
    pool: POOL,
    issuerPool: ISSUER_POOL,
    rounds: ROUNDS,
    roundMs: ROUND_MS,
    seconds: (Date.now() - started) / 1000,
    results,
  }
}

main().then(
  (result) => process.send({ ok: true, result }, () => process.exit(0)),
  (error) => {
    console.error(error)
    process.send({ ok: false, error: String(error?.stack ?? error) }, () => process.exit(1))
  },
)
