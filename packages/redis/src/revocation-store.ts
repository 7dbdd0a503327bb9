/**
 * The fleet's revocation lists: written to Redis and announced on a channel; every instance
 * mirrors them in memory, so `isRevoked`, called on every request, answers without a round trip.
 */
import {
  KeySetUnavailableError,
  type RevocationQuery,
  type RevocationStore,
} from '@bearer-guard/core'
import { closeClient, monitorOf, openClient, type Monitor } from './connection.js'
import { digest, keysOf, subjectDigest, type Keys } from './keys.js'
import { RevocationMirror, type Kind } from './mirror.js'
import {
  BASE_NAMES,
  REVOCATION_NAMES,
  count,
  knownKeys,
  resolveBase,
  seconds,
  type RedisRevocationStoreOptions,
} from './options.js'
import { WRITE } from './scripts.js'
import { RevocationSync } from './sync.js'

/**
 * A {@link RevocationStore} on Redis, shared by every instance of a deployment.
 *
 * - **Writes** (`revoke`, `revokeSubject`) apply to this instance at once, then go to Redis in
 *   one script: a sorted set per kind (`<namespace>:rev:jti`, `<namespace>:rev:sub`) holding the
 *   SHA-256 of the `jti` (of issuer and subject) scored by its expiry (its `before`), a version
 *   counter, and a `PUBLISH` on `<namespace>:revocations`. A revocation is never shortened, and
 *   leaves Redis when the token it names expires (`maxTokenLifetime` after `before`).
 * - **Reads** (`isRevoked`) are synchronous, from an in-memory `MemoryRevocationStore` that every
 *   instance keeps current from the channel. Each message carries the version: a gap (a missed
 *   message) reloads the lists; so does every reconnection of the subscriber, and the check
 *   every `syncInterval` that the version in Redis is the one seen.
 *
 * **Redis down**: `isRevoked` keeps answering from memory, so plain Bearer requests keep working;
 * revocations issued meanwhile reach this instance when it reconnects (or, with `maxStaleness`,
 * it fails closed with a 503 once the mirror is that old). `revoke` applies locally and rejects.
 *
 * @example
 * ```ts
 * import { createAccessTokenValidator } from '@bearer-guard/core'
 * import { RedisRevocationStore } from '@bearer-guard/redis'
 *
 * const revocation = new RedisRevocationStore({ url: process.env.REDIS_URL!, namespace: 'orders-api:prod' })
 * await revocation.ready() // the current lists are loaded: serve traffic
 * const validator = createAccessTokenValidator({ issuer, audience, revocation })
 *
 * // on any instance, e.g. in an admin endpoint or a logout webhook:
 * await revocation.revoke(claims.jti, claims.exp * 1000)
 * await revocation.revokeSubject(claims.iss, claims.sub, Date.now())
 * ```
 */
export class RedisRevocationStore implements RevocationStore {
  readonly #monitor: Monitor
  readonly #owned: boolean
  readonly #keys: Keys
  readonly #timeout: number
  readonly #clock: () => number
  readonly #lifetime: number
  readonly #maxStaleness: number
  readonly #syncInterval: number
  readonly #mirror: RevocationMirror
  readonly #sync: RevocationSync
  #closed = false

  /** @throws `TypeError` for a missing or invalid option, or an unknown one. */
  constructor(options: RedisRevocationStoreOptions) {
    knownKeys(options, [...BASE_NAMES, ...REVOCATION_NAMES], 'RedisRevocationStore')
    const base = resolveBase(options)
    this.#keys = keysOf(base.namespace)
    this.#timeout = base.timeout
    this.#clock = base.clock
    this.#lifetime = seconds('maxTokenLifetime', options.maxTokenLifetime, 86_400) * 1000
    this.#syncInterval = seconds('syncInterval', options.syncInterval, 5) * 1000
    this.#maxStaleness = seconds('maxStaleness', options.maxStaleness, Infinity) * 1000
    if (this.#maxStaleness < 2 * this.#syncInterval) {
      throw new TypeError("bearer-guard: 'maxStaleness' must be at least twice 'syncInterval'")
    }
    this.#mirror = new RevocationMirror(
      count('maxEntries', options.maxEntries, 100_000),
      this.#lifetime,
      base.clock,
    )
    const { connection } = base
    this.#owned = !('client' in connection)
    const client = 'client' in connection ? connection.client : openClient(connection.url)
    this.#monitor = monitorOf(client, 'commands')
    this.#sync = new RevocationSync({
      namespace: base.namespace,
      keys: this.#keys,
      mirror: this.#mirror,
      commands: this.#monitor,
      timeout: this.#timeout,
      syncInterval: this.#syncInterval,
      lifetime: this.#lifetime,
      clock: this.#clock,
    })
  }

  /**
   * Resolves once the revocations in Redis are loaded: await it before serving traffic (e.g. in a
   * readiness probe). Until then, `isRevoked` knows only this instance's own revocations. Rejects
   * when the store is closed first.
   */
  ready(): Promise<void> {
    return this.#sync.ready
  }

  /**
   * {@inheritDoc @bearer-guard/core#RevocationStore.isRevoked}
   *
   * Synchronous, from memory: no work while nothing is revoked; else a SHA-256 and a map lookup
   * per kind of revocation held (token, subject).
   *
   * @throws `KeySetUnavailableError` (503, `Retry-After`) only when failing closed: the mirror
   * is older than `maxStaleness`, or a revocation did not fit in `maxEntries`.
   */
  isRevoked(token: RevocationQuery): boolean {
    const now = this.#clock()
    const { overflow } = this.#mirror
    if (overflow || now - this.#sync.confirmedAt > this.#maxStaleness) {
      throw new KeySetUnavailableError(
        overflow
          ? 'The revocation list is larger than this instance holds'
          : 'The revocation list cannot be checked now',
        Math.ceil(this.#syncInterval / 1000),
      )
    }
    return this.#mirror.isRevoked(token, now)
  }

  /**
   * {@inheritDoc @bearer-guard/core#RevocationStore.revoke}
   *
   * Applies to this instance at once, then to the fleet; resolves when Redis has it. A token
   * already expired is not stored.
   *
   * @throws `RangeError` when `expiresAt` is more than `maxTokenLifetime` away.
   * @throws The Redis error when it could not be written (this instance still honours it).
   */
  async revoke(jti: string, expiresAt: number): Promise<void> {
    if (typeof jti !== 'string' || jti === '') {
      throw new TypeError('bearer-guard: "jti" must be a non-empty string')
    }
    const until = Math.ceil(finite('expiresAt', expiresAt))
    const now = this.#clock()
    const ttl = until - now
    if (ttl <= 0) return
    if (ttl > this.#lifetime) {
      throw new RangeError(
        "bearer-guard: the token expires later than 'maxTokenLifetime' allows; raise it",
      )
    }
    await this.#write('j', digest(jti), until, now, ttl)
  }

  /**
   * {@inheritDoc @bearer-guard/core#RevocationStore.revokeSubject}
   *
   * Applies to this instance at once, then to the fleet; resolves when Redis has it.
   *
   * @throws `RangeError` when `before` is more than `maxTokenLifetime` in the future.
   * @throws The Redis error when it could not be written (this instance still honours it).
   */
  async revokeSubject(iss: string, sub: string, before: number): Promise<void> {
    if (typeof iss !== 'string' || typeof sub !== 'string') {
      throw new TypeError('bearer-guard: "iss" and "sub" must be strings')
    }
    const at = Math.ceil(finite('before', before))
    const now = this.#clock()
    const ttl = at + this.#lifetime - now
    if (ttl <= 0) return
    if (at - now > this.#lifetime) {
      throw new RangeError(
        "bearer-guard: 'before' is further in the future than 'maxTokenLifetime'",
      )
    }
    await this.#write('s', subjectDigest(iss, sub), at, now, ttl)
  }

  /**
   * Stops: no more messages or checks; later writes reject; `isRevoked` answers from what it
   * holds. Closes the pub/sub connection, and the client if the store opened it (`url`).
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#sync.close()
    this.#monitor.release()
    if (this.#owned) await closeClient(this.#monitor.client)
  }

  async #write(kind: Kind, hash: string, score: number, now: number, ttl: number) {
    if (this.#closed) throw new Error('bearer-guard: the Redis revocation store is closed')
    // Here first: this instance honours it even if Redis cannot take it.
    let local: Error | undefined
    try {
      this.#mirror.apply(kind, hash, score)
    } catch (error) {
      local = error instanceof Error ? error : new Error(String(error))
    }
    const { revokedTokens, revokedSubjects, revocationVersion, revocationChannel } = this.#keys
    // Expired entries go: tokens past their expiry; subjects whose tokens have all expired.
    const pruneBelow = kind === 'j' ? now : now - this.#lifetime
    await this.#monitor.script(
      WRITE,
      [kind === 'j' ? revokedTokens : revokedSubjects, revocationVersion],
      [
        hash,
        String(score),
        String(Math.floor(pruneBelow)),
        String(Math.ceil(ttl)),
        revocationChannel,
        kind,
      ],
      this.#timeout,
    )
    if (local !== undefined) throw local
  }
}

function finite(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`bearer-guard: "${name}" must be a finite number of milliseconds`)
  }
  return value
}
