/**
 * One time window, used both by the claim checks and by the verified-token cache: a token is
 * valid while `from <= now < before` and `now <= until`. Computing it once per verification lets
 * a cache hit compare three numbers instead of re-reading claims.
 */
import { InvalidTokenError } from '../challenge/errors.js'

/** The time rules of a validator, in seconds. */
export interface TimeRules {
  /** Accepted clock skew for `exp`, `nbf` and `iat`. */
  readonly clockTolerance: number
  /** Maximum age from `iat`, when one is required. */
  readonly maxTokenAge: number | undefined
}

/** When a token is valid, in milliseconds since the epoch. */
export interface ValidityWindow {
  /** Valid from this instant on: `nbf` and `iat` (never in the future), less the tolerance. */
  readonly from: number
  /** Valid strictly before this instant: `exp` plus the tolerance. */
  readonly before: number
  /** Valid up to and including this instant: `iat` + `maxTokenAge` + tolerance, or Infinity. */
  readonly until: number
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

function invalid(code: 'ERR_TOKEN_CLAIM_INVALID', text: string): InvalidTokenError {
  return new InvalidTokenError(code, text)
}

/**
 * Type-checks the time claims (RFC 7519 §4.1.4–4.1.6: NumericDate) and returns the window they
 * make. `exp` is required (RFC 9068 §2.2); `iat` too when `maxTokenAge` is set.
 */
export function validityWindow(payload: Record<string, unknown>, rules: TimeRules): ValidityWindow {
  const { exp, nbf, iat } = payload
  if (!isNumericDate(exp))
    throw invalid('ERR_TOKEN_CLAIM_INVALID', "The 'exp' claim is missing or not a number")
  if (nbf !== undefined && !isNumericDate(nbf)) {
    throw invalid('ERR_TOKEN_CLAIM_INVALID', "The 'nbf' claim is not a number")
  }
  if (iat !== undefined && !isNumericDate(iat)) {
    throw invalid('ERR_TOKEN_CLAIM_INVALID', "The 'iat' claim is not a number")
  }
  const { clockTolerance: tolerance, maxTokenAge } = rules
  if (maxTokenAge !== undefined && iat === undefined) {
    throw invalid('ERR_TOKEN_CLAIM_INVALID', "The 'iat' claim is required")
  }
  const notBefore = nbf === undefined ? -Infinity : (nbf - tolerance) * 1000
  // RFC 7519 §4.1.6: when the token was issued. One from the future (beyond the tolerance) was
  // not issued by a server whose clock agrees with ours.
  const issued = iat === undefined ? -Infinity : (iat - tolerance) * 1000
  return {
    from: Math.max(notBefore, issued),
    before: (exp + tolerance) * 1000,
    until:
      maxTokenAge === undefined || iat === undefined
        ? Infinity
        : (iat + maxTokenAge + tolerance) * 1000,
  }
}

/** True while `now` (ms) is inside the window. */
export function within(window: ValidityWindow, now: number): boolean {
  return now >= window.from && now < window.before && now <= window.until
}

/** Throws the error that says which bound of the window `now` is outside of. */
export function checkWithin(window: ValidityWindow, now: number): void {
  if (now >= window.before) {
    throw new InvalidTokenError('ERR_TOKEN_EXPIRED', 'The access token expired')
  }
  if (now < window.from) {
    throw new InvalidTokenError(
      'ERR_TOKEN_NOT_YET_VALID',
      "The access token is not valid yet ('nbf' or 'iat' is in the future)",
    )
  }
  if (now > window.until) {
    throw new InvalidTokenError('ERR_TOKEN_TOO_OLD', 'The access token is older than allowed')
  }
}
