import { InvalidTokenError } from '../challenge/errors.js'
import { algorithmSpec, type AlgorithmSpec } from './algorithms.js'
import type { DecodedJws } from './decode.js'

/** `typ` values of access tokens (RFC 9068 §2.1), compared case-insensitively. */
const ACCESS_TOKEN_TYPES = new Set(['at+jwt', 'application/at+jwt', 'jwt', 'application/jwt'])
const STRICT_TYPES = new Set(['at+jwt', 'application/at+jwt'])

function invalid(
  code:
    | 'ERR_TOKEN_ALG_NOT_ALLOWED'
    | 'ERR_TOKEN_MALFORMED'
    | 'ERR_TOKEN_CRIT_UNSUPPORTED'
    | 'ERR_TOKEN_TYPE_INVALID',
  text: string,
): InvalidTokenError {
  return new InvalidTokenError(code, text)
}

/**
 * The algorithm of a decoded JWS, if `alg` is in `allowed` (RFC 8725 §3.1: an allow-list, never
 * the token's word). `none` is never in any allow-list.
 */
export function allowedAlgorithm(jws: DecodedJws, allowed: ReadonlySet<string>): AlgorithmSpec {
  const { alg } = jws.header
  const spec = typeof alg === 'string' && allowed.has(alg) ? algorithmSpec(alg) : undefined
  if (spec === undefined) {
    throw invalid(
      'ERR_TOKEN_ALG_NOT_ALLOWED',
      'The access token is signed with an algorithm that is not accepted',
    )
  }
  return spec
}

/**
 * The protected header rules of an access token, after its algorithm was allowed: a signature is
 * present (RFC 7519 §6 unsecured JWTs are refused), no `crit` (RFC 7515 §4.1.11: we understand no
 * extension), no unencoded payload (RFC 7797), a string `kid`, and an access-token `typ` (RFC 9068
 * §2.1; `at+jwt` only when `strict`). Returns the `kid`.
 */
export function checkHeader(jws: DecodedJws, strict: boolean): string | undefined {
  const { kid, typ, crit, b64 } = jws.header
  if (jws.signature.length === 0) {
    throw invalid('ERR_TOKEN_MALFORMED', 'The access token is not a signed JWT')
  }
  if (crit !== undefined) {
    throw invalid(
      'ERR_TOKEN_CRIT_UNSUPPORTED',
      'The access token has critical header parameters that are not supported',
    )
  }
  if (b64 !== undefined && b64 !== true) {
    throw invalid('ERR_TOKEN_MALFORMED', 'Unencoded-payload tokens are not accepted')
  }
  if (kid !== undefined && typeof kid !== 'string') {
    throw invalid('ERR_TOKEN_MALFORMED', "The 'kid' header parameter is not a string")
  }
  if (typ !== undefined) {
    const allowed = strict ? STRICT_TYPES : ACCESS_TOKEN_TYPES
    // The sets hold lower-case values: most tokens match as they are, without a lower-cased copy.
    if (typeof typ !== 'string' || !(allowed.has(typ) || allowed.has(typ.toLowerCase()))) {
      throw invalid('ERR_TOKEN_TYPE_INVALID', 'The token is not an access token (typ)')
    }
  } else if (strict) {
    throw invalid(
      'ERR_TOKEN_TYPE_INVALID',
      'The token is not an RFC 9068 access token (typ at+jwt required)',
    )
  }
  return kid
}
