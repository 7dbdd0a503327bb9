/**
 * RedisKeyRefetchCoordinator against a real Redis, with four validators ("instances") on one
 * issuer: a flood of made-up kids costs the issuer one JWKS fetch per cooldown for the fleet; a
 * real rotation is accepted everywhere (each instance fetching its own keys: no key material in
 * Redis); Redis down makes each instance refetch on its own (fail open: an economy, not a check).
 */
import {
  InvalidTokenError,
  createAccessTokenValidator,
  type AccessTokenValidator,
} from '@bearer-guard/core'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { createClient } from '@redis/client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RedisKeyRefetchCoordinator, createRedisStores } from '../src/index.js'
import { startRedis, stopped, type RedisServer } from './support/redis-server.js'

const AUDIENCE = 'https://api.example.com'
let redis: RedisServer
let issuer: TestIssuer
const opened: { close(): Promise<void> }[] = []

beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis.stop()
})
afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((c) => c.close()))
  await stopped(issuer)
})

let namespaceCount = 0
async function fleet(size: number): Promise<AccessTokenValidator[]> {
  issuer = await createTestIssuer()
  namespaceCount += 1
  const namespace = `keys-test:${String(namespaceCount)}`
  const instances = Array.from({ length: size }, () => {
    const coordinator = new RedisKeyRefetchCoordinator({ url: redis.url, namespace })
    opened.push(coordinator)
    return createAccessTokenValidator({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      unknownKeyCooldown: 30,
      keyRefetchCoordinator: coordinator,
    })
  })
  await Promise.all(instances.map(async (v) => v.verify(await issuer.mint())))
  expect(issuer.requests.jwks).toBe(size)
  return instances
}

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'accepted',
    (error: unknown) => error,
  )
}

describe('RedisKeyRefetchCoordinator', () => {
  it('a flood of made-up kids across 4 instances costs one JWKS fetch per cooldown', async () => {
    const instances = await fleet(4)
    const tokens = await Promise.all(
      Array.from({ length: 80 }, (_, i) =>
        issuer.mint({}, { header: { kid: `made-up-${String(i)}` } }),
      ),
    )
    const outcomes = await Promise.all(
      tokens.map((token, i) => refusal(instances[i % 4]!.verify(token))),
    )
    for (const outcome of outcomes) {
      expect(outcome).toBeInstanceOf(InvalidTokenError)
      expect((outcome as InvalidTokenError).code).toBe('ERR_TOKEN_KEY_NOT_FOUND')
    }
    expect(issuer.requests.jwks).toBe(4 + 1)
  })

  it('a real rotation is accepted by every instance, each fetching its own keys', async () => {
    const instances = await fleet(4)
    const added = await issuer.generateKey()
    issuer.publishKey(added)
    const subjects = await Promise.all(
      instances.map(async (v, i) => {
        const token = await issuer.mint({ sub: `rotated-${String(i)}` }, { key: added })
        return (await v.verify(token)).claims.sub
      }),
    )
    expect(subjects).toEqual(['rotated-0', 'rotated-1', 'rotated-2', 'rotated-3'])
    expect(issuer.requests.jwks).toBe(4 + 4)
  })

  it('stores only kids, hashed per issuer, with the cooldown as TTL', async () => {
    const instances = await fleet(2)
    await refusal(instances[0]!.verify(await issuer.mint({}, { header: { kid: 'made-up' } })))
    const client = createClient({ url: redis.url })
    await client.connect()
    try {
      const keys = (await client.keys(`keys-test:${String(namespaceCount)}:*`)).sort()
      expect(keys).toHaveLength(2)
      expect(keys.every((k) => !k.includes(issuer.issuer))).toBe(true)
      const kidsKey = keys.find((k) => k.endsWith(':kids'))!
      const stored = JSON.parse((await client.get(kidsKey))!) as unknown
      expect(stored).toEqual([issuer.activeKey.kid])
      const ttl = await client.pTTL(kidsKey)
      expect(ttl).toBeGreaterThan(0)
      expect(ttl).toBeLessThanOrEqual(30_000)
    } finally {
      client.destroy()
    }
  })

  it('Redis down: each instance refetches on its own (fail open) and rotations still work', async () => {
    const instances = await fleet(2)
    await redis.kill()
    try {
      const added = await issuer.generateKey()
      issuer.publishKey(added)
      for (const v of instances) {
        const token = await issuer.mint({ sub: 'during-outage' }, { key: added })
        expect((await v.verify(token)).claims.sub).toBe('during-outage')
      }
      expect(issuer.requests.jwks).toBe(2 + 2)
    } finally {
      await redis.restart()
    }
  })

  it('createRedisStores gives one, and unknown options are refused', async () => {
    const stores = createRedisStores({ url: redis.url, namespace: 'keys-test:stores' })
    opened.push(stores)
    expect(stores.keyRefetch).toBeInstanceOf(RedisKeyRefetchCoordinator)
    issuer = await createTestIssuer()
    expect(
      () =>
        new RedisKeyRefetchCoordinator({
          url: redis.url,
          namespace: 'x',
          commandTimout: 1,
        } as never),
    ).toThrow(/commandTimout/)
  })
})
