import { generateKeyPairSync, randomUUID, sign } from 'node:crypto'
import { createTestIssuer, encodeToken, type TestIssuer } from '@bearer-guard/testing'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  createAccessTokenValidator,
  KeySetUnavailableError,
  type AccessTokenValidatorOptions,
} from '../src/index.js'
import {
  AUDIENCE,
  expectInvalid,
  expectUnavailable,
  manualClock,
  rejection,
  sleep,
  type ManualClock,
} from './support/helpers.js'

// Key-set lifecycle against a real issuer on loopback: single flight, unknown `kid` refetches,
// rotation, max age and stale-if-error, readiness, and which JWKS entries are usable. Time moves
// only through the injected clock, shared by the validator and the issuer (for `iat`/`exp`).

let issuer: TestIssuer | undefined

afterEach(async () => {
  await issuer?.close()
  issuer = undefined
})

async function setup(
  options: Partial<AccessTokenValidatorOptions> = {},
): Promise<{ issuer: TestIssuer; clock: ManualClock; validator: ReturnType<typeof make> }> {
  const clock = manualClock()
  issuer = await createTestIssuer({ clock: clock.now })
  const validator = make(issuer, clock, options)
  return { issuer, clock, validator }
}

function make(
  target: TestIssuer,
  clock: ManualClock,
  options: Partial<AccessTokenValidatorOptions> = {},
) {
  return createAccessTokenValidator({
    issuer: target.issuer,
    audience: AUDIENCE,
    clock: clock.now,
    ...options,
  })
}

/** Waits until a background request was received and its failure handled. */
async function settled(condition: () => boolean): Promise<void> {
  await vi.waitFor(() => {
    expect(condition()).toBe(true)
  })
  await sleep(50)
}

/** Rejects if `promise` has not settled within `ms`: proves an answer came from the cache. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what} did not settle within ${ms} ms`))
    }, ms)
  })
  return Promise.race([promise, limit]).finally(() => {
    clearTimeout(timer)
  })
}

describe('key set: single flight', () => {
  it('100 simultaneous cold verify calls share exactly 1 discovery and 1 JWKS request', async () => {
    const { issuer, validator } = await setup()
    const tokens = await Promise.all(Array.from({ length: 100 }, () => issuer.mint()))
    const results = await Promise.all(tokens.map((token) => validator.verify(token)))
    expect(results.map((r) => r.claims.iss)).toEqual(tokens.map(() => issuer.issuer))
    expect(issuer.requests.discovery).toBe(1)
    expect(issuer.requests.jwks).toBe(1)
    expect(issuer.requests.other).toBe(0)
  })
})

describe('key set: unknown kid', () => {
  it('a kid unknown while the issuer is failing gets 503, never 401, until a refetch succeeds', async () => {
    const { issuer, clock, validator } = await setup()
    await validator.verify(await issuer.mint())
    issuer.fail('all', { kind: 'status', status: 503 })
    const fresh = await issuer.generateKey('RS256')
    issuer.publishKey(fresh)
    const token = await issuer.mint({}, { key: fresh })
    // The one allowed refetch fails, and so does every later request for that kid in the
    // cooldown: the key may well exist, so the token must not be called invalid.
    await expectUnavailable(validator.verify(token))
    clock.advance(5_000)
    await expectUnavailable(validator.verify(token))
    // Known keys keep working meanwhile.
    await validator.verify(await issuer.mint({ jti: 'known' }))
    issuer.fail('all', null)
    clock.advance(30_000)
    expect((await validator.verify(token)).header.kid).toBe(fresh.kid)
    // With the issuer reachable, a kid that does not exist is 401 as before.
    const stray = await issuer.generateKey('RS256')
    clock.advance(30_000)
    await expectInvalid(
      validator.verify(await issuer.mint({}, { key: stray })),
      'ERR_TOKEN_KEY_NOT_FOUND',
    )
    await expectInvalid(
      validator.verify(await issuer.mint({ jti: 'x' }, { key: stray })),
      'ERR_TOKEN_KEY_NOT_FOUND',
    )
  })

  it('accepts a key published right after start-up on its first use, with 1 extra JWKS request', async () => {
    const { issuer, validator } = await setup()
    await validator.verify(await issuer.mint())
    expect(issuer.requests.jwks).toBe(1)

    // The initial load must not start the unknown-kid cooldown.
    const added = await issuer.generateKey()
    issuer.publishKey(added)
    const token = await issuer.mint({ sub: 'new-key' }, { key: added })
    expect((await validator.verify(token)).claims.sub).toBe('new-key')
    expect(issuer.requests.jwks).toBe(2)
    // Now cached: no further request.
    await validator.verify(await issuer.mint({}, { key: added }))
    expect(issuer.requests.jwks).toBe(2)
  })

  it('refuses a second unknown kid within the cooldown without a request, refetches once after it', async () => {
    const { issuer, clock, validator } = await setup({ unknownKeyCooldown: 30 })
    await validator.verify(await issuer.mint())
    expect(issuer.requests.jwks).toBe(1)

    // First unknown kid: one refetch, still unknown → 401.
    const foreign = await issuer.mint({}, { header: { kid: 'nobody-1' } })
    await expectInvalid(validator.verify(foreign), 'ERR_TOKEN_KEY_NOT_FOUND')
    expect(issuer.requests.jwks).toBe(2)

    // A key published now is not seen until the cooldown has passed: 401 and no request.
    const late = await issuer.generateKey()
    issuer.publishKey(late)
    await expectInvalid(
      validator.verify(await issuer.mint({}, { key: late })),
      'ERR_TOKEN_KEY_NOT_FOUND',
    )
    await expectInvalid(
      validator.verify(await issuer.mint({}, { header: { kid: 'nobody-2' } })),
      'ERR_TOKEN_KEY_NOT_FOUND',
    )
    expect(issuer.requests.jwks).toBe(2)

    clock.advance(29_999)
    await expectInvalid(
      validator.verify(await issuer.mint({}, { key: late })),
      'ERR_TOKEN_KEY_NOT_FOUND',
    )
    expect(issuer.requests.jwks).toBe(2)

    // Cooldown over: exactly one refetch, and the late key is accepted.
    clock.advance(1)
    const [a, b] = await Promise.all([
      validator.verify(await issuer.mint({ sub: 'late' }, { key: late })),
      validator.verify(await issuer.mint({ sub: 'late-2' }, { key: late })),
    ])
    expect([a.claims.sub, b.claims.sub]).toEqual(['late', 'late-2'])
    expect(issuer.requests.jwks).toBe(3)
    expect(issuer.requests.discovery).toBe(1)
  })

  // Regression: requests arriving while an unknown-kid refetch was in flight were refused 401 at
  // once (the cooldown had just started), so every rotation produced a burst of spurious 401s.
  it('concurrent tokens of a just-published key all wait for the one refetch and are accepted', async () => {
    const { issuer, validator } = await setup()
    await validator.verify(await issuer.mint())
    const added = await issuer.generateKey()
    issuer.publishKey(added)
    const tokens = await Promise.all(
      Array.from({ length: 10 }, (_, i) => issuer.mint({ sub: `u${i}` }, { key: added })),
    )
    // The refetch takes a while, so the later calls arrive while it is in flight.
    issuer.fail('jwks', { kind: 'delay', ms: 150 })
    const first = validator.verify(tokens[0]!)
    await vi.waitFor(() => {
      expect(issuer.requests.jwks).toBe(2)
    })
    const rest = tokens.slice(1).map((token) => validator.verify(token))
    const results = await Promise.all([first, ...rest])
    expect(results.map((r) => r.claims.sub)).toEqual(tokens.map((_, i) => `u${i}`))
    expect(issuer.requests.jwks).toBe(2)
  })

  it('50 concurrent tokens with 50 random kids cause at most 1 refetch', async () => {
    const { issuer, validator } = await setup()
    await validator.verify(await issuer.mint())
    const before = issuer.requests.jwks
    const tokens = await Promise.all(
      Array.from({ length: 50 }, () => issuer.mint({}, { header: { kid: randomUUID() } })),
    )
    const errors = await Promise.all(tokens.map((token) => rejection(validator.verify(token))))
    for (const error of errors) {
      expect(error.status).toBe(401)
      expect(error.code).toBe('ERR_TOKEN_KEY_NOT_FOUND')
    }
    expect(issuer.requests.jwks - before).toBeLessThanOrEqual(1)
    // The real key still works, without a request.
    await validator.verify(await issuer.mint())
    expect(issuer.requests.jwks - before).toBeLessThanOrEqual(1)
  })

  it('50 random kids on a cold cache cost only the initial load', async () => {
    const { issuer, validator } = await setup()
    const tokens = await Promise.all(
      Array.from({ length: 50 }, () => issuer.mint({}, { header: { kid: randomUUID() } })),
    )
    const errors = await Promise.all(tokens.map((token) => rejection(validator.verify(token))))
    expect(new Set(errors.map((e) => e.code))).toEqual(new Set(['ERR_TOKEN_KEY_NOT_FOUND']))
    expect(issuer.requests.jwks).toBeLessThanOrEqual(2)
  })
})

describe('key set: rotation', () => {
  it('rotate(): tokens of the new key are accepted through the unknown-kid refetch', async () => {
    const { issuer, validator } = await setup()
    const before = await issuer.mint()
    await validator.verify(before)
    await issuer.rotate()
    const after = await issuer.mint({ sub: 'rotated' })
    expect((await validator.verify(after)).claims.sub).toBe('rotated')
    expect(issuer.requests.jwks).toBe(2)
    // keepOld (the default): the previous key still verifies.
    await validator.verify(before)
    expect(issuer.requests.jwks).toBe(2)
  })

  it('an unpublished old key is refused once the key set is past keySetMaxAge and refreshed', async () => {
    const { issuer, clock, validator } = await setup({ keySetMaxAge: 60 })
    const oldKey = issuer.activeKey
    // Verified once before the rotation: a result cache must not keep accepting it.
    const oldToken = await issuer.mint({}, { key: oldKey })
    await validator.verify(oldToken)
    await issuer.rotate()
    issuer.unpublishKey(oldKey.kid)

    // Within max age, less its up-to-10% jitter, the cache still holds the old key.
    clock.advance(53_000)
    await validator.verify(await issuer.mint({}, { key: oldKey }))
    expect(issuer.requests.jwks).toBe(1)

    // Past max age: served from cache once more while the refresh runs, then refused.
    clock.advance(8_000)
    await validator.verify(await issuer.mint({}, { key: oldKey }))
    await vi.waitFor(async () => {
      await expectInvalid(
        validator.verify(await issuer.mint({}, { key: oldKey })),
        'ERR_TOKEN_KEY_NOT_FOUND',
      )
    })
    await expectInvalid(validator.verify(oldToken), 'ERR_TOKEN_KEY_NOT_FOUND')
    await validator.verify(await issuer.mint())
    expect(issuer.requests.discovery).toBe(1)
  })
})

describe('key set: max age and stale-if-error', () => {
  it('after keySetMaxAge, requests are served from cache while exactly 1 background refresh runs', async () => {
    const { issuer, clock, validator } = await setup({ keySetMaxAge: 60 })
    await validator.verify(await issuer.mint())
    expect(issuer.requests.jwks).toBe(1)

    clock.advance(60_000)
    // The refresh hangs: a request waiting on it would not settle before the fetch timeout.
    issuer.fail('jwks', { kind: 'hang' })
    const tokens = await Promise.all(Array.from({ length: 20 }, () => issuer.mint()))
    const results = await within(
      Promise.all(tokens.map((token) => validator.verify(token))),
      2_000,
      'verify of a stale-but-usable key set',
    )
    expect(results).toHaveLength(20)
    await vi.waitFor(() => {
      expect(issuer.requests.jwks).toBe(2)
    })

    // The refresh answers with a rotated set; a token of the new key joins or follows it.
    const oldKey = issuer.activeKey
    await issuer.rotate({ keepOld: false })
    const fresh = await issuer.mint({ sub: 'fresh' })
    issuer.fail('jwks', null)
    expect((await validator.verify(fresh)).claims.sub).toBe('fresh')
    expect(issuer.requests.jwks).toBe(2)
    // The refreshed set is young again: no request for known keys.
    clock.advance(30_000)
    await validator.verify(await issuer.mint())
    expect(issuer.requests.jwks).toBe(2)
    await expectInvalid(
      validator.verify(await issuer.mint({}, { key: oldKey })),
      'ERR_TOKEN_KEY_NOT_FOUND',
    )
  })

  it('keeps cached keys working while refreshes fail until keySetMaxAge + staleIfError, then 503', async () => {
    const { issuer, clock, validator } = await setup({ keySetMaxAge: 60, staleIfError: 120 })
    // Reused throughout (it lives 300 s): a result cache must follow the same rules.
    const reused = await issuer.mint({ sub: 'reused' })
    await validator.verify(reused)
    issuer.fail('jwks', { kind: 'status', status: 500 })

    // Past max age: served from cache; one background refresh, which fails (backoff 1 s).
    clock.advance(61_000)
    await validator.verify(await issuer.mint())
    await settled(() => issuer.requests.jwks === 2)
    clock.advance(500)
    await validator.verify(await issuer.mint())
    await sleep(50)
    expect(issuer.requests.jwks).toBe(2)

    // Still inside the stale window, backoff over: served, one more refresh (backoff 2 s).
    clock.advance(59_500)
    await validator.verify(await issuer.mint())
    await settled(() => issuer.requests.jwks === 3)
    clock.advance(1_000)
    await validator.verify(await issuer.mint())
    await sleep(50)
    expect(issuer.requests.jwks).toBe(3)

    // Last millisecond of the window: still served (refresh #4 fails, backoff 4 s).
    clock.advance(57_999)
    await validator.verify(await issuer.mint())
    await settled(() => issuer.requests.jwks === 4)
    expect((await validator.verify(reused)).claims.sub).toBe('reused')

    // Past maxAge + staleIfError: fail closed with 503, not invalid_token. In backoff, at once
    // and without a request; after it, one request that fails.
    clock.advance(1)
    await expectUnavailable(validator.verify(await issuer.mint()))
    await expectUnavailable(validator.verify(reused))
    expect(issuer.requests.jwks).toBe(4)
    clock.advance(4_000)
    await expectUnavailable(validator.verify(await issuer.mint()))
    expect(issuer.requests.jwks).toBe(5)

    // The IdP recovers and the backoff passes: keys load again.
    issuer.fail('jwks', null)
    clock.advance(30_000)
    await validator.verify(await issuer.mint())
    expect(issuer.requests.jwks).toBe(6)
  })

  it('with staleIfError 0, a key set past keySetMaxAge is refreshed before answering', async () => {
    const { issuer, clock, validator } = await setup({ keySetMaxAge: 60, staleIfError: 0 })
    await validator.verify(await issuer.mint())
    clock.advance(60_000)
    issuer.fail('jwks', { kind: 'status', status: 503 })
    await expectUnavailable(validator.verify(await issuer.mint()))
    expect(issuer.requests.jwks).toBe(2)
  })
})

describe('key set: ready()', () => {
  it('resolves once keys are loaded; the next verify needs no request', async () => {
    const { issuer, validator } = await setup()
    await validator.ready()
    expect(issuer.requests.jwks).toBe(1)
    await validator.verify(await issuer.mint())
    expect(issuer.requests.jwks).toBe(1)
    expect(issuer.requests.discovery).toBe(1)
  })

  it('rejects with KeySetUnavailableError while the IdP is down; the validator works once it is back', async () => {
    const { issuer, clock, validator } = await setup()
    issuer.fail('all', { kind: 'status', status: 500 })
    const error = await rejection(validator.ready())
    expect(error).toBeInstanceOf(KeySetUnavailableError)
    expect(error.status).toBe(503)
    await expectUnavailable(validator.verify(await issuer.mint()))

    issuer.fail('all', null)
    clock.advance(30_000)
    expect((await validator.verify(await issuer.mint({ sub: 'back' }))).claims.sub).toBe('back')
    await validator.ready()
  })
  // Regression: ready() resolved as soon as any key set had ever been loaded, so a readiness probe
  // kept reporting ready while every request was refused with 503 (keys past the stale window).
  it('rejects once the cached keys are past keySetMaxAge + staleIfError and cannot be refreshed', async () => {
    const { issuer, clock, validator } = await setup({ keySetMaxAge: 60, staleIfError: 60 })
    await validator.ready()
    issuer.fail('jwks', { kind: 'status', status: 500 })
    clock.advance(119_000)
    await validator.ready() // still usable: stale but within the window
    clock.advance(1_000)
    await expectUnavailable(validator.verify(await issuer.mint()))
    const error = await rejection(validator.ready())
    expect(error).toBeInstanceOf(KeySetUnavailableError)
    issuer.fail('jwks', null)
    await validator.ready()
    await validator.verify(await issuer.mint())
  })
})

describe('key set: unusable JWKS entries', () => {
  it('skips unusable entries, verifies with the usable ones, and refuses kids naming only unusable entries', async () => {
    const { issuer, validator } = await setup()
    const real = issuer.activeKey
    const enc = await issuer.generateKey('RS256', { kid: 'enc' })
    const ops = await issuer.generateKey('RS256', { kid: 'ops' })
    const rs512 = await issuer.generateKey('RS512', { kid: 'rs512' })
    const numericKid = await issuer.generateKey('RS256', { kid: 'numeric' })
    const curve = await issuer.generateKey('ES256', { kid: 'curve' })
    const priv = await issuer.generateKey('RS256', { kid: 'private' })
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({
      format: 'jwk',
    })
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({
      format: 'jwk',
    })
    const privateJwk = priv.privateKey.export({ format: 'jwk' })
    expect(privateJwk.d).toBeTypeOf('string')

    const keys: unknown[] = [
      'not-a-jwk',
      null,
      42,
      [real.publicJwk],
      { kty: 'oct', k: Buffer.alloc(32, 7).toString('base64url'), kid: 'oct', alg: 'HS256' },
      { ...enc.publicJwk, use: 'enc' },
      { ...ops.publicJwk, key_ops: ['encrypt'] },
      rs512.publicJwk,
      { ...numericKid.publicJwk, kid: 42 },
      // The kid of an ES256 token, but a P-384 key; and a curve bearer-guard does not support.
      { ...p384, kid: 'curve', use: 'sig' },
      { ...k1, kid: 'k1' },
      { kty: 'RSA', kid: 'broken', n: 12, e: 'AQAB' },
      { kty: 'RSA', kid: 'not-base64', n: '!!!', e: 'AQAB', alg: 'RS256' },
      // A private JWK: usable, but only its public part may be imported.
      { ...privateJwk, kid: 'private', alg: 'RS256', use: 'sig' },
      real.publicJwk,
    ]
    issuer.fail('jwks', { kind: 'body', body: JSON.stringify({ keys }) })

    expect((await validator.verify(await issuer.mint({ sub: 'real' }))).claims.sub).toBe('real')
    expect((await validator.verify(await issuer.mint({}, { key: priv }))).claims.sub).toBe(
      'user-123',
    )
    // An RS512 token for the RS512 key is fine; an RS256 token naming it is not.
    await validator.verify(await issuer.mint({}, { key: rs512 }))

    for (const [key, header] of [
      [enc, {}],
      [ops, {}],
      [rs512, { alg: 'RS256' }],
      [curve, {}],
      [real, { kid: 'oct' }],
      [real, { kid: 'k1' }],
      [real, { kid: 'broken' }],
      [real, { kid: 'not-base64' }],
      [real, { kid: '42' }],
    ] as const) {
      await expectInvalid(
        validator.verify(await issuer.mint({}, { key, header })),
        'ERR_TOKEN_KEY_NOT_FOUND',
      )
    }
    // The entry with a numeric kid is dropped entirely, so a kid-less token of it finds no key
    // that verifies it.
    await expectInvalid(
      validator.verify(await issuer.mint({}, { key: numericKid, header: { kid: undefined } })),
      'ERR_TOKEN_SIGNATURE_INVALID',
    )
    // One load plus at most one unknown-kid refetch (cooldown), never one per bad token.
    expect(issuer.requests.jwks).toBeLessThanOrEqual(2)
  })

  it('refuses a token signed by a 1024-bit RSA key published in the JWKS', async () => {
    const { issuer, clock, validator } = await setup()
    const now = Math.floor(clock.now() / 1000)
    const claims = { iss: issuer.issuer, aud: AUDIENCE, sub: 'weak', iat: now, exp: now + 300 }

    function signedWith(bits: number, kid: string | undefined): { jwk: object; token: string } {
      const pair = generateKeyPairSync('rsa', { modulusLength: bits })
      const { n, e } = pair.publicKey.export({ format: 'jwk' })
      const header =
        kid === undefined ? { alg: 'RS256', typ: 'at+jwt' } : { alg: 'RS256', kid, typ: 'at+jwt' }
      const input = encodeToken({ header, payload: claims }).slice(0, -1)
      const signature = sign('sha256', Buffer.from(input), pair.privateKey).toString('base64url')
      return {
        jwk: { kty: 'RSA', n, e, kid: kid ?? 'weak-kidless', alg: 'RS256', use: 'sig' },
        token: encodeToken({ header, payload: claims, signature }),
      }
    }
    const weak = signedWith(1024, 'weak')
    const weakKidless = signedWith(1024, undefined)
    // Controls signed the same way, to show the hand-made tokens are otherwise valid.
    const strong = signedWith(2048, 'strong')
    const strongKidless = signedWith(2048, undefined)
    issuer.fail('jwks', {
      kind: 'body',
      body: JSON.stringify({ keys: [weak.jwk, weakKidless.jwk, strong.jwk] }),
    })

    expect((await validator.verify(strong.token)).claims.sub).toBe('weak')
    const error = await rejection(validator.verify(weak.token))
    expect(error.status).toBe(401)
    expect(['ERR_TOKEN_KEY_NOT_FOUND', 'ERR_TOKEN_SIGNATURE_INVALID']).toContain(error.code)
    // Without a kid, the weak key is not a candidate either.
    const kidlessError = await rejection(validator.verify(weakKidless.token))
    expect(kidlessError.status).toBe(401)
    expect(['ERR_TOKEN_KEY_NOT_FOUND', 'ERR_TOKEN_SIGNATURE_INVALID']).toContain(kidlessError.code)
    await expectInvalid(validator.verify(strongKidless.token), 'ERR_TOKEN_SIGNATURE_INVALID')
  })
})
