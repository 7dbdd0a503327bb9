import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  BearerGuardError,
  authorize,
  createAccessTokenValidator,
  type AccessTokenValidatorOptions,
} from '../src/index.js'

const AUDIENCE = 'https://api.example.com'

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'accepted'
  } catch (error) {
    if (error instanceof BearerGuardError) return error.code
    throw error
  }
}

describe('verified-token cache', () => {
  let issuer: TestIssuer
  let now: number
  const clock = () => now
  const make = (options: Partial<AccessTokenValidatorOptions> = {}) =>
    createAccessTokenValidator({ issuer: issuer.issuer, audience: AUDIENCE, clock, ...options })

  beforeEach(async () => {
    now = Math.floor(Date.now() / 1000) * 1000
    issuer = await createTestIssuer({ clock })
  })
  afterEach(async () => {
    await issuer.close()
  })

  it('serves a repeated token from the cache, without I/O, as the same frozen result', async () => {
    const validator = make()
    const token = await issuer.mint({ scope: 'a' })
    const first = await validator.verify(token)
    issuer.fail('all', { kind: 'status', status: 500 })
    const second = await validator.verify(token)
    expect(second).toBe(first)
    expect(Object.isFrozen(second)).toBe(true)
    expect(Object.isFrozen(second.claims)).toBe(true)
    expect(issuer.requests.jwks).toBe(1)
  })

  it('is on by default and can be turned off', async () => {
    const token = await issuer.mint()
    const off = make({ tokenCache: false })
    const a = await off.verify(token)
    expect(await off.verify(token)).not.toBe(a)
    expect(() => make({ tokenCache: { maxEntries: 0 } })).toThrow(TypeError)
    expect(() => make({ tokenCache: { maxEntries: 1.5 } })).toThrow(TypeError)
  })

  it('re-checks exp against the clock on every hit', async () => {
    const validator = make({ clockTolerance: 0 })
    const token = await issuer.mint({ exp: now / 1000 + 60 })
    expect(await code(validator.verify(token))).toBe('accepted')
    now += 59_000
    expect(await code(validator.verify(token))).toBe('accepted')
    now += 1_000
    expect(await code(validator.verify(token))).toBe('ERR_TOKEN_EXPIRED')
  })

  it('re-checks maxTokenAge on every hit', async () => {
    const validator = make({ clockTolerance: 0, maxTokenAge: 30 })
    const token = await issuer.mint({ iat: now / 1000, exp: now / 1000 + 600 })
    expect(await code(validator.verify(token))).toBe('accepted')
    now += 31_000
    expect(await code(validator.verify(token))).toBe('ERR_TOKEN_TOO_OLD')
  })

  it('caches only successes: a failing token is verified (and refused) every time', async () => {
    const validator = make()
    const foreign = await issuer.generateKey('RS256', { kid: issuer.activeKey.kid })
    const forged = await issuer.mint({}, { key: foreign })
    for (let i = 0; i < 3; i++) {
      expect(await code(validator.verify(forged))).toBe('ERR_TOKEN_SIGNATURE_INVALID')
    }
  })

  it('never lets a different token hit another token’s entry', async () => {
    const validator = make()
    const token = await issuer.mint({ scope: 'a' })
    await validator.verify(token)
    const [h, p, s] = token.split('.') as [string, string, string]
    const escalated = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), scope: 'admin' }),
    ).toString('base64url')
    expect(await code(validator.verify(`${h}.${escalated}.${s}`))).toBe(
      'ERR_TOKEN_SIGNATURE_INVALID',
    )
  })

  it('drops entries whose key left the key set, after the next refresh', async () => {
    const validator = make({ keySetMaxAge: 60, unknownKeyCooldown: 0 })
    const oldKid = issuer.activeKey.kid
    const token = await issuer.mint()
    expect(await code(validator.verify(token))).toBe('accepted')
    await issuer.rotate()
    issuer.unpublishKey(oldKid)
    // Still within the key set's age: the cached result stands.
    expect(await code(validator.verify(token))).toBe('accepted')
    now += 61_000
    // Past its age, a hit starts a background refresh and is served meanwhile…
    expect(await code(validator.verify(token))).toBe('accepted')
    await validator.ready()
    await new Promise((resolve) => setTimeout(resolve, 50))
    // …and once the refreshed set lacks the key, the token is refused.
    expect(await code(validator.verify(token))).toBe('ERR_TOKEN_KEY_NOT_FOUND')
  })

  it('evaluates route policies on every request, cached or not', async () => {
    const validator = make()
    const token = await issuer.mint({ scope: 'orders:read' })
    for (let i = 0; i < 2; i++) {
      const auth = await validator.verify(token)
      expect(() => {
        authorize(auth, { allOf: ['orders:read'] })
      }).not.toThrow()
      expect(() => {
        authorize(auth, { allOf: ['orders:write'] })
      }).toThrow(/needs all of/)
    }
  })

  it('stays bounded by its entry count', async () => {
    const validator = make({ tokenCache: { maxEntries: 2 } })
    const tokens = await Promise.all([1, 2, 3].map((n) => issuer.mint({ jti: `t${n}` })))
    const first = await validator.verify(tokens[0]!)
    await validator.verify(tokens[1]!)
    await validator.verify(tokens[2]!)
    // The least recently used entry was evicted: verifying again yields a new result object.
    expect(await validator.verify(tokens[0]!)).not.toBe(first)
  })
})
