/**
 * Introspection results (RFC 7662 §4): one seam with a get and a set, memory by default, shareable
 * by a fleet through an implementation on shared storage (e.g. `@bearer-guard/redis`).
 */
import { LRUCache } from 'lru-cache'
import { fail } from '../options/checks.js'
import type { MaybePromise } from '../options/validator-options.js'
import { memoryStoreOptions, type MemoryStoreOptions } from './replay.js'

/**
 * Where introspection answers are kept between requests, so a token is not sent to the
 * authorization server on every request. Core decides what is stored and for how long:
 *
 * - **keys** are `introspection:` and a SHA-256 (base64url) of the authorization server's issuer
 *   identifier, the introspecting client's id and the token, never the token itself. An answer
 *   of one authorization server, or given to one client, is never found under another's key;
 * - **values** are JSON text: the time the answer was obtained and the members of an *active*
 *   answer that passed every check. Inactive answers and failures are never stored;
 * - **`expiresAt`** is at most the token's `exp` (RFC 7662 §4: "MUST NOT be cached beyond the
 *   time indicated therein") and at most `cacheMaxAge` after the answer.
 *
 * A store that cannot answer (down, slow) throws or rejects: core then asks the authorization
 * server, as on a miss, and a failed `set` only costs a later miss.
 */
export interface IntrospectionCache {
  /**
   * The value stored under `key`, or `undefined` when there is none or it expired.
   *
   * @param key a namespaced hash, never a raw token.
   */
  get(key: string): MaybePromise<string | undefined>
  /**
   * Stores `value` under `key` until `expiresAt`, replacing what was there.
   *
   * @param expiresAt when the value must be gone, in milliseconds since the epoch.
   */
  set(key: string, value: string, expiresAt: number): MaybePromise<void>
}

/** Options of {@link MemoryIntrospectionCache}. */
export interface MemoryIntrospectionCacheOptions extends MemoryStoreOptions {
  /**
   * Most answers held; past it, the least recently used is dropped (a cache may forget: the
   * token is introspected again). Default: `10000`.
   */
  readonly maxEntries?: number
}

interface Entry {
  readonly value: string
  readonly expiresAt: number
}

/**
 * An {@link IntrospectionCache} in this process's memory: bounded by entry count (least recently
 * used first out), each entry dropped at its `expiresAt` by the injected clock. Synchronous, so a
 * hit costs no promise. State is per process: a fleet shares `@bearer-guard/redis`'s instead.
 */
export class MemoryIntrospectionCache implements IntrospectionCache {
  readonly #lru: LRUCache<string, Entry>
  readonly #clock: () => number

  /** @throws `TypeError` for an invalid option. */
  constructor(options: MemoryIntrospectionCacheOptions = {}) {
    const { maxEntries, clock } = memoryStoreOptions({
      maxEntries: options.maxEntries ?? 10_000,
      clock: options.clock,
    })
    this.#lru = new LRUCache<string, Entry>({ max: maxEntries })
    this.#clock = clock
  }

  get(key: string): string | undefined {
    const entry = this.#lru.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt > this.#clock()) return entry.value
    this.#lru.delete(key)
    return undefined
  }

  /** @throws `TypeError` for an empty key, a value that is not a string or a non-finite expiry. */
  set(key: string, value: string, expiresAt: number): void {
    if (typeof key !== 'string' || key === '') fail('an introspection cache key must be a string')
    if (typeof value !== 'string') fail('an introspection cache value must be a string')
    if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) {
      fail('"expiresAt" must be a finite number of milliseconds')
    }
    if (expiresAt <= this.#clock()) {
      this.#lru.delete(key)
      return
    }
    this.#lru.set(key, { value, expiresAt })
  }

  /** Entries held (live, or expired and not asked for since). */
  get size(): number {
    return this.#lru.size
  }
}
