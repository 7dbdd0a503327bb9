import { InvalidTokenError, type InvalidTokenCode } from './errors.js'
import type { ResolvedOptions } from './options.js'
import type { AccessTokenClaims } from './types.js'

const STRICT_CLAIMS = ['sub', 'client_id', 'iat', 'jti'] as const
const STRING_CLAIMS = ['sub', 'client_id', 'jti', 'scope'] as const

function invalid(code: InvalidTokenCode, description: string, realm: string): InvalidTokenError {
  return new InvalidTokenError(code, description, { realm })
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
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
    throw invalid('ERR_TOKEN_CLAIM_INVALID', 'The "exp" claim is missing or not a number', realm)
  }
  if (exp <= now - tolerance) throw invalid('ERR_TOKEN_EXPIRED', 'The access token expired', realm)
  if (nbf !== undefined) {
    if (!isNumericDate(nbf)) {
      throw invalid('ERR_TOKEN_CLAIM_INVALID', 'The "nbf" claim is not a number', realm)
    }
    if (nbf > now + tolerance) {
      throw invalid('ERR_TOKEN_NOT_YET_VALID', 'The access token is not valid yet', realm)
    }
  }
  if (iat !== undefined && !isNumericDate(iat)) {
    throw invalid('ERR_TOKEN_CLAIM_INVALID', 'The "iat" claim is not a number', realm)
  }
  if (options.maxTokenAge !== undefined) {
    if (iat === undefined) {
      throw invalid('ERR_TOKEN_CLAIM_INVALID', 'The "iat" claim is required', realm)
    }
    const age = now - iat
    if (age - tolerance > options.maxTokenAge) {
      throw invalid('ERR_TOKEN_TOO_OLD', 'The access token is older than allowed', realm)
    }
    if (age < -tolerance) {
      throw invalid('ERR_TOKEN_CLAIM_INVALID', 'The "iat" claim is in the future', realm)
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

  for (const name of STRING_CLAIMS) {
    const value = payload[name]
    if (value !== undefined && typeof value !== 'string') {
      throw invalid('ERR_TOKEN_CLAIM_INVALID', `The "${name}" claim is not a string`, realm)
    }
  }
  if (options.strict) {
    for (const name of STRICT_CLAIMS) {
      if (payload[name] === undefined) {
        throw invalid(
          'ERR_TOKEN_CLAIM_INVALID',
          `The "${name}" claim is required (RFC 9068)`,
          realm,
        )
      }
    }
  }
  for (const name of options.requiredClaims) {
    if (payload[name] === undefined || payload[name] === null) {
      throw invalid('ERR_TOKEN_CLAIM_INVALID', `The "${name}" claim is required`, realm)
    }
  }
  return payload as AccessTokenClaims
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
 * Reads granted scopes from the configured claims: a string is split on spaces, an array must
 * hold only strings. Any other type makes the token invalid rather than silently scope-less.
 */
export function readScopes(
  payload: Record<string, unknown>,
  scopeClaims: readonly string[],
  realm: string,
): ReadonlySet<string> {
  const scopes = new Set<string>()
  for (const name of scopeClaims) {
    const value = payload[name]
    if (value === undefined) continue
    if (typeof value === 'string') {
      for (const scope of value.split(' ')) if (scope !== '') scopes.add(scope)
    } else if (Array.isArray(value) && value.every((s) => typeof s === 'string')) {
      for (const scope of value) if (scope !== '') scopes.add(scope)
    } else {
      throw invalid(
        'ERR_TOKEN_CLAIM_INVALID',
        `The "${name}" claim is neither a string nor an array of strings`,
        realm,
      )
    }
  }
  return scopes
}
