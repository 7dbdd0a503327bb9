import { hash, type KeyObject } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { ValidityWindow } from '../claims/time.js'
import type { KeySource } from '../keys/key-source.js'
import type { VerifiedAccessToken } from '../types.js'

/** A cached verification: served while its window holds and its key source still holds its key. */
export interface CacheEntry extends ValidityWindow {
  readonly result: VerifiedAccessToken
  /** The key that verified the signature: an entry dies with its key. */
  readonly key: KeyObject
  readonly keys: KeySource
}

/**
 * Verified tokens, keyed by a SHA-256 of the token (the raw token is never a key), bounded by
 * entry count. Only successes are stored, and only while their window is open.
 *
 * Expiry is the caller's: it checks the entry's time window (with the validator's clock) and its
 * key on every hit and deletes an entry that fails either. The LRU keeps no TTL of its own, which
 * would repeat that check per `get` against another clock, and re-arm a timer every millisecond
 * under load. An expired entry nobody asks for again stays until the LRU evicts it: memory is
 * bounded by the entry count either way.
 */
export class TokenCache {
  readonly #lru: LRUCache<string, CacheEntry>

  constructor(maxEntries: number) {
    this.#lru = new LRUCache<string, CacheEntry>({ max: maxEntries })
  }

  /** The cache key of a token. */
  static id(token: string): string {
    // One-shot hash (Node >= 20.12): no Hash object per call.
    return hash('sha256', token, 'binary')
  }

  get(id: string): CacheEntry | undefined {
    return this.#lru.get(id)
  }

  /** Stores a verified result, unless its window has already closed at `now`. */
  set(
    id: string,
    result: VerifiedAccessToken,
    key: KeyObject,
    keys: KeySource,
    window: ValidityWindow,
    now: number,
  ): void {
    if (now < window.before) {
      const { from, before, until } = window
      this.#lru.set(id, { result, key, keys, from, before, until })
    }
  }

  delete(id: string): void {
    this.#lru.delete(id)
  }

  get size(): number {
    return this.#lru.size
  }
}
