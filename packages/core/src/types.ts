/**
 * Public types of the verified result.
 *
 * @packageDocumentation
 */

/**
 * The claims of a verified access token (RFC 9068 §2.2, RFC 7519 §4.1). Every registered claim
 * has been type-checked; others are passed through as issued.
 *
 * Merge your own claims into {@link AccessTokenClaims} by declaration merging:
 *
 * @example
 * ```ts
 * declare module '@bearer-guard/core' {
 *   interface AccessTokenClaims {
 *     tenant_id?: string
 *   }
 * }
 * ```
 */
export interface AccessTokenClaims {
  /** Issuer: equals the configured issuer exactly. */
  iss: string
  /** Audience: a string or an array of strings, containing a configured audience. */
  aud: string | string[]
  /** Expiry, seconds since the epoch. */
  exp: number
  /** Subject: the resource owner, or the client in a client-credentials grant. */
  sub?: string
  /** The OAuth 2.0 client the token was issued to (RFC 8693 §4.3, RFC 9068 §2.2). */
  client_id?: string
  /** Issued-at, seconds since the epoch. */
  iat?: number
  /** Not-before, seconds since the epoch. */
  nbf?: number
  /** Unique token identifier. */
  jti?: string
  /**
   * Granted scopes: space-separated (RFC 8693 §4.2, RFC 9068 §2.2.3), or an array of strings as
   * some servers send them. Read {@link VerifiedAccessToken.scopes} rather than this.
   */
  scope?: string | string[]
  /** Any other claim, unverified in meaning but covered by the signature. */
  [claim: string]: unknown
}

/** The protected header of a verified token (only the members bearer-guard looks at). */
export interface AccessTokenHeader {
  /** The signature algorithm, one of the allowed ones. */
  readonly alg: string
  /** The key identifier, when the token names one. */
  readonly kid?: string
  /** The token type, when present (`at+jwt` for RFC 9068 tokens). */
  readonly typ?: string
  /** Any other header member. */
  readonly [member: string]: unknown
}

/**
 * The result of a successful verification, attached by the adapters as `req.auth` /
 * `request.auth`.
 */
export interface VerifiedAccessToken<Claims extends AccessTokenClaims = AccessTokenClaims> {
  /** The verified claims. */
  readonly claims: Claims
  /** The protected header. */
  readonly header: AccessTokenHeader
  /** The granted scopes, from the configured scope claims, de-duplicated. */
  readonly scopes: ReadonlySet<string>
  /** The raw compact token, e.g. to forward it downstream. Never log it. */
  readonly token: string
}
