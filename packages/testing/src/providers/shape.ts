import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto'
import type { TestKey } from '../keys.js'
import { mergeMembers } from '../mint.js'
import { assertKnownKeys } from '../option-keys.js'

/** The identity providers whose token shapes `providers` reproduces. */
export type ProviderName =
  'auth0' | 'okta' | 'entra' | 'keycloak' | 'cognito' | 'google' | 'dex' | 'github' | 'kubernetes'

/**
 * A token in a provider's real header and claim shape, ready for `TestIssuer.mint(shape.claims,
 * { header: shape.header })` (or `TestIssuer.mintShaped`, which builds and signs in one step).
 */
export interface TokenShape {
  /** The provider whose shape this is. */
  readonly provider: ProviderName
  /**
   * `'access'`: what the provider gives a client to call an API (for GitHub Actions, Kubernetes
   * and Google service-to-service calls: the token a workload presents). `'id'`: an OpenID
   * Connect ID token, meant for the client that signed the user in; an API must refuse it.
   */
  readonly kind: 'access' | 'id'
  /**
   * Header members merged over `mint`'s default header `{ alg, kid, typ: 'at+jwt' }`: `alg` and
   * `kid` come from the signing key; a member whose value is `undefined` (usually `typ`) is one
   * the provider does not send, and `mint` removes it.
   */
  readonly header: Readonly<Record<string, unknown>>
  /**
   * Every claim of the token, times included. A member whose value is `undefined` is one of
   * `mint`'s defaults (`iss`, `sub`, `aud`, `client_id`, `iat`, `exp`, `jti`) that the provider
   * does not send: `mint` removes it and `JSON.stringify` drops it.
   */
  readonly claims: Readonly<Record<string, unknown>>
}

/** Options every shape builder accepts. */
export interface ShapeOptions {
  /**
   * The current time in milliseconds since the epoch: `iat`, `nbf`, `auth_time` and `exp` are
   * derived from it. `TestIssuer.mintShaped` passes the issuer's clock. Default: `Date.now()`.
   */
  readonly now?: number
  /** `exp - iat` in seconds. Default: the provider's own default lifetime (see each builder). */
  readonly lifetime?: number
  /**
   * The key that will sign the token, for header members derived from it (`x5t` of Entra ID v1.0
   * and GitHub Actions tokens). `TestIssuer.mintShaped` passes the key it signs with. Default:
   * none (those members are left out).
   */
  readonly key?: TestKey
  /** Claims merged over the shape; a claim given as `undefined` is removed. Default: none. */
  readonly claims?: Readonly<Record<string, unknown>>
  /** Header members merged over the shape's; `undefined` removes one. Default: none. */
  readonly header?: Readonly<Record<string, unknown>>
}

/** The option names of {@link ShapeOptions}, for each builder's list of known options. */
export const SHAPE_OPTION_NAMES: Readonly<Record<keyof ShapeOptions, true>> = {
  now: true,
  lifetime: true,
  key: true,
  claims: true,
  header: true,
}

/** The claims `mint` adds by default; a shape that lacks one sets it to `undefined`. */
const MINT_DEFAULT_CLAIMS = ['iss', 'sub', 'aud', 'client_id', 'iat', 'exp', 'jti'] as const

/** Times of a token minted now: `iat` and `exp` in seconds. */
interface ShapeTimes {
  readonly iat: number
  readonly exp: number
}

/**
 * Checks a builder's options (unknown names throw a `TypeError` naming `where`) and returns the
 * token times.
 */
export function begin(
  options: ShapeOptions,
  known: Readonly<Record<string, true>>,
  where: string,
  defaultLifetime: number,
): ShapeTimes {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new TypeError(`${where}: options must be an object`)
  }
  assertKnownKeys(options, known, where)
  const now = options.now ?? Date.now()
  const lifetime = options.lifetime ?? defaultLifetime
  if (!Number.isFinite(now)) throw new TypeError(`${where}: now must be a number of milliseconds`)
  if (!Number.isFinite(lifetime)) throw new TypeError(`${where}: lifetime must be seconds`)
  const iat = Math.floor(now / 1000)
  return { iat, exp: iat + Math.round(lifetime) }
}

/** Builds the shape: applies the caller's overrides and marks what `mint` must leave out. */
export function finish(
  provider: ProviderName,
  kind: TokenShape['kind'],
  header: Readonly<Record<string, unknown>>,
  claims: Readonly<Record<string, unknown>>,
  options: ShapeOptions,
): TokenShape {
  const finalHeader = mergeMembers(header, options.header)
  if (!Object.hasOwn(finalHeader, 'typ')) finalHeader.typ = undefined
  const finalClaims = mergeMembers(claims, options.claims)
  for (const name of MINT_DEFAULT_CLAIMS) {
    if (!Object.hasOwn(finalClaims, name)) finalClaims[name] = undefined
  }
  return Object.freeze({
    provider,
    kind,
    header: Object.freeze(finalHeader),
    claims: Object.freeze(finalClaims),
  })
}

/** `bytes` random bytes, base64url (no padding). */
export function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url')
}

/** A random version 4 UUID. */
export function uuid(): string {
  return randomUUID()
}

/** A random string of `length` decimal digits, not starting with 0. */
export function randomDigits(length: number): string {
  let digits = String(randomInt(1, 10))
  while (digits.length < length) digits += String(randomInt(0, 10))
  return digits
}

/** A random lowercase hexadecimal string of `length` characters (a git SHA is 40). */
export function randomHex(length: number): string {
  return randomBytes(Math.ceil(length / 2))
    .toString('hex')
    .slice(0, length)
}

/**
 * An OpenID Connect `at_hash`/`c_hash` (Core §3.1.3.6) over `value` for an RS256/ES256/PS256
 * signature: base64url of the left half of its SHA-256.
 */
export function halfHash(value: string): string {
  return createHash('sha256').update(value).digest().subarray(0, 16).toString('base64url')
}

/**
 * An `x5t`-shaped thumbprint of `key`: base64url of the SHA-1 of its SubjectPublicKeyInfo. Real
 * `x5t` values hash the DER certificate; test keys have none, so this is the same shape over the
 * public key.
 */
export function thumbprint(key: TestKey): string {
  const der = key.publicKey.export({ type: 'spki', format: 'der' })
  return createHash('sha1').update(der).digest('base64url')
}

/** `members` when `condition` holds, else nothing: for claims a provider sends only sometimes. */
export function when<T extends object>(condition: boolean, members: T): Partial<T> {
  return condition ? members : {}
}
