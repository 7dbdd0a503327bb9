/**
 * Key names: `<namespace>:<kind>:…`, with every identifier that comes from a token (a proof's
 * replay id, a `jti`, an issuer and subject) replaced by its SHA-256, so Redis never holds a raw
 * token value and a `SCAN`/`KEYS` shows what kind of state is there, not whose.
 */
import { hash } from 'node:crypto'

/**
 * A deployment's namespace: letters, digits and `. _ - : /`, 1 to 128 characters. No glob
 * characters (`* ? [ ] \`), so a namespace never matches another's keys in a pattern, and no
 * spaces or control characters.
 */
const NAMESPACE = /^[A-Za-z0-9._:/-]{1,128}$/

/** @internal Checks a namespace once, at construction. */
export function checkNamespace(namespace: unknown): string {
  if (typeof namespace !== 'string' || !NAMESPACE.test(namespace)) {
    throw new TypeError(
      'bearer-guard: "namespace" must be 1 to 128 letters, digits or . _ - : / (e.g. "orders-api:prod")',
    )
  }
  return namespace
}

/**
 * @internal SHA-256 of a value, base64url (43 characters, never `|`). The one-shot `hash` (Node
 * >= 20.12) costs half of `createHash`: it runs on every request, for `isRevoked`.
 */
export function digest(value: string): string {
  return hash('sha256', value, 'base64url')
}

/** @internal The hash naming a revoked subject: issuer and subject, unambiguously joined. */
export function subjectDigest(iss: string, sub: string): string {
  return digest(`${iss.length}:${iss}${sub}`)
}

/** @internal The keys and channel of one namespace. */
export interface Keys {
  /** The namespace, the first part of every key. */
  readonly prefix: string
  /** The key of a claimed replay id. */
  replay(id: string): string
  /** When the replay ids' memory begins (ms): set at connection, renewed by a data loss. */
  readonly replayEpoch: string
  /** Sorted set of revoked `jti` hashes, scored by the token's expiry (ms since the epoch). */
  readonly revokedTokens: string
  /** Sorted set of revoked subject hashes, scored by the revocation's `before` (ms). */
  readonly revokedSubjects: string
  /** Counter of revocation writes: a message carries it, so a missed message shows as a gap. */
  readonly revocationVersion: string
  /** Pub/sub channel on which every revocation is announced. */
  readonly revocationChannel: string
}

/** @internal */
export function keysOf(namespace: string): Keys {
  return {
    prefix: namespace,
    replay: (id) => `${namespace}:replay:${digest(id)}`,
    replayEpoch: `${namespace}:replay-epoch`,
    revokedTokens: `${namespace}:rev:jti`,
    revokedSubjects: `${namespace}:rev:sub`,
    revocationVersion: `${namespace}:rev:version`,
    revocationChannel: `${namespace}:revocations`,
  }
}
