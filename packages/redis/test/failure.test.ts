/**
 * Failure is explicit: with Redis killed, hung, or out of one instance's reach, replay claims
 * fail closed within the command timeout, the revocation mirror keeps answering from memory, a
 * diagnostics event says so, and everything recovers by itself when Redis is back.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { performance } from 'node:perf_hooks'
import { KeySetUnavailableError } from '@bearer-guard/core'
import { createClient } from '@redis/client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  RedisReplayStore,
  RedisRevocationStore,
  createRedisStores,
  redisChannels,
  type RedisStatusEvent,
  type RedisSyncEvent,
} from '../src/index.js'
import {
  eventually,
  partitionable,
  startRedis,
  stopped,
  type Partition,
  type RedisServer,
} from './support/redis-server.js'

const ISS = 'https://auth.example.com/'
const TIMEOUT_MS = 200
let redis: RedisServer
const cleanup: (() => Promise<unknown>)[] = []
let events: (RedisStatusEvent | RedisSyncEvent)[] = []
const record = (message: unknown) => events.push(message as RedisStatusEvent)

beforeAll(async () => {
  redis = await startRedis()
  subscribe(redisChannels.status, record)
  subscribe(redisChannels.sync, record)
})
afterEach(async () => {
  await Promise.allSettled(cleanup.splice(0).map((close) => close()))
  events = []
})
afterAll(async () => {
  unsubscribe(redisChannels.status, record)
  unsubscribe(redisChannels.sync, record)
  await stopped(redis)
})

async function elapsed(promise: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now()
  try {
    await promise
    return { ms: performance.now() - started, error: undefined }
  } catch (error) {
    return { ms: performance.now() - started, error }
  }
}

const soon = () => Date.now() + 60_000

describe('Redis killed, then restarted on the same port', () => {
  it('claims fail closed at once, revocations answer from memory, both recover by themselves', async () => {
    const stores = createRedisStores({
      url: redis.url,
      namespace: 'killed',
      commandTimeout: TIMEOUT_MS / 1000,
    })
    cleanup.push(() => stores.close())
    await stores.ready()
    await stores.revocation.revoke('revoked-before', soon())
    expect(await stores.replay.claimOnce('dpop:k:before', soon())).toBe(true)

    await redis.kill('SIGKILL')
    const down = await elapsed(stores.replay.claimOnce('dpop:k:during', soon()))
    expect(down.error).toBeInstanceOf(Error)
    expect(down.ms).toBeLessThan(TIMEOUT_MS + 100)
    // The mirror answers from memory, synchronously.
    expect(stores.revocation.isRevoked({ iss: ISS, jti: 'revoked-before' })).toBe(true)
    expect(stores.revocation.isRevoked({ iss: ISS, jti: 'other' })).toBe(false)
    // A revocation made meanwhile is honoured here, and the caller learns it did not reach Redis.
    await expect(stores.revocation.revoke('revoked-during', soon())).rejects.toThrow()
    expect(stores.revocation.isRevoked({ iss: ISS, jti: 'revoked-during' })).toBe(true)
    await eventually(
      () =>
        ['commands', 'subscriber'].every((connection) =>
          events.some(
            (e) => 'connection' in e && e.connection === connection && e.status === 'disconnected',
          ),
        ),
      2000,
      'disconnected events for both connections',
    )

    await redis.restart()
    const recovered = performance.now()
    await eventually(
      async () => {
        try {
          return await stores.replay.claimOnce(`dpop:k:after-${performance.now()}`, soon())
        } catch {
          return false
        }
      },
      10_000,
      'claims succeeding again',
    )
    console.info(`claims recovered ${(performance.now() - recovered).toFixed(0)} ms after restart`)
    await eventually(
      () =>
        ['commands', 'subscriber'].every((connection) =>
          events.some(
            (e) => 'connection' in e && e.connection === connection && e.status === 'connected',
          ),
        ),
      10_000,
      'connected events for both connections',
    )
    await eventually(
      () => events.some((e) => 'reason' in e && e.reason === 'reconnect'),
      10_000,
      'the reload after reconnection',
    )
    // Redis restarted empty (no persistence in this test); the mirror keeps what it knew.
    expect(stores.revocation.isRevoked({ iss: ISS, jti: 'revoked-before' })).toBe(true)
    // New revocations flow again.
    const other = new RedisRevocationStore({ url: redis.url, namespace: 'killed' })
    cleanup.push(() => other.close())
    await other.ready()
    await other.revoke('revoked-after', soon())
    await eventually(
      () => stores.revocation.isRevoked({ iss: ISS, jti: 'revoked-after' }),
      2000,
      'a revocation after the restart',
    )
    // No event carried a key or a token.
    expect(JSON.stringify(events)).not.toMatch(/revoked-|dpop:k/)
  })
})

describe('Redis hung (SIGSTOP)', () => {
  it('claims reject within the command timeout, with or without an offline queue', async () => {
    // A client of the application's own, with node-redis defaults (offline queue on).
    const client = createClient({ url: redis.url })
    client.on('error', () => undefined)
    await client.connect()
    cleanup.push(() => client.close())
    const given = new RedisReplayStore({
      client,
      namespace: 'hung',
      commandTimeout: TIMEOUT_MS / 1000,
    })
    const owned = new RedisReplayStore({
      url: redis.url,
      namespace: 'hung',
      commandTimeout: TIMEOUT_MS / 1000,
    })
    cleanup.push(
      () => given.close(),
      () => owned.close(),
    )
    await Promise.all([given.ready(), owned.ready()])

    redis.pause()
    try {
      const results = await Promise.all([
        elapsed(given.claimOnce('dpop:k:hung-1', soon())),
        elapsed(owned.claimOnce('dpop:k:hung-2', soon())),
      ])
      for (const { ms, error } of results) {
        expect(error).toBeInstanceOf(Error)
        expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 5)
        expect(ms).toBeLessThan(TIMEOUT_MS + 150)
      }
      expect(events).toContainEqual(
        expect.objectContaining({ connection: 'commands', status: 'error' }),
      )
    } finally {
      redis.resume()
    }
    // Answers line up again after the abandoned commands.
    expect(await given.claimOnce('dpop:k:after-hang', soon())).toBe(true)
    expect(await owned.claimOnce('dpop:k:after-hang', soon())).toBe(false)
    expect(events).toContainEqual(
      expect.objectContaining({ connection: 'commands', status: 'connected' }),
    )
  })
})

describe('one instance cut off from Redis while the fleet is not', () => {
  let partition: Partition
  beforeAll(async () => {
    partition = await partitionable(redis.port)
  })
  afterAll(async () => {
    await stopped(partition)
  })

  it('revocations issued while it was cut off reach it when it reconnects', async () => {
    const a = new RedisRevocationStore({ url: redis.url, namespace: 'cut' })
    const b = new RedisRevocationStore({ url: partition.url, namespace: 'cut' })
    const bReplay = new RedisReplayStore({
      url: partition.url,
      namespace: 'cut',
      commandTimeout: TIMEOUT_MS / 1000,
    })
    cleanup.push(
      () => a.close(),
      () => b.close(),
      () => bReplay.close(),
    )
    await Promise.all([a.ready(), b.ready(), bReplay.ready()])

    partition.cut()
    await a.revoke('while-cut', soon())
    await a.revokeSubject(ISS, 'mallory', Date.now())
    await expect(bReplay.claimOnce('dpop:k:cut', soon())).rejects.toThrow()
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(b.isRevoked({ iss: ISS, jti: 'while-cut' })).toBe(false) // it cannot know yet

    partition.restore()
    const restored = performance.now()
    await eventually(() => b.isRevoked({ iss: ISS, jti: 'while-cut' }), 10_000, 'catch-up')
    console.info(`caught up ${(performance.now() - restored).toFixed(0)} ms after the partition`)
    expect(b.isRevoked({ iss: ISS, sub: 'mallory', iat: 1 })).toBe(true)
    await eventually(
      async () => bReplay.claimOnce(`dpop:k:${performance.now()}`, soon()).catch(() => false),
      10_000,
      'claims through the restored partition',
    )
  })

  it('with maxStaleness, fails closed (503) once the mirror is that old, and recovers', async () => {
    const b = new RedisRevocationStore({
      url: partition.url,
      namespace: 'stale',
      syncInterval: 0.1,
      maxStaleness: 0.3,
      commandTimeout: 0.1,
    })
    cleanup.push(() => b.close())
    await b.ready()
    expect(b.isRevoked({ iss: ISS, jti: 'x' })).toBe(false)

    partition.cut()
    await eventually(
      () => {
        try {
          b.isRevoked({ iss: ISS, jti: 'x' })
          return false
        } catch (error) {
          expect(error).toBeInstanceOf(KeySetUnavailableError)
          expect((error as KeySetUnavailableError).status).toBe(503)
          return true
        }
      },
      3000,
      'failing closed',
    )
    partition.restore()
    await eventually(
      () => {
        try {
          return !b.isRevoked({ iss: ISS, jti: 'x' })
        } catch {
          return false
        }
      },
      10_000,
      'answering again',
    )
  })
})
