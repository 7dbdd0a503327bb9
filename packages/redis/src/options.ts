/**
 * The stores' options, checked once at construction with a clear `TypeError`, never per request.
 */
import type { NodeRedisClient } from './connection.js'
import type { RedisIntrospectionSettings } from './introspection-cache.js'
import { checkNamespace } from './keys.js'

/** Where the stores' Redis is: a client you made, or a URL from which the store makes its own. */
export type RedisConnectionOptions =
  | {
      /**
       * A node-redis client (`createClient()` of `redis` or `@redis/client`, v6), connected by
       * you, closed by you after the store. Give it an `'error'` listener, as node-redis needs.
       */
      readonly client: NodeRedisClient
      readonly url?: undefined
    }
  | {
      /**
       * `redis[s]://[[user][:password]@]host[:port][/db]`: the store opens its own client, with
       * no offline queue and reconnection for ever, and closes it in `close()`.
       */
      readonly url: string
      readonly client?: undefined
    }

/** What every store is told. */
export interface RedisStoreBaseOptions {
  /**
   * The deployment's namespace, the first part of every key and of the channel: one per API and
   * environment (e.g. `orders-api:prod`) so two deployments sharing a Redis never see each
   * other's state. 1 to 128 letters, digits or `. _ - : /`. Required.
   */
  readonly namespace: string
  /**
   * How long a command may take before it is abandoned, in seconds: a hung Redis then fails a
   * request (closed) instead of holding it. Default: `0.25`.
   */
  readonly commandTimeout?: number
  /** The clock, in milliseconds since the epoch: give the validator's. Default: `Date.now`. */
  readonly clock?: () => number
}

/** Options of {@link RedisReplayStore} beyond the connection and the base options. */
export interface RedisReplaySettings {
  /**
   * The longest an id is remembered, in seconds. A claim that would need longer is refused
   * (fail closed) rather than shortened, which would let the proof be replayed after the cut: keep
   * it above DPoP `maxAge` + twice `clockTolerance` + 1 s. Default: `600`.
   */
  readonly maxTtl?: number
}

/** Options of {@link RedisRevocationStore} beyond the connection and the base options. */
export interface RedisRevocationSettings {
  /**
   * The lifetime of the longest token your issuers issue, in seconds. Bounds every revocation's
   * time in Redis: a `jti` is kept until its token's `exp`, which may be at most this far away
   * (else `revoke` rejects); a subject revocation is kept this long after its `before`.
   * Default: `86400` (one day).
   */
  readonly maxTokenLifetime?: number
  /**
   * How often each instance checks, with one `GET`, that it has seen every revocation, in
   * seconds; a missed one triggers a reload. Bounds how stale the mirror can be when pub/sub
   * silently fails while Redis is reachable. Default: `5`.
   */
  readonly syncInterval?: number
  /**
   * Fail closed when the mirror has not been confirmed current for this long, in seconds:
   * `isRevoked` then throws a 503 (`Retry-After`) for every token until Redis is reachable again.
   * Default: none: the mirror keeps answering from memory (see the README's failure policy).
   * At least twice `syncInterval`.
   */
  readonly maxStaleness?: number
  /**
   * Most revocations mirrored in memory. A revocation that does not fit makes `isRevoked` fail
   * closed (503) until one fits again: a known revocation is never dropped. Default: `100000`.
   */
  readonly maxEntries?: number
}

/** Options of {@link RedisReplayStore}. */
export type RedisReplayStoreOptions = RedisConnectionOptions &
  RedisStoreBaseOptions &
  RedisReplaySettings

/** Options of {@link RedisKeyRefetchCoordinator}: the connection and the base options only. */
export type RedisKeyRefetchOptions = RedisConnectionOptions & RedisStoreBaseOptions

/** Options of {@link RedisRevocationStore}. */
export type RedisRevocationStoreOptions = RedisConnectionOptions &
  RedisStoreBaseOptions &
  RedisRevocationSettings

/** Options of {@link createRedisStores}: one connection, both stores, a group per store. */
export type RedisStoresOptions = RedisConnectionOptions &
  RedisStoreBaseOptions & {
    /** The replay store's settings (see {@link RedisReplaySettings}). */
    readonly replay?: RedisReplaySettings
    /** The revocation store's settings (see {@link RedisRevocationSettings}). */
    readonly revocation?: RedisRevocationSettings
    /** The introspection cache's settings (see {@link RedisIntrospectionSettings}). */
    readonly introspection?: RedisIntrospectionSettings
  }

/** @internal */
export const BASE_NAMES = ['client', 'url', 'namespace', 'commandTimeout', 'clock'] as const
/** @internal */
export const REPLAY_NAMES = ['maxTtl'] as const
/** @internal */
export const REVOCATION_NAMES = [
  'maxTokenLifetime',
  'syncInterval',
  'maxStaleness',
  'maxEntries',
] as const

/** @internal Refuses an options object with a key not in `names` (a typo is not ignored). */
export function knownKeys(options: unknown, names: readonly string[], where: string): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`bearer-guard: ${where} options must be an object`)
  }
  for (const key of Object.keys(options)) {
    if (!names.includes(key)) {
      throw new TypeError(`bearer-guard: unknown ${where} option '${key}'`)
    }
  }
}

/** @internal A positive finite number of seconds, or the default. */
export function seconds(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`bearer-guard: '${name}' must be a positive number of seconds`)
  }
  return value
}

/** @internal A positive integer, or the default. */
export function count(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`bearer-guard: '${name}' must be a positive integer`)
  }
  return value
}

/** @internal The resolved base options. */
export interface Base {
  readonly connection: { readonly client: NodeRedisClient } | { readonly url: string }
  readonly namespace: string
  /** Milliseconds. */
  readonly timeout: number
  readonly clock: () => number
}

/** @internal */
export function resolveBase(options: RedisConnectionOptions & RedisStoreBaseOptions): Base {
  // Read as the untyped values a JavaScript caller may pass.
  const { client, url } = options as { client?: unknown; url?: unknown }
  let connection: Base['connection']
  if (client !== undefined) {
    if (url !== undefined) throw new TypeError("bearer-guard: give 'client' or 'url', not both")
    if (!isClient(client)) {
      throw new TypeError("bearer-guard: 'client' must be a node-redis client (createClient())")
    }
    connection = { client }
  } else {
    if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
      throw new TypeError("bearer-guard: give 'client', or 'url' as redis://… or rediss://…")
    }
    connection = { url }
  }
  const clock: unknown = options.clock ?? Date.now
  if (typeof clock !== 'function') {
    throw new TypeError("bearer-guard: 'clock' must be a function returning milliseconds")
  }
  return {
    connection,
    clock: clock as () => number,
    namespace: checkNamespace(options.namespace),
    timeout: Math.ceil(seconds('commandTimeout', options.commandTimeout, 0.25) * 1000),
  }
}

function isClient(value: unknown): value is NodeRedisClient {
  if (typeof value !== 'object' || value === null) return false
  const client = value as Record<string, unknown>
  return ['sendCommand', 'duplicate', 'on', 'off'].every(
    (name) => typeof client[name] === 'function',
  )
}
