/**
 * The claim steps after the signature: time, issuer, audience, token type and the other claims.
 * Each mirrors the core stage named in its comment.
 */
import { issuerHints } from './steps-jws.js'
import { TENANT_PLACEHOLDER, tenantOf, type IssuerRules } from './rules.js'
import { fail, own, pass, type Context, type Found } from './steps.js'
import { duration, instant, relative, shown } from './words.js'

type Payload = Readonly<Record<string, unknown>>

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

/** core: claims/time.ts (`validityWindow`, `checkWithin`). */
export function timeStep(c: Context, issuer: IssuerRules, payload: Payload): Found {
  const { exp, nbf, iat } = payload
  const tolerance = c.rules.clockTolerance
  const at = c.at
  const invalid = (text: string) => fail('time', 'ERR_TOKEN_CLAIM_INVALID', text)
  if (!isNumericDate(exp)) {
    return invalid(
      exp === undefined
        ? 'the token has no exp: an expiry is required (RFC 9068 §2.2)'
        : 'exp is not a number of seconds (RFC 7519 §4.1.4 NumericDate)',
    )
  }
  if (nbf !== undefined && !isNumericDate(nbf)) return invalid('nbf is not a number of seconds')
  if (iat !== undefined && !isNumericDate(iat)) return invalid('iat is not a number of seconds')
  const { maxTokenAge } = issuer
  if (maxTokenAge !== undefined && iat === undefined) {
    return invalid(`the token has no iat, which maxTokenAge (${maxTokenAge} s) needs`)
  }
  const details = [
    `exp ${instant(exp)} (${relative(exp * 1000, at)})`,
    ...(nbf === undefined ? [] : [`nbf ${instant(nbf)} (${relative(nbf * 1000, at)})`]),
    ...(iat === undefined ? [] : [`iat ${instant(iat)} (${relative(iat * 1000, at)})`]),
  ]
  const before = (exp + tolerance) * 1000
  const notBefore = nbf === undefined ? -Infinity : (nbf - tolerance) * 1000
  const issued = iat === undefined ? -Infinity : (iat - tolerance) * 1000
  const until =
    maxTokenAge === undefined || iat === undefined
      ? Infinity
      : (iat + maxTokenAge + tolerance) * 1000
  if (at >= before) {
    return fail(
      'time',
      'ERR_TOKEN_EXPIRED',
      `expired ${duration(at - exp * 1000)} ago; with the ${tolerance} s clock tolerance, refused since ${duration(at - before)} ago`,
      details,
    )
  }
  if (at < Math.max(notBefore, issued)) {
    const which =
      notBefore >= issued ? `nbf ${instant(nbf as number)}` : `iat ${instant(iat as number)}`
    return fail(
      'time',
      'ERR_TOKEN_NOT_YET_VALID',
      `not valid yet: ${which} is ${duration(Math.max(notBefore, issued) + tolerance * 1000 - at)} ahead, beyond the ${tolerance} s clock tolerance (is a clock wrong?)`,
      details,
    )
  }
  if (at > until) {
    return fail(
      'time',
      'ERR_TOKEN_TOO_OLD',
      `issued ${duration(at - (iat as number) * 1000)} ago, older than maxTokenAge (${maxTokenAge ?? 0} s, plus ${tolerance} s tolerance)`,
      details,
    )
  }
  return pass('time', `valid now: expires ${relative(exp * 1000, at)}`, details)
}

/** core: claims/rules.ts (`checkClaims`), claims/issuer.ts (`issuerMatches`). */
export function issuerStep(issuer: IssuerRules, payload: Payload): Found {
  const { iss } = payload
  if (typeof iss !== 'string') {
    return fail(
      'issuer',
      'ERR_TOKEN_ISSUER_INVALID',
      `iss is ${iss === undefined ? 'missing' : 'not a string'}; the configured issuer is ${issuer.issuer}`,
    )
  }
  if (issuer.issuer.includes(TENANT_PLACEHOLDER)) {
    const tenant = tenantOf(issuer, iss)
    if (tenant === undefined) {
      return fail(
        'issuer',
        'ERR_TOKEN_ISSUER_INVALID',
        `iss ${shown(iss)} does not fit ${issuer.issuer} with an accepted tenant`,
      )
    }
    if (own(payload, 'tid') !== tenant) {
      return fail(
        'issuer',
        'ERR_TOKEN_ISSUER_INVALID',
        `the tenant in iss (${shown(tenant)}) differs from the tid claim (${shown(own(payload, 'tid'))})`,
      )
    }
    return pass(
      'issuer',
      `iss ${shown(iss)} is tenant ${shown(tenant)} of ${issuer.issuer}, as tid says`,
    )
  }
  if (iss !== issuer.issuer) {
    return fail(
      'issuer',
      'ERR_TOKEN_ISSUER_INVALID',
      `iss ${shown(iss)} is not the configured issuer '${issuer.issuer}'`,
      issuerHints(iss, [issuer.issuer]),
    )
  }
  return pass('issuer', `iss ${shown(iss)} equals the configured issuer exactly (RFC 9068 §4)`)
}

/** core: claims/rules.ts (`audienceMatches`). */
export function audienceStep(issuer: IssuerRules, payload: Payload): Found {
  const { claim, values } = issuer.audience
  const value = own(payload, claim)
  const expected = values.map((v) => `'${v}'`).join(' or ')
  let match: string | undefined
  if (typeof value === 'string') match = values.includes(value) ? value : undefined
  else if (claim === 'aud' && Array.isArray(value) && value.length > 0) {
    if (value.every((item) => typeof item === 'string')) {
      match = value.find((item) => values.includes(item))
    } else {
      return fail(
        'audience',
        'ERR_TOKEN_AUDIENCE_INVALID',
        'aud is an array holding something other than strings (RFC 7519 §4.1.3)',
      )
    }
  }
  if (match !== undefined) {
    return pass(
      'audience',
      `${claim} ${shown(value)} contains this API's ${expected.includes(' or ') ? 'audience' : expected}`,
    )
  }
  const details: string[] = []
  if (value === undefined && claim === 'aud') {
    details.push(
      'a token without aud is for no API in particular: ask the authorization server for a token for this API (e.g. the audience or resource parameter, RFC 8707)',
    )
  }
  return fail(
    'audience',
    'ERR_TOKEN_AUDIENCE_INVALID',
    value === undefined
      ? `the token has no ${claim}; this API is ${expected}`
      : `${claim} ${shown(value)} does not contain this API's ${expected} (RFC 9068 §4, RFC 7519 §4.1.3)`,
    details,
  )
}

const ID_TOKEN_ONLY_CLAIMS = ['at_hash', 'c_hash', 's_hash'] as const

/** core: claims/rules.ts (`refuseIdToken`), RFC 9068 §4. */
export function tokenTypeStep(issuer: IssuerRules, payload: Payload): Found {
  if (issuer.allowIdTokenClaims) {
    return pass('token-type', 'ID-token claims are allowed for this issuer (allowIdTokenClaims)')
  }
  const has = (name: string) => Object.hasOwn(payload, name)
  let marker: string | undefined
  for (const name of ID_TOKEN_ONLY_CLAIMS) if (has(name)) marker = name
  if (marker === undefined && !issuer.allowNonce && has('nonce')) marker = 'nonce'
  if (marker === undefined && own(payload, 'typ') === 'ID') marker = 'typ'
  if (
    marker === undefined &&
    has('auth_time') &&
    has('azp') &&
    !has('scope') &&
    !has('scp') &&
    !has('client_id')
  ) {
    marker = 'auth_time'
  }
  if (marker !== undefined) {
    const sign =
      marker === 'typ'
        ? "its typ claim is 'ID' (Keycloak)"
        : marker === 'auth_time'
          ? 'it has auth_time and azp but no scope, scp or client_id'
          : `it has ${marker}`
    return fail(
      'token-type',
      'ERR_TOKEN_TYPE_INVALID',
      `an OpenID Connect ID token, not an access token: ${sign} (RFC 9068 §4: never accepted as an access token)`,
      ['the client sent the ID token of its login; it must send the access token'],
    )
  }
  return pass(
    'token-type',
    `an access token: no ID-token claims (at_hash, c_hash, s_hash${issuer.allowNonce ? '' : ', nonce'})`,
  )
}

const STRING_CLAIMS = ['sub', 'client_id', 'jti'] as const
const STRICT_CLAIMS = ['sub', 'client_id', 'iat', 'jti'] as const

/** core: claims/rules.ts (`checkClaims`, after the audience and the ID-token check). */
export function claimsStep(issuer: IssuerRules, payload: Payload): Found {
  const invalid = (text: string) => fail('claims', 'ERR_TOKEN_CLAIM_INVALID', text)
  for (const name of STRING_CLAIMS) {
    const value = own(payload, name)
    if (value !== undefined && typeof value !== 'string') return invalid(`${name} is not a string`)
  }
  if (issuer.strict) {
    for (const name of STRICT_CLAIMS) {
      if (own(payload, name) === undefined) {
        return invalid(`the token has no ${name}, which strict mode requires (RFC 9068 §2.2)`)
      }
    }
  }
  for (const name of issuer.requiredClaims) {
    const value = own(payload, name)
    if (value === undefined || value === null) {
      return invalid(`the token has no ${name}, a required claim (requiredClaims)`)
    }
  }
  for (const [name, accepted] of issuer.requiredClaimValues) {
    const value = own(payload, name)
    if (!accepted.includes(value as string)) {
      return invalid(
        `${name} is ${shown(value)}, not ${accepted.map((v) => shown(v)).join(' or ')} (requiredClaimValues)`,
      )
    }
  }
  const checked = [
    'sub, client_id and jti are strings where present',
    ...(issuer.strict ? ['strict mode: sub, client_id, iat and jti present'] : []),
    ...(issuer.requiredClaims.length > 0
      ? [`required: ${issuer.requiredClaims.join(', ')} present`]
      : []),
    ...issuer.requiredClaimValues.map(([name]) => `${name} is ${shown(own(payload, name))}`),
  ]
  return pass('claims', checked.join('; '))
}
