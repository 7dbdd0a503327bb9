import { InvalidTokenError, type InvalidTokenCode } from './errors.js'
import type { ResolvedOptions } from './options.js'
import type { AccessTokenClaims } from './types.js'

const STRICT_CLAIMS = ['sub', 'client_id', 'iat', 'jti'] as const
const STRING_CLAIMS = ['sub', 'client_id', 'jti'] as const
/**
 * Claims OpenID Connect defines for ID tokens only (OIDC Core §2 `nonce`, §3.1.3.6 `at_hash`,
 * §3.3.2.11 `c_hash`; FAPI `s_hash`): an access token has no use for them.
 */
const ID_TOKEN_ONLY_CLAIMS = ['at_hash', 'c_hash', 's_hash'] as const

const { hasOwn } = Object

function invalid(code: InvalidTokenCode, description: string, realm: string): InvalidTokenError {
  return new InvalidTokenError(code, description, { realm })
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

/** A claim of the payload itself: `constructor` or `__proto__` inherited from `Object.prototype` is not one. */
function own(payload: Record<string, unknown>, name: string): unknown {
  return hasOwn(payload, name) ? payload[name] : undefined
}

/**
 * Checks the registered claims of a signature-verified payload (RFC 7519 §4.1, RFC 9068 §4).
 * Messages name claims, never their values.
 */
export function checkClaims(
  payload: Record<string, unknown>,
  options: ResolvedOptions,
  nowMs: number,
): AccessTokenClaims {
  const { realm, clockTolerance: tolerance } = options
  const now = nowMs / 1000

  const { exp, nbf, iat } = payload
  if (!isNumericDate(exp)) {
    throw invalid('ERR_TOKEN_CLAIM_INVALID', "The 'exp' claim is missing or not a number", realm)
  }
  if (exp <= now - tolerance) throw invalid('ERR_TOKEN_EXPIRED', 'The access token expired', realm)
  if (nbf !== undefined) {
    if (!isNumericDate(nbf)) {
      throw invalid('ERR_TOKEN_CLAIM_INVALID', "The 'nbf' claim is not a number", realm)
    }
    if (nbf > now + tolerance) {
      throw invalid('ERR_TOKEN_NOT_YET_VALID', 'The access token is not valid yet', realm)
    }
  }
  if (iat !== undefined) {
    if (!isNumericDate(iat)) {
      throw invalid('ERR_TOKEN_CLAIM_INVALID', "The 'iat' claim is not a number", realm)
    }
    // RFC 7519 §4.1.6: the time the token was issued; one from the future (beyond the clock
    // tolerance) was not issued by a server whose clock agrees with ours.
    if (iat > now + tolerance) {
      throw invalid(
        'ERR_TOKEN_NOT_YET_VALID',
        "The access token was issued in the future ('iat')",
        realm,
      )
    }
  }
  if (options.maxTokenAge !== undefined) {
    if (iat === undefined) {
      throw invalid('ERR_TOKEN_CLAIM_INVALID', "The 'iat' claim is required", realm)
    }
    if (now - iat - tolerance > options.maxTokenAge) {
      throw invalid('ERR_TOKEN_TOO_OLD', 'The access token is older than allowed', realm)
    }
  }

  if (payload.iss !== options.issuer) {
    throw invalid(
      'ERR_TOKEN_ISSUER_INVALID',
      'The access token was not issued by the expected issuer',
      realm,
    )
  }
  if (!audienceMatches(payload.aud, options.audiences)) {
    throw invalid(
      'ERR_TOKEN_AUDIENCE_INVALID',
      'The access token is not intended for this API (audience)',
      realm,
    )
  }
  refuseIdToken(payload, options)

  for (const name of STRING_CLAIMS) {
    const value = own(payload, name)
    if (value !== undefined && typeof value !== 'string') {
      throw invalid('ERR_TOKEN_CLAIM_INVALID', `The '${name}' claim is not a string`, realm)
    }
  }
  if (options.strict) {
    for (const name of STRICT_CLAIMS) {
      if (own(payload, name) === undefined) {
        throw invalid(
          'ERR_TOKEN_CLAIM_INVALID',
          `The '${name}' claim is required (RFC 9068)`,
          realm,
        )
      }
    }
  }
  for (const name of options.requiredClaims) {
    const value = own(payload, name)
    if (value === undefined || value === null) {
      throw invalid('ERR_TOKEN_CLAIM_INVALID', `The '${name}' claim is required`, realm)
    }
  }
  return payload as AccessTokenClaims
}

/**
 * RFC 9068 §4: a resource server must not accept an OpenID Connect ID token as an access token.
 * `typ: JWT` is what most providers put on both, so the claims decide: the ID-token-only hashes,
 * a `nonce` (unless `allowNonce`), Keycloak's `typ: 'ID'` claim, or the ID-token shape of
 * `auth_time` and `azp` without any of `scope`, `scp` or `client_id` (OIDC Core §2).
 */
function refuseIdToken(payload: Record<string, unknown>, options: ResolvedOptions): void {
  let marker: string | undefined
  for (const name of ID_TOKEN_ONLY_CLAIMS) {
    if (hasOwn(payload, name)) marker = name
  }
  if (marker === undefined && !options.allowNonce && hasOwn(payload, 'nonce')) marker = 'nonce'
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
      options.realm,
    )
  }
}

function audienceMatches(aud: unknown, accepted: readonly string[]): boolean {
  if (typeof aud === 'string') return accepted.includes(aud)
  if (!Array.isArray(aud) || aud.length === 0) return false
  let match = false
  for (const item of aud as unknown[]) {
    if (typeof item !== 'string') return false
    if (accepted.includes(item)) match = true
  }
  return match
}

/**
 * Reads granted scopes from the configured claims: a string is split on spaces (RFC 9068 §2.2.3,
 * RFC 8693 §4.2), an array must hold only strings (what several servers send in `scope`, and
 * Okta and Entra in `scp`). Any other type makes the token invalid rather than silently
 * scope-less.
 */
export function readScopes(
  payload: Record<string, unknown>,
  scopeClaims: readonly string[],
  realm: string,
): ReadonlySet<string> {
  const scopes = new Set<string>()
  for (const name of scopeClaims) {
    const value = own(payload, name)
    if (value === undefined) continue
    if (typeof value === 'string') {
      for (const scope of value.split(' ')) if (scope !== '') scopes.add(scope)
    } else if (Array.isArray(value) && value.every((s) => typeof s === 'string')) {
      for (const scope of value) if (scope !== '') scopes.add(scope)
    } else {
      throw invalid(
        'ERR_TOKEN_CLAIM_INVALID',
        `The '${name}' claim is neither a string nor an array of strings`,
        realm,
      )
    }
  }
  return scopes
}
