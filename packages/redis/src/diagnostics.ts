import { channel } from 'node:diagnostics_channel'

/**
 * Names of the `node:diagnostics_channel` channels `@bearer-guard/redis` publishes on. Messages
 * are built only when a channel has subscribers, and never hold a key, a token or a claim value.
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel'
 * import { redisChannels, type RedisStatusEvent } from '@bearer-guard/redis'
 *
 * subscribe(redisChannels.status, (message) => {
 *   const event = message as RedisStatusEvent
 *   if (event.status !== 'connected') log.warn({ redis: event.connection, status: event.status })
 * })
 * ```
 */
export const redisChannels = Object.freeze({
  /** A connection's state changed: {@link RedisStatusEvent}. */
  status: 'bearer-guard:redis:status',
  /** A revocation mirror was loaded from Redis: {@link RedisSyncEvent}. */
  sync: 'bearer-guard:redis:sync',
})

/** Which connection an event is about. */
export type RedisConnectionRole = 'commands' | 'subscriber'

/**
 * Published on {@link redisChannels}.status when a connection's state changes:
 *
 * - `connected`: the connection is ready (first connection, or reconnected by itself).
 * - `disconnected`: it was lost; the client reconnects by itself. Meanwhile replay claims fail
 *   closed and the revocation mirror answers from memory.
 * - `error`: commands fail on a connection that has not dropped (a timeout of a hung Redis, a
 *   refused write, a failed load of the revocations). Published once per episode: the next
 *   success publishes `connected` again.
 */
export interface RedisStatusEvent {
  /** `commands` (replay claims, revocation writes and loads) or `subscriber` (revocation messages). */
  readonly connection: RedisConnectionRole
  /** The connection's new state (see above). */
  readonly status: 'connected' | 'disconnected' | 'error'
  /** The client's error, for `disconnected` (when there was one) and `error`. Never holds a key. */
  readonly error?: unknown
}

/** Published on {@link redisChannels}.sync after the revocation mirror was loaded from Redis. */
export interface RedisSyncEvent {
  /** The store's namespace. */
  readonly namespace: string
  /** Why: the first load, a reconnection, a gap in the messages, or the periodic check. */
  readonly reason: 'initial' | 'reconnect' | 'gap' | 'check'
  /** Live revocations loaded (tokens and subjects). */
  readonly revocations: number
  /** Duration of the load, in milliseconds. */
  readonly durationMs: number
}

/** @internal */
export const statusChannel = channel(redisChannels.status)
/** @internal */
export const syncChannel = channel(redisChannels.sync)
