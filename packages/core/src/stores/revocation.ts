/**
 * Revocation state: tokens revoked by `jti`, and every token of a subject issued before an
 * instant. Memory by default, shareable by a fleet through an implementation on shared storage.
 */
import { fail, positive } from '../options/checks.js'
import type { MaybePromise } from '../options/validator-options.js'
import { ExpiringMap } from './expiring.js'
import { memoryStoreOptions, type MemoryStoreOptions } from './replay.js'

/** What a revocation check knows of a verified token. */
export interface RevocationQuery {
  /** The token's issuer. */
  readonly iss: string
  /** The token's `jti`, if it has one. */
  readonly jti?: string | undefined
  /** The token's subject, if it has one. */
  readonly sub?: string | undefined
  /** The token's `iat`, in seconds, if it has one. */
  readonly iat?: number | undefined
}

/**
 * Revoked tokens. Keys are namespaced and never hold a raw token: a token is named by its `jti`,
 * a subject by its issuer and `sub`.
 */
export interface RevocationStore {
  /**
   * True when the token is revoked: its `jti` was revoked, or its subject was revoked after the
   * token was issued (a token without `iat` then counts as revoked). A store that cannot answer
   * throws or rejects; the caller then refuses the request.
   */
  isRevoked(token: RevocationQuery): MaybePromise<boolean>
  /**
   * Revokes the token with this `jti` until `expiresAt` (ms since the epoch): its `exp`, after
   * which it is refused anyway and the entry may go.
   */
  revoke(jti: string, expiresAt: number): MaybePromise<void>
  /**
   * Revokes every token of `sub` at `iss` issued at or before `before` (ms since the epoch), e.g.
   * at logout or a password change. Tokens issued later are unaffected.
   */
  revokeSubject(iss: string, sub: string, before: number): MaybePromise<void>
}

/** Options of {@link MemoryRevocationStore}. */
export interface MemoryRevocationStoreOptions extends MemoryStoreOptions {
  /**
   * How long a subject revocation is kept after its `before`, in seconds: at least the lifetime
   * of the longest token your issuers issue, since it must outlive every token it names.
   * Default: `86400` (one day).
   */
  readonly subjectRetention?: number
}

type Revocation = { readonly kind: 'token' } | { readonly kind: 'subject'; readonly before: number }

/**
 * A {@link RevocationStore} in this process's memory. Entries expire with the tokens they name:
 * a `jti` at the token's `exp`, a subject `subjectRetention` after its `before`.
 *
 * **When full** of live entries, `revoke` and `revokeSubject` throw a `RangeError`: a revocation
 * is never dropped silently, and a live one is never evicted to make room (that would make a
 * revoked token valid again). `isRevoked` keeps answering.
 */
export class MemoryRevocationStore implements RevocationStore {
  readonly #map: ExpiringMap<Revocation>
  readonly #clock: () => number
  readonly #subjectRetention: number

  /** @throws `TypeError` for an invalid option. */
  constructor(options: MemoryRevocationStoreOptions = {}) {
    const { maxEntries, clock } = memoryStoreOptions(options)
    this.#map = new ExpiringMap(maxEntries)
    this.#clock = clock
    this.#subjectRetention = positive('subjectRetention', options.subjectRetention, 86_400) * 1000
  }

  isRevoked(token: RevocationQuery): boolean {
    const now = this.#clock()
    if (typeof token.jti === 'string' && this.#map.get(tokenKey(token.jti), now) !== undefined) {
      return true
    }
    if (typeof token.sub !== 'string') return false
    const subject = this.#map.get(subjectKey(token.iss, token.sub), now)?.value
    if (subject?.kind !== 'subject') return false
    const { iat } = token
    // Issued at or before the revocation, or unknown: `iat` has whole seconds, so the same
    // second counts as before.
    return typeof iat !== 'number' || !Number.isFinite(iat) || iat * 1000 <= subject.before
  }

  /** @throws `RangeError` when the store is full of live entries. */
  revoke(jti: string, expiresAt: number): void {
    if (typeof jti !== 'string' || jti === '') fail('"jti" must be a non-empty string')
    const key = tokenKey(jti)
    const held = this.#map.get(key, this.#clock())
    // Revoking again never shortens a revocation.
    this.#store(key, { kind: 'token' }, Math.max(held?.expiresAt ?? -Infinity, expiresAt))
  }

  /** @throws `RangeError` when the store is full of live entries. */
  revokeSubject(iss: string, sub: string, before: number): void {
    if (typeof iss !== 'string' || typeof sub !== 'string') fail('"iss" and "sub" must be strings')
    if (typeof before !== 'number' || !Number.isFinite(before)) {
      fail('"before" must be a finite number of milliseconds')
    }
    const key = subjectKey(iss, sub)
    const held = this.#map.get(key, this.#clock())?.value
    // A later revocation of the same subject extends, never shortens, the earlier one.
    const latest = held?.kind === 'subject' ? Math.max(held.before, before) : before
    this.#store(key, { kind: 'subject', before: latest }, latest + this.#subjectRetention)
  }

  #store(key: string, value: Revocation, expiresAt: number): void {
    if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) {
      fail('"expiresAt" must be a finite number of milliseconds')
    }
    if (!this.#map.set(key, value, expiresAt, this.#clock())) {
      throw new RangeError('bearer-guard: the revocation store is full of live entries')
    }
  }
}

/** The key of a revoked `jti`. */
function tokenKey(jti: string): string {
  return `jti:${jti}`
}

/** The key of a revoked subject: issuer and subject, unambiguously joined. */
function subjectKey(iss: string, sub: string): string {
  return `sub:${JSON.stringify([iss, sub])}`
}
