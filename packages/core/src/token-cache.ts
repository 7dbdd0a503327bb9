import { hash, type KeyObject } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { VerifiedAccessToken } from './types.js'

/** When a cached result may be served, in ms since the epoch (the time claims, precomputed). */
export interface ValidityWindow {
  /** Served from this instant on (`nbf`, and `iat` under `maxTokenAge`, less the tolerance). */
  readonly from: number
  /** Served strictly before this instant (`exp` plus the tolerance). */
  readonly before: number
  /** Served up to and including this instant (`iat` + `maxTokenAge` + tolerance, or Infinity). */
  readonly until: number
}

interface Entry extends ValidityWindow {
  readonly result: VerifiedAccessToken
  /** The key that verified the signature: an entry dies with its key. */
  readonly key: KeyObject
}

/**
 * Verified tokens, keyed by a SHA-256 of the token (the raw token is never a key), bounded by
 * entry count. Only successes are stored. An entry lives no longer than its token's `exp`, and
 * the caller re-checks the time claims and the key on every hit.
 */
export class TokenCache {
  readonly #lru: LRUCache<string, Entry>

  constructor(maxEntries: number) {
    this.#lru = new LRUCache<string, Entry>({ max: maxEntries })
  }

  /** The cache key of a token. */
  static id(token: string): string {
    // One-shot hash (Node >= 20.12): no Hash object per call.
    return hash('sha256', token, 'binary')
  }

  get(id: string): Entry | undefined {
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
    window: ValidityWindow,
    now: number,
  ): void {
    const ttl = Math.ceil(window.before - now)
    if (ttl > 0) this.#lru.set(id, { result, key, ...window }, { ttl })
  }

  delete(id: string): void {
    this.#lru.delete(id)
  }

  get size(): number {
    return this.#lru.size
  }
}
