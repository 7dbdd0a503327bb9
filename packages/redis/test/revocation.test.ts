/**
 * The revocation store on a real Redis: a revocation on one instance reaches every other's
 * in-memory mirror through pub/sub, a new instance loads what is there, a missed message is
 * noticed, and nothing in Redis names a token or a subject in clear.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { performance } from 'node:perf_hooks'
import { setImmediate as tick } from 'node:timers/promises'
import { createClient, type RedisClientType } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  RedisRevocationStore,
  createRedisStores,
  redisChannels,
  type RedisRevocationSettings,
  type RedisSyncEvent,
} from '../src/index.js'
import { digest, keysOf } from '../src/keys.js'
import { WRITE } from '../src/scripts.js'
import { eventually, startRedis, stopped, type RedisServer } from './support/redis-server.js'

const ISS = 'https://auth.example.com/'
let redis: RedisServer
let inspect: RedisClientType
const open: RedisRevocationStore[] = []

beforeAll(async () => {
  redis = await startRedis()
  inspect = createClient({ url: redis.url })
  await inspect.connect()
})
afterAll(async () => {
  await Promise.allSettled(open.map((store) => store.close()))
  await stopped(inspect)
  await stopped(redis)
})

async function instance(namespace: string, settings: RedisRevocationSettings = {}) {
  const store = new RedisRevocationStore({ url: redis.url, namespace, ...settings })
  open.push(store)
  await store.ready()
  return store
}

const inAnHour = () => Date.now() + 3_600_000

describe('RedisRevocationStore', () => {
  it('a revocation on one instance reaches another', async () => {
    const a = await instance('fleet')
    const b = await instance('fleet')
    const token = { iss: ISS, jti: 'token-1', sub: 'alice', iat: Math.floor(Date.now() / 1000) }
    expect(b.isRevoked(token)).toBe(false)
    await a.revoke('token-1', inAnHour())
    expect(a.isRevoked(token)).toBe(true) // at once on the instance that revoked it
    await eventually(() => b.isRevoked(token), 2000, 'the revocation on b')
    expect(b.isRevoked({ ...token, jti: 'token-2' })).toBe(false)

    // Every token of a subject issued at or before `before`; later ones unaffected.
    const before = Date.now()
    await b.revokeSubject(ISS, 'bob', before)
    const old = { iss: ISS, sub: 'bob', iat: Math.floor(before / 1000) - 60 }
    await eventually(() => a.isRevoked(old), 2000, 'the subject revocation on a')
    expect(a.isRevoked({ ...old, iat: Math.floor(before / 1000) + 60 })).toBe(false)
    expect(a.isRevoked({ ...old, iss: 'https://other.example.com/' })).toBe(false)
    expect(a.isRevoked({ iss: ISS, sub: 'bob' })).toBe(true) // no iat: counts as before
  })

  it('a new instance loads the revocations already in Redis', async () => {
    const a = await instance('restart')
    await a.revoke('early', inAnHour())
    await a.revokeSubject(ISS, 'carol', Date.now())
    const syncs: RedisSyncEvent[] = []
    const onSync = (message: unknown) => syncs.push(message as RedisSyncEvent)
    subscribe(redisChannels.sync, onSync)
    try {
      const late = await instance('restart')
      expect(late.isRevoked({ iss: ISS, jti: 'early' })).toBe(true)
      expect(late.isRevoked({ iss: ISS, sub: 'carol', iat: 1 })).toBe(true)
      expect(syncs).toContainEqual(
        expect.objectContaining({ namespace: 'restart', reason: 'initial', revocations: 2 }),
      )
    } finally {
      unsubscribe(redisChannels.sync, onSync)
    }
  })

  it('keeps namespaces apart, stores only hashes, and bounds every TTL by the token lifetime', async () => {
    const blue = await instance('ns:blue', { maxTokenLifetime: 7200 })
    const green = await instance('ns:green')
    const exp = Date.now() + 600_000
    await blue.revoke('secret-jti-value', exp)
    await blue.revokeSubject(ISS, 'dave@example.com', Date.now())
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(green.isRevoked({ iss: ISS, jti: 'secret-jti-value' })).toBe(false)
    expect(green.isRevoked({ iss: ISS, sub: 'dave@example.com', iat: 1 })).toBe(false)

    const keys: string[] = []
    for await (const batch of inspect.scanIterator({ MATCH: 'ns:*' })) keys.push(...batch)
    expect(keys.sort()).toEqual(['ns:blue:rev:jti', 'ns:blue:rev:sub', 'ns:blue:rev:version'])
    const dump = JSON.stringify([
      await inspect.zRangeWithScores('ns:blue:rev:jti', 0, -1),
      await inspect.zRangeWithScores('ns:blue:rev:sub', 0, -1),
    ])
    expect(dump).not.toContain('secret-jti')
    expect(dump).not.toContain('dave')
    expect(dump).toContain(digest('secret-jti-value'))
    for (const key of keys) {
      const pttl = await inspect.pTTL(key)
      expect(pttl).toBeGreaterThan(0)
      // jti: until the token's exp; subject: maxTokenLifetime after `before`.
      expect(pttl).toBeLessThanOrEqual(7_200_000)
    }
    expect(await inspect.pTTL('ns:blue:rev:jti')).toBeLessThanOrEqual(600_000)
  })

  it('refuses revocations it could not keep for the token lifetime, ignores expired ones', async () => {
    const store = await instance('limits', { maxTokenLifetime: 60 })
    await expect(store.revoke('far', Date.now() + 61_000)).rejects.toThrow(RangeError)
    await expect(store.revokeSubject(ISS, 'erin', Date.now() + 61_000)).rejects.toThrow(RangeError)
    await store.revoke('gone', Date.now() - 1) // expired: nothing to keep
    expect(store.isRevoked({ iss: ISS, jti: 'gone' })).toBe(false)
    expect(await inspect.exists('limits:rev:jti')).toBe(0)
    await expect(store.revoke('', Date.now() + 1000)).rejects.toThrow(TypeError)
  })

  it('never shortens a revocation', async () => {
    const a = await instance('extend')
    const long = Date.now() + 3_000_000
    await a.revoke('twice', long)
    await a.revoke('twice', Date.now() + 60_000)
    expect(await inspect.zScore('extend:rev:jti', digest('twice'))).toBe(Math.ceil(long))
  })

  it('ignores malformed messages on the channel', async () => {
    const b = await instance('garbage')
    for (const message of ['', 'hello', 'j|1|short|1', `x|1|${digest('a')}|1`, 'j|1|'.repeat(99)]) {
      await inspect.publish('garbage:revocations', message)
    }
    await inspect.publish('garbage:revocations', `j|1|${digest('real')}|${inAnHour()}`)
    await eventually(() => b.isRevoked({ iss: ISS, jti: 'real' }), 2000, 'the well-formed one')
    expect(b.isRevoked({ iss: ISS, jti: 'a' })).toBe(false)
  })

  it('notices a missed message (a gap in the versions) and reloads', async () => {
    const a = await instance('gap')
    const b = await instance('gap')
    // A revocation that b's subscription never sees: written by the script, announced on a
    // channel nobody listens to. Only its version number is left for b to notice.
    const k = keysOf('gap')
    await inspect.sendCommand([
      'EVAL',
      WRITE.source,
      '2',
      k.revokedTokens,
      k.revocationVersion,
      digest('unannounced'),
      String(inAnHour()),
      String(Date.now()),
      '3600000',
      'gap:elsewhere',
      'j',
    ])
    expect(b.isRevoked({ iss: ISS, jti: 'unannounced' })).toBe(false)
    await a.revoke('announced', inAnHour()) // version n+2 reaches b: the gap shows
    await eventually(() => b.isRevoked({ iss: ISS, jti: 'unannounced' }), 2000, 'the reload')
  })

  it('notices a revocation it was never told of at the next check (syncInterval)', async () => {
    const b = await instance('check', { syncInterval: 0.1 })
    const k = keysOf('check')
    await inspect.sendCommand([
      'EVAL',
      WRITE.source,
      '2',
      k.revokedTokens,
      k.revocationVersion,
      digest('silent'),
      String(inAnHour()),
      String(Date.now()),
      '3600000',
      'check:elsewhere',
      'j',
    ])
    await eventually(() => b.isRevoked({ iss: ISS, jti: 'silent' }), 2000, 'the check')
  })

  it('works on a client the application made, and leaves it open', async () => {
    const client = createClient({ url: redis.url })
    client.on('error', () => undefined)
    await client.connect()
    const stores = createRedisStores({ client, namespace: 'given' })
    const other = await instance('given')
    await stores.ready()
    await stores.revocation.revoke('given-token', inAnHour())
    await eventually(() => other.isRevoked({ iss: ISS, jti: 'given-token' }), 2000, 'propagation')
    expect(await stores.replay.claimOnce('dpop:k:given', Date.now() + 60_000)).toBe(true)
    await stores.close()
    expect(client.isReady).toBe(true)
    expect(await client.ping()).toBe('PONG')
    await client.close()
  })

  it('propagates within a measured bound (revoke on A until isRevoked on B)', async () => {
    const a = await instance('bound')
    const b = await instance('bound')
    const trials = 500
    const samples: number[] = []
    for (let i = 0; i < trials; i++) {
      const query = { iss: ISS, jti: `measured-${i}` }
      const started = performance.now()
      const revoked = a.revoke(query.jti, inAnHour())
      while (!b.isRevoked(query)) await tick()
      samples.push(performance.now() - started)
      await revoked
    }
    samples.sort((x, y) => x - y)
    const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!
    const figures = {
      trials,
      p50: at(0.5).toFixed(2),
      p99: at(0.99).toFixed(2),
      max: samples[samples.length - 1]!.toFixed(2),
    }
    console.info(`revocation propagation (ms): ${JSON.stringify(figures)}`)
    // Loose bounds so a loaded CI machine passes; the README reports the measured figures.
    expect(at(0.5)).toBeLessThan(50)
    expect(at(0.99)).toBeLessThan(250)
  })
})
