/**
 * The fleet's cache of token introspection answers (RFC 7662 §4): an answer one instance got is
 * reused by every other, until the token's `exp` or core's `cacheMaxAge`, whichever is first.
 */
import type { IntrospectionCache } from '@bearer-guard/core'
import { closeClient, monitorOf, openClient, type Monitor } from './connection.js'
import { digest, keysOf } from './keys.js'
import {
  BASE_NAMES,
  knownKeys,
  resolveBase,
  seconds,
  type RedisConnectionOptions,
  type RedisStoreBaseOptions,
} from './options.js'

/** Options of {@link RedisIntrospectionCache} beyond the connection and the base options. */
export interface RedisIntrospectionSettings {
  /**
   * The longest time an answer stays in Redis, in seconds, whatever core asks (it asks for no
   * more than the token's `exp` and its `cacheMaxAge`): a bound on what a misconfigured
   * validator can leave behind. Default: `3600`.
   */
  readonly maxTtl?: number
}

/** Options of {@link RedisIntrospectionCache}. */
export type RedisIntrospectionCacheOptions = RedisConnectionOptions &
  RedisStoreBaseOptions &
  RedisIntrospectionSettings

/** @internal */
export const INTROSPECTION_NAMES = ['maxTtl'] as const

/**
 * An {@link IntrospectionCache} on Redis, shared by every instance of a deployment: `GET` and
 * `SET <namespace>:introspection:<sha256(key)> <answer> PX <ttl>`. Core's key is already a hash
 * of the authorization server, the introspecting client and the token, so answers of different
 * servers or clients never meet; it is hashed once more, so no key ever holds what a caller
 * passed. The TTL is the time left until core's `expiresAt` (never past the token's `exp`),
 * at most `maxTtl`; an answer already expired is not written.
 *
 * Values are the active answers' members (subject, scopes, client): the token itself is never
 * stored. Anyone who can write to this Redis can make a token active for the fleet, as with any
 * shared state core trusts: keep it private to the deployment.
 *
 * **Fails open, on purpose**: when Redis is down or slow (`commandTimeout`), `get` and `set`
 * reject, and core asks the authorization server as it would on a miss. The cache saves calls; it
 * is not a security check.
 *
 * @example
 * ```ts
 * import { createAccessTokenValidator } from '@bearer-guard/core'
 * import { RedisIntrospectionCache } from '@bearer-guard/redis'
 *
 * const cache = new RedisIntrospectionCache({ url: process.env.REDIS_URL!, namespace: 'orders-api:prod' })
 * const validator = createAccessTokenValidator({
 *   issuer: 'https://auth.example.com/',
 *   audience: 'https://api.example.com',
 *   introspection: { clientId: 'orders-api', clientSecret: process.env.INTROSPECTION_SECRET, cache },
 * })
 * ```
 */
export class RedisIntrospectionCache implements IntrospectionCache {
  readonly #monitor: Monitor
  readonly #owned: boolean
  readonly #prefix: string
  readonly #timeout: number
  readonly #clock: () => number
  readonly #maxTtl: number
  #closed = false
  readonly #waiting = new Set<(error: Error) => void>()

  /** @throws `TypeError` for a missing or invalid option, or an unknown one. */
  constructor(options: RedisIntrospectionCacheOptions) {
    knownKeys(options, [...BASE_NAMES, ...INTROSPECTION_NAMES], 'RedisIntrospectionCache')
    const base = resolveBase(options)
    this.#maxTtl = seconds('maxTtl', options.maxTtl, 3600) * 1000
    this.#prefix = `${keysOf(base.namespace).prefix}:introspection:`
    this.#timeout = base.timeout
    this.#clock = base.clock
    const { connection } = base
    this.#owned = !('client' in connection)
    this.#monitor = monitorOf(
      'client' in connection ? connection.client : openClient(connection.url),
      'commands',
    )
  }

  /**
   * Resolves once connected to Redis (before, answers are not shared: core asks the
   * authorization server). Rejects when the cache is closed first.
   */
  ready(): Promise<void> {
    if (this.#closed) return Promise.reject(closedError())
    return new Promise((resolve, reject) => {
      this.#waiting.add(reject)
      void this.#monitor.whenReady().then(() => {
        this.#waiting.delete(reject)
        resolve()
      })
    })
  }

  /**
   * {@inheritDoc @bearer-guard/core#IntrospectionCache.get}
   *
   * Rejects when Redis cannot answer within `commandTimeout` or the cache is closed (core then
   * asks the authorization server).
   */
  async get(key: string): Promise<string | undefined> {
    this.#open()
    const reply = await this.#monitor.command(['GET', this.#name(key)], this.#timeout)
    if (reply === null) return undefined
    if (typeof reply !== 'string') {
      throw new Error('bearer-guard: unexpected reply from Redis to GET')
    }
    return reply
  }

  /**
   * {@inheritDoc @bearer-guard/core#IntrospectionCache.set}
   *
   * Rejects when Redis cannot answer within `commandTimeout` or the cache is closed (the answer
   * is then simply not shared).
   */
  async set(key: string, value: string, expiresAt: number): Promise<void> {
    this.#open()
    if (typeof value !== 'string') throw new TypeError('bearer-guard: a cached answer is a string')
    if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) {
      throw new TypeError('bearer-guard: "expiresAt" must be a finite number of milliseconds')
    }
    const ttl = Math.min(Math.floor(expiresAt - this.#clock()), this.#maxTtl)
    if (ttl < 1) return
    await this.#monitor.command(['SET', this.#name(key), value, 'PX', String(ttl)], this.#timeout)
  }

  /** Stops using Redis (core then asks the authorization server); closes a client it opened. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const reject of this.#waiting) reject(closedError())
    this.#waiting.clear()
    this.#monitor.release()
    if (this.#owned) await closeClient(this.#monitor.client)
  }

  #open(): void {
    if (this.#closed) throw closedError()
  }

  #name(key: string): string {
    if (typeof key !== 'string' || key === '') {
      throw new TypeError('bearer-guard: an introspection cache key must be a non-empty string')
    }
    return this.#prefix + digest(key)
  }
}

function closedError(): Error {
  return new Error('bearer-guard: the Redis introspection cache is closed')
}
