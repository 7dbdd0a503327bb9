/**
 * The cache of introspection answers (RFC 7662 §4): positive answers only, never past the token's
 * `exp` nor `cacheMaxAge`, keyed by a hash of authorization server, client and token (so answers
 * never cross authorization servers: the Duende advisory GHSA-84rm-mhfq-f476), one call per token
 * at a time, shareable through the `IntrospectionCache` interface.
 */
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createAccessTokenValidator,
  MemoryIntrospectionCache,
  type AccessTokenValidatorOptions,
  type IntrospectionCache,
  type IntrospectionSettings,
} from '../src/index.js'
import { AUDIENCE, expectInvalid, manualClock } from './support/helpers.js'

const CLIENT = { clientId: 'orders-api', clientSecret: 's3cret' }
const clock = manualClock()
let issuer: TestIssuer

beforeAll(async () => {
  issuer = await createTestIssuer({ clock: clock.now, clients: [CLIENT] })
})
afterAll(() => issuer.close())

function validator(
  introspection: Partial<IntrospectionSettings> = {},
  options: Partial<AccessTokenValidatorOptions> = {},
  at: TestIssuer = issuer,
) {
  return createAccessTokenValidator({
    issuer: at.issuer,
    audience: AUDIENCE,
    clock: clock.now,
    introspection: { ...CLIENT, ...introspection },
    ...options,
  })
}

const seconds = () => Math.floor(clock.now() / 1000)

/** A real store that records what core hands it. */
class RecordingCache implements IntrospectionCache {
  readonly inner = new MemoryIntrospectionCache({ clock: clock.now })
  readonly writes: { key: string; value: string; expiresAt: number }[] = []
  readonly reads: string[] = []
  get(key: string) {
    this.reads.push(key)
    return this.inner.get(key)
  }
  set(key: string, value: string, expiresAt: number) {
    this.writes.push({ key, value, expiresAt })
    this.inner.set(key, value, expiresAt)
  }
}

describe('reuse of an active answer', () => {
  it('a repeated token costs one call (the verified-token cache)', async () => {
    issuer.resetCounts()
    const v = validator()
    const token = issuer.mintOpaque()
    for (let i = 0; i < 5; i++) await v.verify(token)
    expect(issuer.requests.introspection).toBe(1)
  })

  it('without the verified-token cache, the introspection cache serves it', async () => {
    issuer.resetCounts()
    const v = validator({}, { tokenCache: false })
    const token = issuer.mintOpaque()
    for (let i = 0; i < 5; i++) await v.verify(token)
    expect(issuer.requests.introspection).toBe(1)
  })

  it('cacheMaxAge bounds the reuse: a revocation is seen once it has passed', async () => {
    issuer.resetCounts()
    const v = validator({ cacheMaxAge: 30 })
    const token = issuer.mintOpaque()
    await v.verify(token)
    issuer.revoke(token)
    clock.advance(29_000)
    // The trade-off RFC 7662 §4 names: still accepted within cacheMaxAge.
    await v.verify(token)
    expect(issuer.requests.introspection).toBe(1)
    clock.advance(1_000)
    await expectInvalid(v.verify(token), 'ERR_TOKEN_INACTIVE')
    expect(issuer.requests.introspection).toBe(2)
  })

  it("RFC 7662 §4: never reused past the answer's exp, whatever cacheMaxAge says", async () => {
    issuer.resetCounts()
    const cache = new RecordingCache()
    const v = validator({ cacheMaxAge: 3600, cache }, { clockTolerance: 0 })
    const token = issuer.mintOpaque({ exp: seconds() + 10 })
    const obtained = clock.now()
    await v.verify(token)
    expect(cache.writes).toHaveLength(1)
    expect(cache.writes[0]?.expiresAt).toBe((seconds() + 10) * 1000)
    expect(cache.writes[0]?.expiresAt).toBeLessThan(obtained + 3600_000)
    clock.advance(10_000)
    // Expired: neither cache answers; the issuer, asked again, says inactive.
    await expectInvalid(v.verify(token), 'ERR_TOKEN_INACTIVE')
    expect(issuer.requests.introspection).toBe(2)
  })

  it('cacheMaxAge 0 asks every time', async () => {
    issuer.resetCounts()
    const cache = new RecordingCache()
    const v = validator({ cacheMaxAge: 0, cache })
    const token = issuer.mintOpaque()
    await v.verify(token)
    await v.verify(token)
    expect(issuer.requests.introspection).toBe(2)
    expect(cache.writes).toHaveLength(0)
  })

  it('positive answers only: an inactive answer is asked again every time, never stored', async () => {
    issuer.resetCounts()
    const cache = new RecordingCache()
    const v = validator({ cache })
    const token = issuer.mintOpaque()
    issuer.revoke(token)
    await expectInvalid(v.verify(token), 'ERR_TOKEN_INACTIVE')
    await expectInvalid(v.verify(token), 'ERR_TOKEN_INACTIVE')
    expect(issuer.requests.introspection).toBe(2)
    expect(cache.writes).toHaveLength(0)
  })

  it('an answer refused by a local check is not stored either', async () => {
    const cache = new RecordingCache()
    await expectInvalid(
      validator({ cache }).verify(issuer.mintOpaque({ aud: 'https://other.example.com' })),
      'ERR_TOKEN_AUDIENCE_INVALID',
    )
    expect(cache.writes).toHaveLength(0)
  })
})

describe('the cache key and value', () => {
  it('keys are a namespaced SHA-256; neither key nor value holds the token', async () => {
    const cache = new RecordingCache()
    const token = issuer.mintOpaque({ scope: 'orders:read' })
    await validator({ cache }).verify(token)
    const [write] = cache.writes
    expect(write?.key).toMatch(/^introspection:[A-Za-z0-9_-]{43}$/)
    expect(write?.key).not.toContain(token)
    expect(write?.value).not.toContain(token)
    expect(JSON.parse(write?.value ?? '')).toEqual({
      at: clock.now(),
      members: expect.objectContaining({ active: true, scope: 'orders:read' }),
    })
  })

  it('one shared cache, two authorization servers: an answer of one never serves the other (GHSA-84rm-mhfq-f476)', async () => {
    const other = await createTestIssuer({ clock: clock.now, clients: [CLIENT] })
    try {
      const cache = new RecordingCache()
      const token = issuer.mintOpaque()
      await validator({ cache }).verify(token)
      // The same token string presented to an API of the other authorization server, which
      // shares the cache: it must ask its own server (which never issued it), not reuse the answer.
      const second = validator({ cache }, {}, other)
      await expectInvalid(second.verify(token), 'ERR_TOKEN_INACTIVE')
      expect(other.requests.introspection).toBe(1)
      expect(new Set(cache.reads).size).toBe(2)
    } finally {
      await other.close()
    }
  })

  it('one shared cache, two clients of one server: each has its own entries', async () => {
    issuer.registerClient({ clientId: 'billing-api', clientSecret: 'b1ll' })
    issuer.resetCounts()
    const cache = new RecordingCache()
    const token = issuer.mintOpaque()
    await validator({ cache }).verify(token)
    await validator({ cache, clientId: 'billing-api', clientSecret: 'b1ll' }).verify(token)
    expect(issuer.requests.introspection).toBe(2)
    expect(cache.writes[0]?.key).not.toBe(cache.writes[1]?.key)
  })

  it('a second instance sharing the cache reuses the first one answer', async () => {
    issuer.resetCounts()
    const cache = new RecordingCache()
    const token = issuer.mintOpaque()
    await validator({ cache }).verify(token)
    const auth = await validator({ cache }).verify(token)
    expect(auth.claims.active).toBe(true)
    expect(issuer.requests.introspection).toBe(1)
  })

  it('an entry past cacheMaxAge is not reused, whatever its store kept it for', async () => {
    issuer.resetCounts()
    const cache = new RecordingCache()
    const token = issuer.mintOpaque()
    await validator({ cache, cacheMaxAge: 300 }).verify(token)
    clock.advance(61_000)
    // This instance allows 60 s: the entry, stored for 300 s by another, is too old for it.
    await validator({ cache, cacheMaxAge: 60 }).verify(token)
    expect(issuer.requests.introspection).toBe(2)
  })

  it('a store that fails or holds garbage is a miss, never an error', async () => {
    issuer.resetCounts()
    const failing: IntrospectionCache = {
      get: () => Promise.reject(new Error('down')),
      set: () => Promise.reject(new Error('down')),
    }
    const throwing: IntrospectionCache = {
      get: () => {
        throw new Error('down')
      },
      set: () => {
        throw new Error('down')
      },
    }
    const garbage: IntrospectionCache = {
      get: () => ['{', '[]', '{"at":"x"}', '{"at":1,"members":{"active":false}}'][1],
      set: () => undefined,
    }
    for (const cache of [failing, throwing, garbage]) {
      const auth = await validator({ cache }, { tokenCache: false }).verify(issuer.mintOpaque())
      expect(auth.claims.active).toBe(true)
    }
    expect(issuer.requests.introspection).toBe(3)
    for (const value of ['{', '{"at":"x"}', '{"at":1,"members":{"active":false}}', 'null']) {
      const v = validator({ cache: { get: () => value, set: () => undefined } })
      expect((await v.verify(issuer.mintOpaque())).claims.active).toBe(true)
    }
  })

  it('an entry from the future (another clock) is not reused', async () => {
    issuer.resetCounts()
    const token = issuer.mintOpaque()
    const future = JSON.stringify({ at: clock.now() + 60_000, members: { active: true } })
    await validator({ cache: { get: () => future, set: () => undefined } }).verify(token)
    expect(issuer.requests.introspection).toBe(1)
  })

  it('cache: false keeps answers in the verified-token cache only', async () => {
    issuer.resetCounts()
    const token = issuer.mintOpaque()
    await validator({ cache: false }).verify(token)
    await validator({ cache: false }).verify(token)
    expect(issuer.requests.introspection).toBe(2)
  })
})

describe('single flight', () => {
  it('a cold stampede of 1,000 requests carrying one opaque token makes one introspection call', async () => {
    issuer.resetCounts()
    const v = validator()
    const token = issuer.mintOpaque({ scope: 'orders:read' })
    const results = await Promise.all(
      Array.from({ length: 1000 }, () =>
        v.verifyRequest({
          method: 'GET',
          url: '/orders',
          headers: { authorization: `Bearer ${token}` },
        }),
      ),
    )
    expect(results.every((auth) => auth.claims.scope === 'orders:read')).toBe(true)
    expect(issuer.requests.introspection).toBe(1)
  })

  it('with a slow shared store in front, still one call', async () => {
    issuer.resetCounts()
    const memory = new MemoryIntrospectionCache({ clock: clock.now })
    const slow: IntrospectionCache = {
      get: (key) =>
        new Promise((resolve) =>
          setTimeout(() => {
            resolve(memory.get(key))
          }, 5),
        ),
      set: (key, value, expiresAt) => {
        memory.set(key, value, expiresAt)
      },
    }
    const v = validator({ cache: slow }, { tokenCache: false })
    const token = issuer.mintOpaque()
    await Promise.all(Array.from({ length: 200 }, () => v.verify(token)))
    expect(issuer.requests.introspection).toBe(1)
  })

  it('a refusal is shared by the requests that waited for it, then forgotten', async () => {
    issuer.resetCounts()
    const v = validator()
    const token = issuer.mintOpaque()
    issuer.revoke(token)
    const outcomes = await Promise.allSettled(Array.from({ length: 50 }, () => v.verify(token)))
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true)
    expect(issuer.requests.introspection).toBe(1)
    await expectInvalid(v.verify(token), 'ERR_TOKEN_INACTIVE')
    expect(issuer.requests.introspection).toBe(2)
  })
})

describe('MemoryIntrospectionCache', () => {
  it('answers until expiresAt by its clock, then forgets', () => {
    const local = manualClock()
    const cache = new MemoryIntrospectionCache({ clock: local.now })
    cache.set('k', 'v', local.now() + 1000)
    expect(cache.get('k')).toBe('v')
    local.advance(999)
    expect(cache.get('k')).toBe('v')
    local.advance(1)
    expect(cache.get('k')).toBeUndefined()
    expect(cache.size).toBe(0)
    cache.set('k', 'v', local.now())
    expect(cache.get('k')).toBeUndefined()
  })

  it('is bounded: the least recently used entry goes first', () => {
    const cache = new MemoryIntrospectionCache({ maxEntries: 2 })
    const later = Date.now() + 60_000
    cache.set('a', '1', later)
    cache.set('b', '2', later)
    cache.get('a')
    cache.set('c', '3', later)
    expect(cache.get('a')).toBe('1')
    expect(cache.get('b')).toBeUndefined()
    expect(cache.size).toBe(2)
  })

  it('refuses bad arguments and options', () => {
    const cache = new MemoryIntrospectionCache()
    expect(() => {
      cache.set('', 'v', Date.now() + 1)
    }).toThrow(TypeError)
    expect(() => {
      cache.set('k', 1 as unknown as string, Date.now() + 1)
    }).toThrow(TypeError)
    expect(() => {
      cache.set('k', 'v', Number.NaN)
    }).toThrow(TypeError)
    expect(() => new MemoryIntrospectionCache({ maxEntries: 0 })).toThrow(TypeError)
  })
})
