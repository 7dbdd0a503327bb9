/**
 * The typed refusals of bearer-guard. Every error knows its HTTP status, its RFC 6750
 * `WWW-Authenticate` challenge and the JSON body to send, so an adapter only has to render it.
 *
 * @packageDocumentation
 */

import { renderChallenge, type AuthScheme, type ChallengeContext } from './www-authenticate.js'
import type { InvalidDpopProofError, UseDpopNonceError } from './dpop-errors.js'

const BRAND = Symbol.for('bearer-guard.error')
const CONTEXT = Symbol('bearer-guard.challenge-context')

/** RFC 6750 §3.1 error codes, plus `temporarily_unavailable` for the 503 body. */
export type Rfc6750ErrorCode =
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  /** RFC 9470 §3 (step-up authentication). */
  | 'insufficient_user_authentication'

/** RFC 9449 §7.1 and §9 error codes, sent in a `DPoP` challenge. */
export type DpopErrorCode = 'invalid_dpop_proof' | 'use_dpop_nonce'

/** Stable machine-readable codes of {@link InvalidTokenError}. */
export type InvalidTokenCode =
  | 'ERR_TOKEN_MALFORMED'
  | 'ERR_TOKEN_TOO_LARGE'
  | 'ERR_TOKEN_ALG_NOT_ALLOWED'
  | 'ERR_TOKEN_TYPE_INVALID'
  | 'ERR_TOKEN_CRIT_UNSUPPORTED'
  | 'ERR_TOKEN_KEY_NOT_FOUND'
  | 'ERR_TOKEN_SIGNATURE_INVALID'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_TOKEN_NOT_YET_VALID'
  | 'ERR_TOKEN_TOO_OLD'
  | 'ERR_TOKEN_ISSUER_INVALID'
  | 'ERR_TOKEN_AUDIENCE_INVALID'
  | 'ERR_TOKEN_CLAIM_INVALID'
  | 'ERR_TOKEN_BINDING_MISMATCH'
  | 'ERR_TOKEN_REVOKED'
  /** RFC 7662 §2.2: the introspection answer's `active` is `false`. */
  | 'ERR_TOKEN_INACTIVE'
  | 'ERR_DPOP_REQUIRED'

/** Every stable `code` a bearer-guard error can carry; `switch (err.code)` over it is exhaustive. */
export type BearerGuardErrorCode =
  | 'ERR_MISSING_CREDENTIALS'
  | 'ERR_INVALID_REQUEST'
  | InvalidTokenCode
  | 'ERR_INSUFFICIENT_SCOPE'
  | 'ERR_INSUFFICIENT_USER_AUTHENTICATION'
  | 'ERR_KEYSET_UNAVAILABLE'
  | 'ERR_DPOP_PROOF_INVALID'
  | 'ERR_DPOP_NONCE_REQUIRED'

/** The JSON body bearer-guard sends with a refusal (RFC 6750 parameter names). */
export interface ErrorBody {
  /** The RFC 6750 (or RFC 9449) error code; absent when the request carried no credentials. */
  readonly error?: Rfc6750ErrorCode | DpopErrorCode | 'temporarily_unavailable'
  /** A human-readable explanation. Never contains the token or an unverified claim value. */
  readonly error_description: string
}

/** Options shared by every error constructor. */
export interface BearerGuardErrorOptions {
  /**
   * The protection space named in the challenge (`realm="…"`). Default: the realm of the
   * validator the error passes through (set where the error leaves core), or none.
   */
  readonly realm?: string | undefined
  /** The underlying error, for logs; never rendered to the client. */
  readonly cause?: unknown
  /**
   * The authentication scheme whose challenge carries the error: the scheme the request used
   * (RFC 9449 §7.2). Default: `Bearer`; `DPoP` for the DPoP proof errors.
   */
  readonly scheme?: AuthScheme | undefined
}

/**
 * Makes a text fit RFC 6750 §3 (and RFC 6749 §5.2): `error_description` "MUST NOT include
 * characters outside the set %x20-21 / %x23-5B / %x5D-7E". So `"` becomes `'`, `\` becomes `/`,
 * and anything else outside that set (controls, non-ASCII) becomes `?`. Applied to every
 * description, our own and those an application supplies, so the challenge never needs escaping
 * and the JSON body says the same.
 */
export function toRfc6750Text(value: string): string {
  let out = ''
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c === 0x22) out += "'"
    else if (c === 0x5c) out += '/'
    else if (c >= 0x20 && c <= 0x7e) out += value.charAt(i)
    else {
      // One `?` per character, not per UTF-16 unit.
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) i++
      out += '?'
    }
  }
  return out
}

/**
 * The base class of every refusal. Carries `status` (and `statusCode`) and ready-to-send
 * `headers`, so Express's and Fastify's default error handlers render it correctly as is.
 *
 * `instanceof` works across two installed copies of this package (the check uses a global
 * symbol brand), so an adapter and an application may each bring their own copy.
 */
export abstract class BearerGuardError extends Error {
  /** Stable machine-readable code; the public contract of this error. */
  abstract readonly code: BearerGuardErrorCode
  /** The HTTP status to answer with. */
  abstract readonly status: 400 | 401 | 403 | 503
  /**
   * The RFC 6750 (or RFC 9449 DPoP) error code placed in the challenge and body; `undefined` for
   * no credentials.
   */
  abstract readonly error: Rfc6750ErrorCode | DpopErrorCode | undefined
  /** The scheme of the challenge the error is rendered in (RFC 9449 §7.1, §7.2). */
  readonly scheme: AuthScheme
  /** Marks the message as safe to show to clients (it never holds token content). */
  readonly expose = true

  /** @internal */
  readonly [BRAND] = true

  /** @internal What the challenge is rendered with; set where the error leaves core. */
  public [CONTEXT]: ChallengeContext | undefined

  protected constructor(description: string, options: BearerGuardErrorOptions = {}) {
    super(
      toRfc6750Text(description),
      options.cause === undefined ? undefined : { cause: options.cause },
    )
    this[CONTEXT] = options.realm === undefined ? undefined : { realm: options.realm }
    this.scheme = options.scheme ?? 'Bearer'
  }

  /** The realm placed in the challenge, if one is configured. */
  get realm(): string | undefined {
    return this[CONTEXT]?.realm
  }

  /**
   * The error's own challenge parameters beyond `error` and `error_description` (RFC 6750 §3
   * `scope`; RFC 9470 `acr_values`, `max_age`), in the order they are rendered.
   */
  get params(): Readonly<Record<string, string>> {
    return NO_PARAMS
  }

  override get name(): string {
    return this.constructor.name
  }

  /** Alias of {@link BearerGuardError.status} for frameworks that read `statusCode` (Fastify). */
  get statusCode(): number {
    return this.status
  }

  /** The scope attribute of the challenge, when there is one. */
  get scope(): string | undefined {
    return this.params.scope
  }

  /**
   * The `WWW-Authenticate` value: the {@link BearerGuardError.scheme} with `realm`, `error`,
   * `error_description` and the error's own parameters (`scope`, `algs`).
   */
  get challenge(): string {
    return renderChallenge(this, this[CONTEXT])
  }

  /** Response headers to send with the status: `WWW-Authenticate`, and `Retry-After` on a 503. */
  get headers(): Record<string, string> {
    return { 'WWW-Authenticate': this.challenge }
  }

  /** The JSON body to send: `{ error, error_description }` (no `error` without credentials). */
  get body(): ErrorBody {
    return this.error === undefined
      ? { error_description: this.message }
      : { error: this.error, error_description: this.message }
  }

  /** Serialises as {@link BearerGuardError.body}, so `res.json(err)` sends the RFC 6750 body. */
  toJSON(): ErrorBody {
    return this.body
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null || !(BRAND in value)) return false
    // Subclasses keep ordinary prototype semantics; only the base check is brand-based.
    return this === BearerGuardError || Function.prototype[Symbol.hasInstance].call(this, value)
  }
}

/** 401 without an `error` attribute: the request carried no bearer credentials (RFC 6750 §3.1). */
export class MissingCredentialsError extends BearerGuardError {
  readonly code = 'ERR_MISSING_CREDENTIALS'
  readonly status = 401
  readonly error = undefined
  constructor(options?: BearerGuardErrorOptions) {
    super('Authentication with a bearer access token is required', options)
  }
}

/** 400 `invalid_request`: the credentials are malformed or sent in more than one way. */
export class InvalidRequestError extends BearerGuardError {
  readonly code = 'ERR_INVALID_REQUEST'
  readonly status = 400
  readonly error = 'invalid_request'
  // Public, where the base constructor is protected.
  // eslint-disable-next-line @typescript-eslint/no-useless-constructor
  constructor(description: string, options?: BearerGuardErrorOptions) {
    super(description, options)
  }
}

/**
 * 401 `invalid_token`: the token is malformed, forged, expired or meant for someone else, or it is
 * bound to a key or certificate the request does not prove (`ERR_TOKEN_BINDING_MISMATCH`, RFC 8705
 * §3, RFC 9449 §7.1 Figure 16).
 */
export class InvalidTokenError extends BearerGuardError {
  readonly code: InvalidTokenCode
  readonly status = 401
  readonly error = 'invalid_token'
  constructor(code: InvalidTokenCode, description: string, options?: BearerGuardErrorOptions) {
    super(description, options)
    this.code = code
  }
}

/** 403 `insufficient_scope`: the token is valid but does not grant what the route needs. */
export class InsufficientScopeError extends BearerGuardError {
  readonly code = 'ERR_INSUFFICIENT_SCOPE'
  readonly status = 403
  readonly error = 'insufficient_scope'
  /** The scopes the route needs, space-separated as in RFC 6750 §3; `undefined` if none apply. */
  readonly requiredScope: string | undefined
  constructor(
    description: string,
    requiredScopes: readonly string[],
    options?: BearerGuardErrorOptions,
  ) {
    super(description, options)
    this.requiredScope = requiredScopes.length > 0 ? requiredScopes.join(' ') : undefined
  }
  override get params(): Readonly<Record<string, string>> {
    return this.requiredScope === undefined ? NO_PARAMS : { scope: this.requiredScope }
  }
}

/**
 * 401 `insufficient_user_authentication` (RFC 9470 §3): the token is valid, but the user's
 * authentication behind it is not strong enough (`acr`) or too old (`auth_time`) for this route.
 * The challenge says what would do: `acr_values` (acceptable values, in order of preference)
 * and/or `max_age` (seconds).
 */
export class InsufficientUserAuthenticationError extends BearerGuardError {
  readonly code = 'ERR_INSUFFICIENT_USER_AUTHENTICATION'
  readonly status = 401
  readonly error = 'insufficient_user_authentication'
  readonly #params: Readonly<Record<string, string>>
  constructor(
    description: string,
    needs: { readonly acrValues?: readonly string[]; readonly maxAge?: number },
    options?: BearerGuardErrorOptions,
  ) {
    super(description, options)
    const params: Record<string, string> = {}
    if (needs.acrValues !== undefined) params.acr_values = needs.acrValues.join(' ')
    if (needs.maxAge !== undefined) params.max_age = String(needs.maxAge)
    this.#params = Object.freeze(params)
  }
  override get params(): Readonly<Record<string, string>> {
    return this.#params
  }
}

/**
 * 503: the issuer's keys could not be obtained and none usable are cached. Fails closed without
 * an `invalid_token` (which would make clients discard good tokens). Carries `Retry-After`.
 */
export class KeySetUnavailableError extends BearerGuardError {
  readonly code = 'ERR_KEYSET_UNAVAILABLE'
  readonly status = 503
  readonly error = undefined
  /** Seconds after which the client may retry. */
  readonly retryAfter: number
  constructor(description: string, retryAfter: number, options?: BearerGuardErrorOptions) {
    super(description, options)
    this.retryAfter = Math.max(1, Math.ceil(retryAfter))
  }
  override get headers(): Record<string, string> {
    return { 'WWW-Authenticate': this.challenge, 'Retry-After': String(this.retryAfter) }
  }
  override get body(): ErrorBody {
    return { error: 'temporarily_unavailable', error_description: this.message }
  }
}

/** The union of every bearer-guard error, discriminated by `code`. */
export type AnyBearerGuardError =
  | MissingCredentialsError
  | InvalidRequestError
  | InvalidTokenError
  | InsufficientScopeError
  | InsufficientUserAuthenticationError
  | KeySetUnavailableError
  | InvalidDpopProofError
  | UseDpopNonceError

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({})

/**
 * Gives `error` the challenge context of the validator it leaves through, unless it has one
 * already (an error keeps the context of the first boundary it crossed). Internal.
 */
/**
 * Puts a `Bearer` error into the `DPoP` challenge when the request used the DPoP scheme (RFC 9449
 * §7.1: the error goes in the challenge of the scheme the request used). Internal.
 */
export function inScheme<E>(error: E, scheme: AuthScheme): E {
  if (error instanceof BearerGuardError && error.scheme !== scheme && scheme === 'DPoP') {
    ;(error as { scheme: AuthScheme }).scheme = scheme
  }
  return error
}

export function withChallengeContext<E>(error: E, context: ChallengeContext): E {
  if (error instanceof BearerGuardError && error[CONTEXT] === undefined) error[CONTEXT] = context
  return error
}

/** True when `value` is a bearer-guard error (from any installed copy of this package). */
export function isBearerGuardError(value: unknown): value is AnyBearerGuardError {
  return value instanceof BearerGuardError
}
