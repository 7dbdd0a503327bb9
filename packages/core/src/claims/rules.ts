import { InvalidTokenError, type InvalidTokenCode } from '../challenge/errors.js'
import { claimAt } from './scopes.js'
import { issuerMatches, type IssuerMatch } from './issuer.js'

/** A JSON value a claim may be required to equal. */
export type ClaimValue = string | number | boolean

/**
 * What must identify this API in a token. RFC 9068 §4 and RFC 7519 §4.1.3: `aud` must contain one
 * of `values`. Providers whose access tokens carry no `aud` (Amazon Cognito) name the client
 * instead: `{ claim: 'client_id', values }`. Never absent: there is no "any audience".
 */
export interface AudienceRule {
  /** The claim holding the audience: `aud` (a string or an array), or a string claim. */
  readonly claim: string
  readonly values: readonly string[]
}

/** The claim rules of one issuer, checked once at construction. */
export interface ClaimRules {
  readonly issuer: IssuerMatch
  readonly audience: AudienceRule
  readonly strict: boolean
  readonly allowNonce: boolean
  /** Skip the ID-token refusal for this issuer (its access tokens are built as ID tokens). */
  readonly allowIdTokenClaims: boolean
  readonly requiredClaims: readonly string[]
  /** Claims (top-level names or dotted-free paths) that must equal one of the given values. */
  readonly requiredClaimValues: readonly (readonly [
    path: readonly string[],
    name: string,
    values: readonly ClaimValue[],
  ])[]
}

const STRICT_CLAIMS = ['sub', 'client_id', 'iat', 'jti'] as const
/**
 * Claims OpenID Connect defines for ID tokens only (OIDC Core §2 `nonce`, §3.1.3.6 `at_hash`,
 * §3.3.2.11 `c_hash`; FAPI `s_hash`): an access token has no use for them.
 */
const ID_TOKEN_ONLY_CLAIMS = ['at_hash', 'c_hash', 's_hash'] as const

const { hasOwn } = Object

function invalid(code: InvalidTokenCode, description: string): InvalidTokenError {
  return new InvalidTokenError(code, description)
}

/**
 * A claim of the payload itself: `constructor` or `__proto__` from `Object.prototype` is not one.
 * Read first, so an absent claim costs one property load and only a present one the `hasOwn`.
 */
function own(payload: Record<string, unknown>, name: string): unknown {
  const value = payload[name]
  return value !== undefined && hasOwn(payload, name) ? value : undefined
}

/** Refuses a claim of the payload itself that is present and not a string. */
function stringClaim(payload: Record<string, unknown>, name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'string' && hasOwn(payload, name)) {
    throw invalid('ERR_TOKEN_CLAIM_INVALID', `The '${name}' claim is not a string`)
  }
}

/**
 * Checks the non-time claims of a signature-verified payload (RFC 7519 §4.1, RFC 9068 §4): issuer,
 * audience, that it is no ID token, claim types and required claims. Messages name claims, never
 * their values. `payload` holds members as JSON.parse makes them: none is `undefined`.
 */
export function checkClaims(payload: Record<string, unknown>, rules: ClaimRules): void {
  if (!issuerMatches(rules.issuer, payload)) {
    throw invalid(
      'ERR_TOKEN_ISSUER_INVALID',
      'The access token was not issued by the expected issuer',
    )
  }
  if (!audienceMatches(payload, rules.audience)) {
    throw invalid(
      'ERR_TOKEN_AUDIENCE_INVALID',
      rules.audience.claim === 'aud'
        ? 'The access token is not intended for this API (audience)'
        : `The access token is not intended for this API ('${rules.audience.claim}')`,
    )
  }
  if (!rules.allowIdTokenClaims) refuseIdToken(payload, rules.allowNonce)

  // RFC 7519 §4.1.2, §4.1.7, RFC 8693 §4.3 (`sub`, `jti`, `client_id`); read by name, not in a
  // loop over names, so each is a plain property load.
  stringClaim(payload, 'sub', payload.sub)
  stringClaim(payload, 'client_id', payload.client_id)
  stringClaim(payload, 'jti', payload.jti)
  if (rules.strict) {
    for (const name of STRICT_CLAIMS) {
      if (own(payload, name) === undefined) {
        throw invalid('ERR_TOKEN_CLAIM_INVALID', `The '${name}' claim is required (RFC 9068)`)
      }
    }
  }
  for (const name of rules.requiredClaims) {
    const value = own(payload, name)
    if (value === undefined || value === null) {
      throw invalid('ERR_TOKEN_CLAIM_INVALID', `The '${name}' claim is required`)
    }
  }
  for (const [path, name, values] of rules.requiredClaimValues) {
    const value = claimAt(payload, path)
    if (!values.includes(value as ClaimValue)) {
      throw invalid(
        'ERR_TOKEN_CLAIM_INVALID',
        `The '${name}' claim does not have an accepted value`,
      )
    }
  }
}

/**
 * RFC 9068 §4: a resource server must not accept an OpenID Connect ID token as an access token.
 * `typ: JWT` is what most providers put on both, so the claims decide: the ID-token-only hashes,
 * a `nonce` (unless `allowNonce`), Keycloak's `typ: 'ID'` claim, or the ID-token shape of
 * `auth_time` and `azp` without any of `scope`, `scp` or `client_id` (OIDC Core §2).
 */
function refuseIdToken(payload: Record<string, unknown>, allowNonce: boolean): void {
  // The common case, an access token with none of these claims, in six property loads: a member
  // JSON.parse made is never `undefined`, so a claim read as `undefined` is not in the payload.
  if (
    payload.at_hash === undefined &&
    payload.c_hash === undefined &&
    payload.s_hash === undefined &&
    (allowNonce || payload.nonce === undefined) &&
    payload.typ === undefined &&
    payload.auth_time === undefined
  ) {
    return
  }
  let marker: string | undefined
  for (const name of ID_TOKEN_ONLY_CLAIMS) {
    if (hasOwn(payload, name)) marker = name
  }
  if (marker === undefined && !allowNonce && hasOwn(payload, 'nonce')) marker = 'nonce'
  if (marker === undefined && own(payload, 'typ') === 'ID') marker = 'typ'
  if (
    marker === undefined &&
    hasOwn(payload, 'auth_time') &&
    hasOwn(payload, 'azp') &&
    !hasOwn(payload, 'scope') &&
    !hasOwn(payload, 'scp') &&
    !hasOwn(payload, 'client_id')
  ) {
    marker = 'auth_time'
  }
  if (marker !== undefined) {
    throw invalid(
      'ERR_TOKEN_TYPE_INVALID',
      `The token is an OpenID Connect ID token, not an access token (its '${marker}' claim)`,
    )
  }
}

function audienceMatches(payload: Record<string, unknown>, rule: AudienceRule): boolean {
  const value = own(payload, rule.claim)
  const accepted = rule.values
  if (typeof value === 'string') return accepted.includes(value)
  // Only `aud` may be an array (RFC 7519 §4.1.3); `client_id` and the like are single strings.
  if (rule.claim !== 'aud' || !Array.isArray(value) || value.length === 0) return false
  let match = false
  for (const item of value as unknown[]) {
    if (typeof item !== 'string') return false
    if (accepted.includes(item)) match = true
  }
  return match
}
