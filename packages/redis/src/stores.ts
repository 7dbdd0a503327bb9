/**
 * Every store of a deployment over one Redis client: the usual way to use this package.
 */
import { closeClient, openClient } from './connection.js'
import {
  BASE_NAMES,
  REPLAY_NAMES,
  REVOCATION_NAMES,
  knownKeys,
  resolveBase,
  type RedisStoresOptions,
} from './options.js'
import { INTROSPECTION_NAMES, RedisIntrospectionCache } from './introspection-cache.js'
import { RedisKeyRefetchCoordinator } from './key-refetch.js'
import { RedisReplayStore } from './replay-store.js'
import { RedisRevocationStore } from './revocation-store.js'

/** What {@link createRedisStores} returns. */
export interface RedisStores {
  /** For `dpop: { replayStore }`. */
  readonly replay: RedisReplayStore
  /** For `revocation`. */
  readonly revocation: RedisRevocationStore
  /** For `keyRefetchCoordinator`: one unknown-`kid` refetch per cooldown for the whole fleet. */
  readonly keyRefetch: RedisKeyRefetchCoordinator
  /** For `introspection: { cache }`: token introspection answers shared by the fleet. */
  readonly introspection: RedisIntrospectionCache
  /**
   * Resolves once connected and the revocations in Redis are loaded (see
   * {@link RedisReplayStore.ready}, {@link RedisRevocationStore.ready}): await it before serving.
   */
  ready(): Promise<void>
  /** Closes every store, and the client if it was made from `url`. */
  close(): Promise<void>
}

/**
 * Creates the replay store, the revocation store and the key refetch coordinator of one
 * deployment, sharing one Redis client (plus the revocation store's pub/sub connection).
 *
 * @throws `TypeError` for a missing or invalid option, or an unknown one.
 *
 * @example
 * ```ts
 * import { createAccessTokenValidator } from '@bearer-guard/core'
 * import { createRedisStores } from '@bearer-guard/redis'
 *
 * const stores = createRedisStores({ url: process.env.REDIS_URL!, namespace: 'orders-api:prod' })
 * await stores.ready()
 * const validator = createAccessTokenValidator({
 *   issuer: 'https://auth.example.com/',
 *   audience: 'https://api.example.com',
 *   dpop: { origin: 'https://api.example.com', replayStore: stores.replay },
 *   revocation: stores.revocation,
 *   keyRefetchCoordinator: stores.keyRefetch,
 * })
 * process.on('SIGTERM', () => void stores.close())
 * ```
 */
export function createRedisStores(options: RedisStoresOptions): RedisStores {
  knownKeys(options, [...BASE_NAMES, 'replay', 'revocation', 'introspection'], 'createRedisStores')
  const {
    replay = {},
    revocation = {},
    introspection = {},
    url: _url,
    client: _client,
    ...common
  } = options
  knownKeys(replay, REPLAY_NAMES, 'replay')
  knownKeys(revocation, REVOCATION_NAMES, 'revocation')
  knownKeys(introspection, INTROSPECTION_NAMES, 'introspection')
  // Checked before a connection is opened.
  const { connection } = resolveBase(options)
  const client = 'client' in connection ? connection.client : openClient(connection.url)
  const made: { close(): Promise<void> }[] = []
  try {
    const replayStore = new RedisReplayStore({ ...common, ...replay, client })
    made.push(replayStore)
    const revocationStore = new RedisRevocationStore({ ...common, ...revocation, client })
    made.push(revocationStore)
    const keyRefetch = new RedisKeyRefetchCoordinator({ ...common, client })
    made.push(keyRefetch)
    const introspectionCache = new RedisIntrospectionCache({ ...common, ...introspection, client })
    return {
      replay: replayStore,
      revocation: revocationStore,
      keyRefetch,
      introspection: introspectionCache,
      async ready() {
        await Promise.all([
          replayStore.ready(),
          revocationStore.ready(),
          introspectionCache.ready(),
        ])
      },
      async close() {
        await Promise.all([
          replayStore.close(),
          revocationStore.close(),
          keyRefetch.close(),
          introspectionCache.close(),
        ])
        if (!('client' in connection)) await closeClient(client)
      },
    }
  } catch (error) {
    // An invalid store option: let go of what was made.
    for (const store of made) void store.close()
    if (!('client' in connection)) void closeClient(client)
    throw error
  }
}
