/**
 * An instance's copy of the fleet's revocation lists, in memory: what `isRevoked` reads on every
 * request. Filled from the channel's messages and from loads; knows which version it holds, so a
 * missed message shows as a gap.
 */
import { MemoryRevocationStore, type RevocationQuery } from '@bearer-guard/core'
import { digest, subjectDigest } from './keys.js'

/** `j`: a token by `jti`, scored by its expiry; `s`: a subject, scored by its `before` (ms). */
export type Kind = 'j' | 's'

/** A revocation as announced: `j|<version>|<hash>|<expiresAt>` or `s|<version>|<hash>|<before>`. */
const MESSAGE = /^([js])\|(\d{1,15})\|([A-Za-z0-9_-]{43})\|(\d{1,15})$/

/** @internal What a message did to the mirror. */
export type Applied = 'next' | 'gap' | 'known'

/** @internal */
export class RevocationMirror {
  readonly #store: MemoryRevocationStore
  readonly #lifetime: number
  /** Every revocation up to this version is held; -1 before the first load. */
  version = -1
  /** A revocation did not fit: the caller fails closed until a load fits. */
  overflow = false
  /** No `jti` revocation held lives past this instant (ms): until then, no hash. */
  #tokensUntil = -Infinity
  /** No subject revocation held lives past this instant (ms). */
  #subjectsUntil = -Infinity

  /** `lifetime`: how long a subject revocation lasts after its `before` (ms). */
  constructor(maxEntries: number, lifetime: number, clock: () => number) {
    this.#lifetime = lifetime
    this.#store = new MemoryRevocationStore({
      maxEntries,
      subjectRetention: lifetime / 1000,
      clock,
    })
  }

  /**
   * Whether the token is revoked, at `now`. Hashes only what may be revoked: with no live
   * revocation of a kind, its lookup is skipped.
   */
  isRevoked(token: RevocationQuery, now: number): boolean {
    const { jti, sub } = token
    const byToken = typeof jti === 'string' && now < this.#tokensUntil
    const bySubject = typeof sub === 'string' && now < this.#subjectsUntil
    if (!byToken && !bySubject) return false
    return this.#store.isRevoked({
      iss: '',
      jti: byToken ? digest(jti) : undefined,
      sub: bySubject ? subjectDigest(token.iss, sub) : undefined,
      iat: token.iat,
    })
  }

  /**
   * Holds one revocation (never shortening one held).
   *
   * @throws `RangeError` when full; `overflow` is then set.
   */
  apply(kind: Kind, hash: string, score: number): void {
    try {
      if (kind === 'j') {
        this.#store.revoke(hash, score)
        if (score > this.#tokensUntil) this.#tokensUntil = score
      } else {
        this.#store.revokeSubject('', hash, score)
        const until = score + this.#lifetime
        if (until > this.#subjectsUntil) this.#subjectsUntil = until
      }
    } catch (error) {
      this.overflow = true
      throw error
    }
  }

  /**
   * Applies a message from the channel. `next`: the version after the one held; `gap`: one or
   * more were missed (load the lists); `known`: before the first load, or not newer. Malformed
   * messages, and revocations that do not fit (`overflow`), count as `known`.
   */
  applyMessage(message: string): Applied {
    const match = MESSAGE.exec(message)
    if (match === null) return 'known'
    const [, kind, v, hash, score] = match as unknown as [string, Kind, string, string, string]
    try {
      this.apply(kind, hash, Number(score))
    } catch {
      return 'known'
    }
    const version = Number(v)
    if (this.version < 0 || version <= this.version) return 'known'
    if (version !== this.version + 1) return 'gap'
    this.version = version
    return 'next'
  }

  /**
   * Applies a load, `[version, [hash, expiresAt, …], [hash, before, …]]`, and takes its version.
   * Returns how many revocations it held.
   *
   * @throws `Error` for a reply of another shape.
   */
  applySnapshot(reply: unknown): number {
    if (!Array.isArray(reply) || reply.length !== 3) {
      throw new Error('bearer-guard: unexpected reply from Redis to the revocation load')
    }
    const [version, tokens, subjects] = reply as [unknown, unknown, unknown]
    // Additive: revocations are never withdrawn, so what is held stays; only overflow is new.
    this.overflow = false
    let loaded = 0
    for (const [kind, flat] of [
      ['j', tokens],
      ['s', subjects],
    ] as const) {
      if (!Array.isArray(flat)) throw new Error('bearer-guard: unexpected revocation list')
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const hash: unknown = flat[i]
        const score = Number(flat[i + 1])
        if (typeof hash !== 'string' || !Number.isFinite(score)) continue
        try {
          this.apply(kind, hash, score)
          loaded++
        } catch {
          // `overflow` is set: the caller fails closed until a load fits.
        }
      }
    }
    this.version = Number(version ?? 0)
    return loaded
  }
}
