/**
 * The introspection cache on a real Redis, with core and the real test issuer: one introspection
 * call for the fleet, hashed keys, TTLs bounded by the token's `exp` (RFC 7662 §4), answers that
 * never cross authorization servers, positive answers only, and Redis down costing calls, never
 * requests.
 */
import {
  createAccessTokenValidator,
  type AccessTokenValidator,
  type IntrospectionSettings,
} from '@bearer-guard/core'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { createClient, type RedisClientType } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisIntrospectionCache, createRedisStores } from '../src/index.js'
import { startRedis, stopped, type RedisServer } from './support/redis-server.js'

const AUDIENCE = 'https://api.example.com'
const CLIENT = { clientId: 'orders-api', clientSecret: 's3cret' }
let redis: RedisServer
let inspect: RedisClientType
let issuer: TestIssuer
const open: { close(): Promise<void> }[] = []

beforeAll(async () => {
  redis = await startRedis()
  inspect = createClient({ url: redis.url })
  await inspect.connect()
  issuer = await createTestIssuer({ clients: [CLIENT] })
})
afterAll(async () => {
  await Promise.allSettled(open.map((store) => store.close()))
  await stopped(inspect)
  await stopped(issuer)
  await stopped(redis)
})

async function cache(namespace: string, maxTtl?: number): Promise<RedisIntrospectionCache> {
  const store = new RedisIntrospectionCache({
    url: redis.url,
    namespace,
    ...(maxTtl === undefined ? {} : { maxTtl }),
  })
  open.push(store)
  // Connected before the first request (before, it fails open: a call more).
  await store.ready()
  return store
}

function instance(
  store: RedisIntrospectionCache,
  at: TestIssuer = issuer,
  introspection: Partial<IntrospectionSettings> = {},
): AccessTokenValidator {
  return createAccessTokenValidator({
    issuer: at.issuer,
    audience: AUDIENCE,
    introspection: { ...CLIENT, cache: store, ...introspection },
  })
}

async function keys(pattern: string): Promise<string[]> {
  const found: string[] = []
  for await (const batch of inspect.scanIterator({ MATCH: pattern, COUNT: 1000 })) {
    found.push(...batch)
  }
  return found.sort()
}

describe('RedisIntrospectionCache with core', () => {
  it('two instances, one token: one introspection call for the fleet', async () => {
    const store = await cache('fleet')
    issuer.resetCounts()
    const token = issuer.mintOpaque({ scope: 'orders:read' })
    const [one, two] = [instance(store), instance(store)]
    expect((await one.verify(token)).claims.scope).toBe('orders:read')
    expect((await two.verify(token)).claims.scope).toBe('orders:read')
    expect(issuer.requests.introspection).toBe(1)
  })

  it('keys are namespaced hashes; neither key nor value holds the token', async () => {
    const store = await cache('shape')
    const token = issuer.mintOpaque({ sub: 'alice' })
    await instance(store).verify(token)
    const all = await keys('shape:*')
    expect(all).toHaveLength(1)
    expect(all[0]).toMatch(/^shape:introspection:[A-Za-z0-9_-]{43}$/)
    expect(all[0]).not.toContain(token)
    const value = await inspect.get(all[0] as string)
    expect(value).not.toContain(token)
    expect(JSON.parse(value as string)).toMatchObject({ members: { active: true, sub: 'alice' } })
  })

  it("RFC 7662 §4: the TTL never outlives the token's exp, nor cacheMaxAge, nor maxTtl", async () => {
    const store = await cache('ttl')
    const now = Math.floor(Date.now() / 1000)
    await instance(store).verify(issuer.mintOpaque({ exp: now + 10 }))
    await instance(store, issuer, { cacheMaxAge: 30 }).verify(issuer.mintOpaque())
    const ttls = await Promise.all((await keys('ttl:*')).map((key) => inspect.pTTL(key)))
    expect(ttls.sort((a, b) => a - b)).toHaveLength(2)
    expect(ttls[0]).toBeGreaterThan(5000)
    expect(ttls[0]).toBeLessThanOrEqual(10_000)
    expect(ttls[1]).toBeGreaterThan(25_000)
    expect(ttls[1]).toBeLessThanOrEqual(30_000)

    const bounded = await cache('ttl-bounded', 5)
    await instance(bounded, issuer, { cacheMaxAge: 3600 }).verify(issuer.mintOpaque())
    const [key] = await keys('ttl-bounded:*')
    expect(await inspect.pTTL(key as string)).toBeLessThanOrEqual(5000)
  })

  it('positive answers only: an inactive token leaves nothing in Redis', async () => {
    const store = await cache('negative')
    const token = issuer.mintOpaque()
    issuer.revoke(token)
    await expect(instance(store).verify(token)).rejects.toMatchObject({
      code: 'ERR_TOKEN_INACTIVE',
    })
    expect(await keys('negative:*')).toEqual([])
  })

  it('one namespace, two authorization servers: an answer never crosses them (GHSA-84rm-mhfq-f476)', async () => {
    const other = await createTestIssuer({ clients: [CLIENT] })
    try {
      const store = await cache('crossing')
      const token = issuer.mintOpaque()
      await instance(store).verify(token)
      // The other server never issued this token: it must be asked, and say so.
      await expect(instance(store, other).verify(token)).rejects.toMatchObject({
        code: 'ERR_TOKEN_INACTIVE',
      })
      expect(other.requests.introspection).toBe(1)
    } finally {
      await other.close()
    }
  })

  it('Redis down: every request is still answered, by the authorization server', async () => {
    const store = await cache('down')
    const v = instance(store)
    const before = issuer.mintOpaque()
    await v.verify(before)
    redis.pause()
    try {
      issuer.resetCounts()
      const fresh = createAccessTokenValidator({
        issuer: issuer.issuer,
        audience: AUDIENCE,
        introspection: { ...CLIENT, cache: store },
      })
      expect((await fresh.verify(before)).claims.active).toBe(true)
      expect((await fresh.verify(issuer.mintOpaque())).claims.active).toBe(true)
      expect(issuer.requests.introspection).toBe(2)
    } finally {
      redis.resume()
    }
  })
})

describe('options', () => {
  it('checks its options once, and createRedisStores makes one', async () => {
    const url = 'redis://127.0.0.1:1'
    expect(() => new RedisIntrospectionCache({ url, namespace: 'a', maxTtl: 0 })).toThrow(/maxTtl/)
    expect(
      () =>
        new RedisIntrospectionCache({ url, namespace: 'a', maxTTL: 5 } as unknown as {
          url: string
          namespace: string
        }),
    ).toThrow(/unknown RedisIntrospectionCache option 'maxTTL'/)
    expect(() =>
      createRedisStores({
        url,
        namespace: 'a',
        introspection: { syncInterval: 1 } as unknown as { maxTtl: number },
      }),
    ).toThrow(/unknown introspection option/)
    const stores = createRedisStores({ url: redis.url, namespace: 'stores' })
    try {
      await stores.ready()
      await stores.introspection.set('k', 'v', Date.now() + 10_000)
      expect(await stores.introspection.get('k')).toBe('v')
      // Already expired: nothing written.
      await stores.introspection.set('gone', 'v', Date.now() - 1)
      expect(await stores.introspection.get('gone')).toBeUndefined()
    } finally {
      await stores.close()
    }
    await expect(stores.introspection.get('k')).rejects.toThrow(/closed/)
  })
})
