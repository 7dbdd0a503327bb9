/**
 * `@bearer-guard/redis`: the state of `@bearer-guard/core` shared by a fleet through Redis: the
 * DPoP replay store and the revocation lists, mirrored into every instance's memory.
 *
 * @example
 * ```ts
 * import { createAccessTokenValidator } from '@bearer-guard/core'
 * import { createRedisStores } from '@bearer-guard/redis'
 *
 * const stores = createRedisStores({ url: 'redis://redis.internal:6379', namespace: 'orders-api:prod' })
 * await stores.ready()
 * const validator = createAccessTokenValidator({
 *   issuer: 'https://auth.example.com/',
 *   audience: 'https://api.example.com',
 *   dpop: { origin: 'https://api.example.com', replayStore: stores.replay },
 *   revocation: stores.revocation,
 * })
 * ```
 *
 * @packageDocumentation
 */
export { createRedisStores } from './stores.js'
export type { RedisStores } from './stores.js'
export { RedisReplayStore } from './replay-store.js'
export { RedisRevocationStore } from './revocation-store.js'
export { RedisKeyRefetchCoordinator } from './key-refetch.js'
export { RedisIntrospectionCache } from './introspection-cache.js'
export type {
  RedisIntrospectionCacheOptions,
  RedisIntrospectionSettings,
} from './introspection-cache.js'
export type { NodeRedisClient } from './connection.js'
export type {
  RedisConnectionOptions,
  RedisKeyRefetchOptions,
  RedisReplaySettings,
  RedisReplayStoreOptions,
  RedisRevocationSettings,
  RedisRevocationStoreOptions,
  RedisStoreBaseOptions,
  RedisStoresOptions,
} from './options.js'
export { redisChannels } from './diagnostics.js'
export type { RedisConnectionRole, RedisStatusEvent, RedisSyncEvent } from './diagnostics.js'
