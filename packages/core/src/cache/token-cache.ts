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
 * entry count. Only successes are stored. An entry lives no longer than its token's `exp`, and
 * the caller re-checks the time claims and the key on every hit.
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

  /**
   * Stores a verified result until `ttlMs` from now (the token's remaining lifetime plus the
   * clock tolerance), so memory is bounded by count and entries do not outlive their tokens.
   */
  set(
    id: string,
    result: VerifiedAccessToken,
    key: KeyObject,
    keys: KeySource,
    window: ValidityWindow,
    now: number,
  ): void {
    const ttl = Math.ceil(window.before - now)
    if (ttl > 0) {
      const { from, before, until } = window
      this.#lru.set(id, { result, key, keys, from, before, until }, { ttl })
    }
  }

  delete(id: string): void {
    this.#lru.delete(id)
  }

  get size(): number {
    return this.#lru.size
  }
}
