import {
  InsufficientScopeError,
  InsufficientUserAuthenticationError,
  InvalidTokenError,
  withChallengeContext,
} from '../challenge/errors.js'
import { challengeContextOf, clockOf, scopeInfoOf } from '../result.js'
import type { ResolvedScopeHierarchy } from '../claims/scopes.js'
import type { AccessTokenClaims, VerifiedAccessToken } from '../types.js'

/**
 * What a route needs from a verified token. All given parts must hold. Evaluated on every request
 * against the already verified result; the token is never verified again.
 *
 * @example
 * ```ts
 * const canDelete = definePolicy({ allOf: ['orders:write', 'orders:admin'] })
 * const canReport = definePolicy({ anyOf: ['reports:read', 'admin'] })
 * const sameTenant = definePolicy({
 *   claims: (claims) => claims.tenant_id === 'acme',
 *   description: 'The token is not for tenant acme',
 * })
 * ```
 */
export interface AccessPolicy<Claims extends AccessTokenClaims = AccessTokenClaims> {
  /** Every one of these scopes must be granted. Default: none. */
  readonly allOf?: readonly string[]
  /** At least one of these scopes must be granted. Default: none. */
  readonly anyOf?: readonly string[]
  /**
   * A check over the verified claims: `true` grants access, anything else (or a throw, or a
   * rejection) refuses. It may return a promise (a database, a revocation list); a synchronous
   * check keeps the whole policy synchronous. Default: none.
   */
  readonly claims?: (
    claims: Claims,
    auth: VerifiedAccessToken<Claims>,
  ) => boolean | Promise<boolean>
  /**
   * Step-up (RFC 9470): the token's `acr` must be one of these authentication context class
   * references, else 401 `insufficient_user_authentication` with `acr_values` (in this order of
   * preference). A token without `acr` never satisfies it. Default: none.
   */
  readonly acr?: readonly string[]
  /**
   * Step-up (RFC 9470): the user authenticated at most this many seconds ago (`auth_time`, with
   * the validator's clock tolerance not applied), else 401 `insufficient_user_authentication` with
   * `max_age`. A token without `auth_time` never satisfies it. Default: none.
   */
  readonly maxAge?: number
  /**
   * Per-route DPoP (RFC 9449): `'required'` accepts only sender-constrained tokens here, bound to
   * a DPoP key (`cnf.jkt`, whose proof the validator checked on this request) or to a client
   * certificate (`cnf.x5t#S256`, RFC 8705), as the validator's `dpop: { required: true }` does for
   * every route; a bearer token gets 401 `invalid_token` in a `DPoP` challenge (RFC 9449 §7.1).
   * Needs DPoP enabled on the validator. A route can only tighten the validator's mode, never
   * loosen it. Default: the validator's mode.
   */
  readonly dpop?: 'required'
  /** The `error_description` sent when `claims` refuses. Default: a generic sentence. */
  readonly description?: string
  /**
   * How a `claims` refusal is answered: `'insufficient_scope'` (403: valid token, not enough for
   * this route) or `'invalid_token'` (401: the token must not be used at all, e.g. revoked).
   * Default: `'insufficient_scope'`.
   */
  readonly refuse?: 'insufficient_scope' | 'invalid_token'
}

/** A policy whose `claims` check (if any) answers synchronously: {@link authorize} then returns `void`. */
export type SyncAccessPolicy<Claims extends AccessTokenClaims = AccessTokenClaims> =
  AccessPolicy<Claims> & {
    readonly claims?: (claims: Claims, auth: VerifiedAccessToken<Claims>) => boolean
  }

const DEFINED = new WeakSet<object>()
const POLICY_KEYS = new Set([
  'allOf',
  'anyOf',
  'acr',
  'maxAge',
  'dpop',
  'claims',
  'description',
  'refuse',
])

/** RFC 6749 §3.3 `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`, as RFC 6750 §3 `scope` needs. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

function scopeList(name: string, value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    value.some((s) => typeof s !== 'string' || !SCOPE_TOKEN.test(s))
  ) {
    throw new TypeError(
      `bearer-guard: policy "${name}" must be a non-empty array of scope tokens (RFC 6749 §3.3: visible ASCII except quotes and backslashes, no spaces)`,
    )
  }
  return Object.freeze([...(value as string[])])
}

/**
 * Checks a policy once, when a route is defined, and returns a frozen copy ready for
 * {@link authorize}. Throws a `TypeError` for an empty or malformed policy.
 */
export function definePolicy<Claims extends AccessTokenClaims = AccessTokenClaims>(
  policy: AccessPolicy<Claims>,
): AccessPolicy<Claims> {
  if (typeof policy !== 'object' || (policy as unknown) === null) {
    throw new TypeError('bearer-guard: a policy must be an object')
  }
  if (DEFINED.has(policy)) return policy
  const allOf = scopeList('allOf', policy.allOf)
  const anyOf = scopeList('anyOf', policy.anyOf)
  if (policy.claims !== undefined && typeof policy.claims !== 'function') {
    throw new TypeError('bearer-guard: policy "claims" must be a function')
  }
  if (policy.description !== undefined && typeof policy.description !== 'string') {
    throw new TypeError('bearer-guard: policy "description" must be a string')
  }
  const refuse: unknown = policy.refuse
  if (refuse !== undefined && refuse !== 'insufficient_scope' && refuse !== 'invalid_token') {
    throw new TypeError(
      'bearer-guard: policy "refuse" must be "insufficient_scope" or "invalid_token"',
    )
  }
  for (const key of Object.keys(policy)) {
    if (!POLICY_KEYS.has(key)) {
      throw new TypeError(`bearer-guard: a policy has no member '${key}'`)
    }
  }
  const acr = policy.acr === undefined ? undefined : scopeList('acr', policy.acr)
  const { maxAge } = policy
  if (
    maxAge !== undefined &&
    (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 0)
  ) {
    throw new TypeError('bearer-guard: policy "maxAge" must be a whole number of seconds')
  }
  const dpop: unknown = policy.dpop
  if (dpop !== undefined && dpop !== 'required') {
    throw new TypeError('bearer-guard: policy "dpop" must be "required" (or left out)')
  }
  if (
    allOf === undefined &&
    anyOf === undefined &&
    acr === undefined &&
    maxAge === undefined &&
    dpop === undefined &&
    policy.claims === undefined
  ) {
    throw new TypeError(
      'bearer-guard: a policy needs "allOf", "anyOf", "acr", "maxAge", "dpop" or "claims"',
    )
  }
  const defined: AccessPolicy<Claims> = Object.freeze({
    ...(allOf && { allOf }),
    ...(anyOf && { anyOf }),
    ...(acr && { acr }),
    ...(maxAge !== undefined && { maxAge }),
    ...(dpop !== undefined && { dpop: 'required' as const }),
    ...(policy.claims && { claims: policy.claims }),
    ...(policy.description !== undefined && { description: policy.description }),
    ...(policy.refuse !== undefined && { refuse: policy.refuse }),
  })
  DEFINED.add(defined)
  return defined
}

/**
 * Enforces a policy on a verified token. Synchronous (returns `undefined`) unless the policy's
 * `claims` check returns a promise; then it returns a promise that settles the same way.
 *
 * @throws {@link InsufficientScopeError} (403) naming the needed scopes in its challenge, or the
 * {@link InvalidTokenError} (401) of a `claims` check with `refuse: 'invalid_token'`.
 */
export function authorize<Claims extends AccessTokenClaims>(
  auth: VerifiedAccessToken<Claims>,
  policy: SyncAccessPolicy<Claims>,
): void
export function authorize<Claims extends AccessTokenClaims>(
  auth: VerifiedAccessToken<Claims>,
  policy: AccessPolicy<Claims>,
): void | Promise<void>
export function authorize<Claims extends AccessTokenClaims>(
  auth: VerifiedAccessToken<Claims>,
  policy: AccessPolicy<Claims>,
): void | Promise<void> {
  const p = definePolicy(policy)
  if (p.dpop !== undefined) requireSenderConstraint(auth)
  const granted = auth.scopes
  if (p.allOf !== undefined) {
    for (const scope of p.allOf) {
      if (!granted.has(scope)) {
        throw refusal(auth, p, `this request needs all of: ${p.allOf.join(' ')}`)
      }
    }
  }
  if (p.anyOf !== undefined && !p.anyOf.some((scope) => granted.has(scope))) {
    throw refusal(auth, p, `this request needs one of: ${p.anyOf.join(' ')}`)
  }
  if (p.acr !== undefined || p.maxAge !== undefined) stepUp(auth, p.acr, p.maxAge)
  if (p.claims === undefined) return undefined
  let verdict: unknown
  try {
    verdict = p.claims(auth.claims, auth)
  } catch (error) {
    throw claimsRefusal(auth, p, error)
  }
  if (!(verdict instanceof Promise)) {
    // Only a literal `true` grants access: a truthy non-boolean is a bug, not consent.
    if (verdict !== true) throw claimsRefusal(auth, p, undefined)
    return undefined
  }
  return verdict.then(
    (value: unknown) => {
      if (value !== true) throw claimsRefusal(auth, p, undefined)
    },
    (error: unknown) => {
      throw claimsRefusal(auth, p, error)
    },
  )
}

function refusal<C extends AccessTokenClaims>(
  auth: VerifiedAccessToken<C>,
  p: AccessPolicy<C>,
  needs: string,
): InsufficientScopeError {
  const info = scopeInfoOf(auth)
  const from = info?.sources === undefined ? '' : ` (granted scopes are read from ${info.sources})`
  return withChallengeContext(
    new InsufficientScopeError(
      `The access token lacks a required scope; ${needs}${broader(info?.hierarchy, p)}${from}`,
      needed(p),
      { scheme: schemeOf(auth) },
    ),
    challengeContextOf(auth) ?? {},
  )
}

function claimsRefusal<C extends AccessTokenClaims>(
  auth: VerifiedAccessToken<C>,
  p: AccessPolicy<C>,
  cause: unknown,
): InsufficientScopeError | InvalidTokenError {
  const error =
    p.refuse === 'invalid_token'
      ? new InvalidTokenError(
          'ERR_TOKEN_CLAIM_INVALID',
          p.description ?? 'The access token is not accepted',
          { cause, scheme: schemeOf(auth) },
        )
      : new InsufficientScopeError(
          p.description ?? 'The access token does not grant access to this resource',
          needed(p),
          { cause, scheme: schemeOf(auth) },
        )
  return withChallengeContext(error, challengeContextOf(auth) ?? {})
}

/**
 * With a scope hierarchy, the 403 says which broader scopes would also do: RFC 6750 §3's `scope`
 * attribute lists what the route needs, the description what else grants it.
 */
function broader(
  hierarchy: ResolvedScopeHierarchy | undefined,
  p: { readonly allOf?: readonly string[]; readonly anyOf?: readonly string[] },
): string {
  if (hierarchy === undefined) return ''
  const parts: string[] = []
  for (const scope of needed(p)) {
    const by = hierarchy.grantedBy.get(scope)
    if (by !== undefined) parts.push(`${scope} is also granted by ${by.join(' or ')}`)
  }
  return parts.length === 0 ? '' : ` (${parts.join('; ')})`
}

function needed(p: {
  readonly allOf?: readonly string[]
  readonly anyOf?: readonly string[]
}): readonly string[] {
  return [...(p.allOf ?? []), ...(p.anyOf ?? [])]
}

/**
 * RFC 9470 §3: the authentication behind the token must be strong enough (`acr`) and recent
 * enough (`auth_time`). Both failures name what would do, so a client can ask the authorization
 * server for it (`acr_values`, `max_age` in the authorization request, RFC 9470 §4).
 */
function stepUp<C extends AccessTokenClaims>(
  auth: VerifiedAccessToken<C>,
  acr: readonly string[] | undefined,
  maxAge: number | undefined,
): void {
  const claims = auth.claims as Record<string, unknown>
  if (acr !== undefined) {
    const given = Object.hasOwn(claims, 'acr') ? claims.acr : undefined
    if (typeof given !== 'string' || !acr.includes(given)) {
      throw withChallengeContext(
        new InsufficientUserAuthenticationError(
          'A different authentication level is required for this request (acr)',
          { acrValues: acr },
          { scheme: schemeOf(auth) },
        ),
        challengeContextOf(auth) ?? {},
      )
    }
  }
  if (maxAge !== undefined) {
    const authTime = Object.hasOwn(claims, 'auth_time') ? claims.auth_time : undefined
    const now = clockOf(auth)() / 1000
    if (typeof authTime !== 'number' || !Number.isFinite(authTime) || now - authTime > maxAge) {
      throw withChallengeContext(
        new InsufficientUserAuthenticationError(
          'A more recent authentication is required for this request (auth_time)',
          { maxAge },
          { scheme: schemeOf(auth) },
        ),
        challengeContextOf(auth) ?? {},
      )
    }
  }
}

/**
 * A route that requires DPoP (RFC 9449 §7.1): the token must be bound to a key whose proof the
 * validator checked (`cnf.jkt`: a bound token is only ever accepted with a valid proof, RFC 9449
 * §7.2), or to a client certificate (`cnf.x5t#S256`, RFC 8705 §3).
 */
function requireSenderConstraint(auth: VerifiedAccessToken): void {
  const { cnf } = auth.claims as { cnf?: unknown }
  const bound =
    typeof cnf === 'object' &&
    cnf !== null &&
    (Object.hasOwn(cnf, 'jkt') || Object.hasOwn(cnf, 'x5t#S256'))
  if (bound) return
  throw withChallengeContext(
    new InvalidTokenError(
      'ERR_DPOP_REQUIRED',
      'This resource accepts DPoP-bound access tokens only (RFC 9449)',
      { scheme: 'DPoP' },
    ),
    challengeContextOf(auth) ?? {},
  )
}

/** The scheme a token is used with: a DPoP-bound token only ever with `DPoP` (RFC 9449 §7). */
function schemeOf(auth: VerifiedAccessToken): 'Bearer' | 'DPoP' {
  const { cnf } = auth.claims as { cnf?: unknown }
  return typeof cnf === 'object' && cnf !== null && Object.hasOwn(cnf, 'jkt') ? 'DPoP' : 'Bearer'
}
