/**
 * The replay store on a real Redis: one claim per id across the fleet, TTLs bounded by the
 * proof's lifetime, keys namespaced and hashed.
 */
import { createClient, type RedisClientType } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { RedisReplayStore, createRedisStores, redisChannels } from '../src/index.js'
import { eventually, startRedis, stopped, type RedisServer } from './support/redis-server.js'

let redis: RedisServer
let inspect: RedisClientType
const open: { close(): Promise<void> }[] = []

beforeAll(async () => {
  redis = await startRedis()
  inspect = createClient({ url: redis.url })
  inspect.on('error', () => undefined) // the last test restarts Redis
  await inspect.connect()
})
afterAll(async () => {
  await Promise.allSettled(open.map((store) => store.close()))
  await stopped(inspect)
  await stopped(redis)
})

async function replayStore(namespace: string, options: { maxTtl?: number } = {}) {
  const store = new RedisReplayStore({ url: redis.url, namespace, ...options })
  open.push(store)
  await store.ready()
  return store
}

async function keys(pattern: string): Promise<string[]> {
  const found: string[] = []
  for await (const batch of inspect.scanIterator({ MATCH: pattern, COUNT: 1000 })) {
    found.push(...batch)
  }
  return found.sort()
}

describe('RedisReplayStore', () => {
  it('accepts an id once: 200 concurrent claims from two instances, exactly one true', async () => {
    const a = await replayStore('atomic')
    const b = await replayStore('atomic')
    const expiresAt = Date.now() + 60_000
    for (let round = 0; round < 5; round++) {
      const id = `dpop:jkt-${round}:jti-${round}`
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).claimOnce(id, expiresAt)),
      )
      expect(answers.filter(Boolean)).toHaveLength(1)
    }
  })

  it('sets the TTL to the time left until expiresAt, at least 1 ms', async () => {
    const store = await replayStore('ttl')
    const now = Date.now()
    expect(await store.claimOnce('dpop:k:long', now + 90_000)).toBe(true)
    const [key] = await keys('ttl:replay:*')
    const pttl = await inspect.pTTL(key!)
    expect(pttl).toBeGreaterThan(85_000)
    expect(pttl).toBeLessThanOrEqual(90_000)

    // Already past: stored for 1 ms (a TTL is never zero or negative), so it answers once.
    expect(await store.claimOnce('dpop:k:past', now - 5000)).toBe(true)
  })

  it('refuses (fails closed) an id that would have to live longer than maxTtl', async () => {
    const store = await replayStore('bounded', { maxTtl: 120 })
    await expect(store.claimOnce('dpop:k:j', Date.now() + 121_000)).rejects.toThrow(RangeError)
    expect(await keys('bounded:replay:*')).toEqual([])
    expect(await store.claimOnce('dpop:k:j', Date.now() + 119_000)).toBe(true)
  })

  it('keeps namespaces apart, and no raw id in any key', async () => {
    const blue = await replayStore('app:blue')
    const green = await replayStore('app:green')
    const id = 'dpop:NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs:e1j3V_bKic8-LAEB'
    const expiresAt = Date.now() + 60_000
    expect(await blue.claimOnce(id, expiresAt)).toBe(true)
    expect(await green.claimOnce(id, expiresAt)).toBe(true)
    expect(await blue.claimOnce(id, expiresAt)).toBe(false)
    expect(await green.claimOnce(id, expiresAt)).toBe(false)

    expect(await keys('app:*:replay-epoch')).toEqual([
      'app:blue:replay-epoch',
      'app:green:replay-epoch',
    ])
    const all = await keys('app:*:replay:*')
    expect(all).toHaveLength(2)
    for (const key of all) {
      expect(key).toMatch(/^app:(blue|green):replay:[A-Za-z0-9_-]{43}$/)
      expect(key).not.toContain('NzbLsXh8')
      expect(key).not.toContain('e1j3V_bKic8')
      expect(await inspect.get(key)).toBe('1')
    }
  })

  it('claims by EVALSHA, sends the script text only when Redis lacks it, and reports no error then', async () => {
    const store = await replayStore('sha')
    const stats = async () => {
      const info = await inspect.info('commandstats')
      const calls = (name: string) =>
        Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0)
      return { eval: calls('eval'), evalsha: calls('evalsha') }
    }
    const events: unknown[] = []
    const record = (message: unknown) => events.push(message)
    subscribe(redisChannels.status, record)
    try {
      await inspect.scriptFlush()
      const before = await stats()
      const at = Date.now() + 60_000
      // The first claim finds no script (NOSCRIPT), sends it once; the rest name it by its SHA-1.
      for (let i = 0; i < 10; i++) expect(await store.claimOnce(`dpop:k:sha-${i}`, at)).toBe(true)
      expect(await store.claimOnce('dpop:k:sha-3', at)).toBe(false)
      const after = await stats()
      expect(after.eval - before.eval).toBe(1)
      expect(after.evalsha - before.evalsha).toBe(11)
      // A flushed script cache (as after a restart) is refilled the same way.
      await inspect.scriptFlush()
      expect(await store.claimOnce('dpop:k:sha-10', at)).toBe(true)
      expect(await store.claimOnce('dpop:k:sha-10', at)).toBe(false)
      expect((await stats()).eval - after.eval).toBe(1)
      // NOSCRIPT is not a connection error: no status was published.
      expect(events).toEqual([])
    } finally {
      unsubscribe(redisChannels.status, record)
    }
  })

  it('checks its options once, at construction', () => {
    const url = 'redis://127.0.0.1:1'
    expect(() => new RedisReplayStore({ url, namespace: '' })).toThrow(TypeError)
    expect(() => new RedisReplayStore({ url, namespace: 'a*b' })).toThrow(/namespace/)
    expect(() => new RedisReplayStore({ url, namespace: 'a', maxTtl: 0 })).toThrow(/maxTtl/)
    expect(() => new RedisReplayStore({ url, namespace: 'a', commandTimeout: -1 })).toThrow(
      /commandTimeout/,
    )
    expect(() => new RedisReplayStore({ url: 'http://x', namespace: 'a' })).toThrow(/url/)
    expect(
      () =>
        new RedisReplayStore({ url, namespace: 'a', maxTTL: 5 } as unknown as {
          url: string
          namespace: string
        }),
    ).toThrow(/unknown RedisReplayStore option 'maxTTL'/)
    expect(() =>
      createRedisStores({ url, namespace: 'a', revocation: { syncInterval: 10, maxStaleness: 5 } }),
    ).toThrow(/maxStaleness/)
    expect(() =>
      createRedisStores({
        url,
        namespace: 'a',
        replay: { maxTokenLifetime: 5 } as unknown as { maxTtl: number },
      }),
    ).toThrow(/unknown replay option/)
  })

  it('rejects claims after close, and a closed store does not close a client it was given', async () => {
    const client = createClient({ url: redis.url })
    client.on('error', () => undefined)
    await client.connect()
    const store = new RedisReplayStore({ client, namespace: 'given' })
    expect(await store.claimOnce('dpop:k:1', Date.now() + 10_000)).toBe(true)
    await store.close()
    await expect(store.claimOnce('dpop:k:2', Date.now() + 10_000)).rejects.toThrow(/closed/)
    expect(client.isReady).toBe(true)
    await client.close()
  })

  // Last in this file: it restarts Redis.
  it('a Redis that lost its data refuses proofs issued before its memory begins, then accepts fresh ones', async () => {
    const store = await replayStore('restart')
    const issuedAt = Date.now()
    const expiresAt = issuedAt + 60_000
    expect(await store.claimOnce('dpop:k:before-crash', expiresAt, issuedAt)).toBe(true)
    expect(await store.claimOnce('dpop:k:before-crash', expiresAt, issuedAt)).toBe(false)
    // Into the next whole second (a proof's iat has whole seconds; one made in the epoch's own
    // second is accepted), then Redis dies and comes back empty.
    await new Promise((resolve) => setTimeout(resolve, 1010 - (Date.now() % 1000)))
    await redis.kill()
    await redis.restart()
    // Redis is empty now (no persistence). The store reconnects and marks a new epoch; the proof
    // accepted before the crash must not be accepted again.
    let outcome: unknown
    await eventually(async () => {
      outcome = await store.claimOnce('dpop:k:before-crash', expiresAt, issuedAt).then(
        (claimed) => claimed,
        (error: unknown) => error,
      )
      // Refused while reconnecting (fail closed), then refused for the lost memory.
      return outcome instanceof Error && /lost its data/.test(outcome.message)
    })
    const fresh = Date.now() + 1000
    expect(await store.claimOnce('dpop:k:after-restart', fresh + 60_000, fresh)).toBe(true)
    expect(await store.claimOnce('dpop:k:after-restart', fresh + 60_000, fresh)).toBe(false)
  })
})
