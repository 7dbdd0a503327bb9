/**
 * The bounded map behind the memory stores: every entry has an expiry, and a full map makes room
 * by dropping expired entries only. A live entry is never evicted: for a replay or revocation
 * store, forgetting a live entry would accept a replayed proof or a revoked token.
 */

interface Entry<V> {
  readonly value: V
  readonly expiresAt: number
}

/** Expired entries dropped from the oldest end on each write: keeps the map near its live size. */
const SWEEP_PER_WRITE = 4

/** @internal A map of expiring entries, bounded by count, that refuses to grow rather than evict. */
export class ExpiringMap<V> {
  readonly #entries = new Map<string, Entry<V>>()
  readonly #max: number
  /** No entry expires before this instant (ms): set by a full sweep, lowered by later writes. */
  #noneExpiresBefore = -Infinity
  /**
   * Until this instant (ms) a sweep would stop at once: the oldest entry, at which the last sweep
   * stopped, is live until then. Reset when an entry is deleted otherwise (the oldest may be gone).
   */
  #sweepFrom = -Infinity

  constructor(maxEntries: number) {
    this.#max = maxEntries
  }

  /** Entries held, live or not yet swept. */
  get size(): number {
    return this.#entries.size
  }

  /** The live entry under `key` at `now`, if any. */
  get(key: string, now: number): Entry<V> | undefined {
    const entry = this.#entries.get(key)
    return entry !== undefined && entry.expiresAt > now ? entry : undefined
  }

  /**
   * Stores `value` under `key` until `expiresAt` (exclusive), replacing what was there. Returns
   * false, storing nothing, when the map is full of live entries.
   */
  set(key: string, value: V, expiresAt: number, now: number): boolean {
    this.#sweep(now, SWEEP_PER_WRITE)
    if (!this.#entries.has(key) && this.#entries.size >= this.#max && !this.#makeRoom(now)) {
      return false
    }
    // Deleted first so the entry moves to the newest end: insertion order stays near expiry order.
    if (this.#entries.delete(key)) this.#sweepFrom = -Infinity
    this.#entries.set(key, { value, expiresAt })
    if (expiresAt < this.#noneExpiresBefore) this.#noneExpiresBefore = expiresAt
    return true
  }

  /**
   * Stores `value` under `key` until `expiresAt` unless a live entry holds `key`: `'stored'`,
   * `'held'` (nothing changed) or `'full'` (nothing stored: the map is full of live entries).
   */
  claim(key: string, value: V, expiresAt: number, now: number): 'stored' | 'held' | 'full' {
    const entry = this.#entries.get(key)
    if (entry !== undefined) {
      if (entry.expiresAt > now) return 'held'
      this.#entries.delete(key)
      this.#sweepFrom = -Infinity
    }
    this.#sweep(now, SWEEP_PER_WRITE)
    if (this.#entries.size >= this.#max && !this.#makeRoom(now)) return 'full'
    this.#entries.set(key, { value, expiresAt })
    if (expiresAt < this.#noneExpiresBefore) this.#noneExpiresBefore = expiresAt
    return 'stored'
  }

  /** Drops up to `limit` expired entries from the oldest end, stopping at the first live one. */
  #sweep(now: number, limit: number): void {
    if (now < this.#sweepFrom) return
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt > now) {
        this.#sweepFrom = entry.expiresAt
        return
      }
      if (limit-- <= 0) return
      this.#entries.delete(key)
    }
  }

  /**
   * Makes room in a full map: the oldest end first (entries are inserted in near expiry order),
   * then, at most once until the earliest expiry it saw, a sweep of the whole map. A full map
   * under load so answers "full" in constant time instead of scanning on every write.
   */
  #makeRoom(now: number): boolean {
    this.#sweep(now, Infinity)
    if (this.#entries.size < this.#max) return true
    if (now < this.#noneExpiresBefore) return false
    let earliest = Infinity
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) this.#entries.delete(key)
      else if (entry.expiresAt < earliest) earliest = entry.expiresAt
    }
    this.#noneExpiresBefore = earliest
    return this.#entries.size < this.#max
  }
}
