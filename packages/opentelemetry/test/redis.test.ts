/**
 * The Redis stores' channels, recorded from a real `redis-server` and real
 * `@bearer-guard/redis` stores: connections coming up and going down, revocation loads.
 */
import { redisChannels } from '@bearer-guard/redis'
import { createRedisStores, type RedisStores } from '@bearer-guard/redis'
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest'
import { recordMetrics } from '../src/index.js'
// The Redis package's own test server: a real redis-server on a free loopback port.
import { startRedis, stopped, type RedisServer } from '../../redis/test/support/redis-server.js'
import { testMeter, type TestMeter } from './support/metrics.js'

const STATUS_CHANGES = 'bearer_guard.redis.connection.status_changes'
const SYNC_DURATION = 'bearer_guard.redis.sync.duration'
const REVOCATION_COUNT = 'bearer_guard.redis.revocation.count'
const ROLE = 'bearer_guard.redis.connection.role'
const STATUS = 'bearer_guard.redis.connection.status'
const NAMESPACE = 'bearer_guard.redis.namespace'
const REASON = 'bearer_guard.redis.sync.reason'

let redis: RedisServer | undefined
let meter: TestMeter
let stop: () => void
const stores: RedisStores[] = []

beforeAll(async () => {
  redis = await startRedis()
  meter = testMeter()
  stop = recordMetrics({ meterProvider: meter.meterProvider })
})
afterEach(async () => {
  await Promise.allSettled(stores.splice(0).map((s) => s.close()))
})
afterAll(async () => {
  stop()
  await meter.shutdown()
  await stopped(redis)
})

it('listens on the channels @bearer-guard/redis publishes on', () => {
  // This package names them itself, so that it never loads the Redis client.
  expect(redisChannels).toEqual({
    status: 'bearer-guard:redis:status',
    sync: 'bearer-guard:redis:sync',
  })
})

it('records connection changes, revocation loads and the live revocations', async () => {
  const server = redis!
  const first = createRedisStores({ url: server.url, namespace: 'orders-api:test' })
  stores.push(first)
  await first.ready()
  await first.revocation.revoke('a-revoked-jti', Date.now() + 60_000)
  // A second instance loads the lists at start: one revocation.
  const second = createRedisStores({ url: server.url, namespace: 'orders-api:test' })
  stores.push(second)
  await second.ready()

  let collected = await meter.collect()
  expect(
    collected.value(STATUS_CHANGES, { [ROLE]: 'commands', [STATUS]: 'connected' }),
  ).toBeGreaterThanOrEqual(2)
  expect(
    collected.value(STATUS_CHANGES, { [ROLE]: 'subscriber', [STATUS]: 'connected' }),
  ).toBeGreaterThanOrEqual(2)
  const initial = collected.points(SYNC_DURATION).find((p) => p.attributes[REASON] === 'initial')
  expect(initial).toMatchObject({
    attributes: { [NAMESPACE]: 'orders-api:test', [REASON]: 'initial' },
    value: 2,
  })
  expect(initial?.sum).toBeLessThan(1) // seconds
  expect(collected.value(REVOCATION_COUNT, { [NAMESPACE]: 'orders-api:test' })).toBe(1)
  expect(JSON.stringify(collected.points(REVOCATION_COUNT))).not.toContain('a-revoked-jti')

  await server.kill('SIGKILL')
  await vi.waitFor(
    async () => {
      collected = await meter.collect()
      expect(
        collected.value(STATUS_CHANGES, { [ROLE]: 'commands', [STATUS]: 'disconnected' }),
      ).toBeGreaterThanOrEqual(1)
    },
    { timeout: 5_000, interval: 50 },
  )
})
