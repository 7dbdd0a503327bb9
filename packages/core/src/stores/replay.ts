/**
 * Replay detection state (RFC 9449 §11.1): one method, memory by default, shareable by a fleet
 * through an implementation on shared storage (e.g. `@bearer-guard/redis`).
 */
import { fail, positiveInteger } from '../options/checks.js'
import type { MaybePromise } from '../options/validator-options.js'
import { ExpiringMap } from './expiring.js'

/**
 * Remembers identifiers (DPoP proof `jti`s scoped to their key) until they expire, so each is
 * accepted once. Every instance that serves the same origin must share one store, or a proof
 * accepted by one instance can be replayed at another (RFC 9449 §11.1).
 */
export interface ReplayStore {
  /**
   * Claims `id` until `expiresAt`: true the first time, false when it was claimed before and has
   * not expired. Must be atomic (two concurrent claims of one id: exactly one true), e.g. Redis
   * `SET id 1 PXAT expiresAt NX`. A store that cannot answer throws or rejects; the caller then
   * refuses the request, never accepts it unchecked.
   *
   * A shared store that may lose its memory (a Redis restarted without persistence) should also
   * refuse (reject) ids issued before its memory begins: it cannot tell whether they were claimed.
   *
   * @param id a namespaced key, never a raw token (DPoP: `dpop:<jkt>:<jti>`).
   * @param expiresAt when the id may be forgotten, in milliseconds since the epoch.
   * @param issuedAt when the claimed thing was made (DPoP: the proof's `iat`), in milliseconds
   * since the epoch.
   */
  claimOnce(id: string, expiresAt: number, issuedAt?: number): MaybePromise<boolean>
}

/** Options of the memory stores. */
export interface MemoryStoreOptions {
  /**
   * Most entries held. When full of entries that have not expired, the store fails closed (see
   * each store) rather than forget one. Size it for the peak: requests per second × how long an
   * entry lives (DPoP: proof `maxAge` + clock tolerance). Default: `100000`.
   */
  readonly maxEntries?: number
  /** The clock, in milliseconds since the epoch. Default: `Date.now`. */
  readonly clock?: () => number
}

/** Resolves {@link MemoryStoreOptions}. */
export function memoryStoreOptions(options: MemoryStoreOptions): {
  maxEntries: number
  clock: () => number
} {
  const clock = options.clock ?? Date.now
  if (typeof clock !== 'function') fail('"clock" must be a function returning milliseconds')
  return { maxEntries: positiveInteger('maxEntries', options.maxEntries, 100_000), clock }
}

/**
 * A {@link ReplayStore} in this process's memory: bounded, synchronous, atomic (JavaScript runs
 * one claim at a time). Entries live until their `expiresAt` and are then dropped.
 *
 * **When full** of live entries, a claim throws a `RangeError` (fail closed): evicting a live
 * entry to make room would let that proof be replayed, so the store refuses new proofs instead,
 * until entries expire. Expired entries are dropped first, so this happens only while more
 * distinct proofs arrive within one proof lifetime than `maxEntries`.
 *
 * State is per process: a fleet needs a shared store instead.
 */
export class MemoryReplayStore implements ReplayStore {
  readonly #map: ExpiringMap<true>
  readonly #clock: () => number

  /** @throws `TypeError` for an invalid option. */
  constructor(options: MemoryStoreOptions = {}) {
    const { maxEntries, clock } = memoryStoreOptions(options)
    this.#map = new ExpiringMap(maxEntries)
    this.#clock = clock
  }

  /**
   * {@inheritDoc ReplayStore.claimOnce}
   *
   * @throws `TypeError` for an empty id or an expiry that is not a finite number.
   * @throws `RangeError` when the store is full of live entries (fail closed).
   */
  claimOnce(id: string, expiresAt: number): boolean {
    if (typeof id !== 'string' || id === '') fail('a replay id must be a non-empty string')
    if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) {
      fail('"expiresAt" must be a finite number of milliseconds')
    }
    const claimed = this.#map.claim(id, true, expiresAt, this.#clock())
    if (claimed === 'full') {
      throw new RangeError(
        'bearer-guard: the replay store is full of live entries; refusing rather than forgetting one',
      )
    }
    return claimed === 'stored'
  }

  /** Entries held (live, or expired and not swept yet). */
  get size(): number {
    return this.#map.size
  }
}
