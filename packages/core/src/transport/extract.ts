import { Buffer } from 'node:buffer'
import { InvalidRequestError, MissingCredentialsError } from '../challenge/errors.js'
import type { BearerRequest } from '../request.js'

/** RFC 6750 §2.1 `b64token` (RFC 7235 `token68`). */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/

/** Where tokens may be found, beyond the `Authorization` header. */
export interface ExtractSettings {
  readonly allowQuery: boolean
  readonly allowFormBody: boolean
  /** A cookie name, when tokens may come in a cookie. */
  readonly cookie: string | undefined
  /** A lower-case header name, when tokens may come bare in a custom header. */
  readonly header: string | undefined
  /** Whether the RFC 9449 `DPoP` scheme is accepted beside `Bearer`. */
  readonly dpop: boolean
}

/**
 * The scheme of an `Authorization` header that {@link extractToken} accepted: `DPoP` or `Bearer`.
 * Read only where DPoP is enabled.
 */
export function schemeOf(value: HeaderValue): 'Bearer' | 'DPoP' {
  const header = typeof value === 'string' ? value : value?.[0]
  return header !== undefined &&
    header.length > 4 &&
    header.charCodeAt(4) === 0x20 &&
    startsWithScheme(header, 'dpop')
    ? 'DPoP'
    : 'Bearer'
}

/**
 * True when `header` begins with `scheme` (lower-case ASCII letters) in any case: RFC 9110 §11.1,
 * "a case-insensitive token to identify the authentication scheme". No string is made: `| 0x20`
 * lower-cases an ASCII letter, and only the two cases of a letter become that letter by it.
 */
function startsWithScheme(header: string, scheme: string): boolean {
  for (let i = 0; i < scheme.length; i++) {
    if ((header.charCodeAt(i) | 0x20) !== scheme.charCodeAt(i)) return false
  }
  return true
}

/** Strips SP and HTAB only (RFC 9110 OWS); `String#trim` would also eat U+00A0 and others. */
function trimWhitespace(value: string, from: number): string {
  let start = from
  let end = value.length
  while (start < end && isOws(value.charCodeAt(start))) start++
  while (end > start && isOws(value.charCodeAt(end - 1))) end--
  return value.slice(start, end)
}

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09
}

type HeaderValue = string | readonly string[] | undefined

function fromHeader(value: HeaderValue, dpop: boolean): string | undefined {
  if (value === undefined) return undefined
  let header: string | undefined
  if (typeof value === 'string') header = value
  else if (value.length > 1) {
    throw new InvalidRequestError('More than one Authorization header was sent')
  } else header = value[0]
  if (header === undefined || header === '') return undefined
  const space = header.indexOf(' ')
  const schemeLength = space === -1 ? header.length : space
  // RFC 6750 §2.1 `Bearer`; RFC 9449 §7.1 `DPoP`, only where DPoP is enabled (else unknown).
  const bearer = schemeLength === 6 && startsWithScheme(header, 'bearer')
  if (!bearer && !(dpop && schemeLength === 4 && startsWithScheme(header, 'dpop'))) return undefined
  const token = space === -1 ? '' : trimWhitespace(header, space + 1)
  if (token === '') {
    throw new InvalidRequestError(
      `The ${bearer ? 'Bearer' : 'DPoP'} scheme was sent without a token`,
    )
  }
  return token // token68 syntax: checked by the validator, after its cache (see checkSyntax)
}

/**
 * Refuses a bearer token that is not `token68` (RFC 6750 §2.1) with 400 `invalid_request`. Not
 * part of {@link extractToken}: the validator runs it only when the token is not in its cache of
 * verified tokens (all of which are base64url JWS, so token68), sparing the hot path the scan.
 */
export function checkSyntax(token: string): void {
  if (!TOKEN68.test(token)) {
    throw new InvalidRequestError('The bearer token is not in token68 syntax')
  }
}

function accessTokenParam(container: unknown, where: string): string | undefined {
  if (typeof container !== 'object' || container === null) return undefined
  let value: unknown
  if (container instanceof URLSearchParams) {
    const all = container.getAll('access_token')
    value = all.length > 1 ? all : all[0]
  } else {
    value = (container as Record<string, unknown>).access_token
  }
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value === '' || !TOKEN68.test(value)) {
    throw new InvalidRequestError(`The access_token ${where} parameter is malformed`)
  }
  return value
}

function hasParam(container: unknown): true | undefined {
  if (typeof container !== 'object' || container === null) return undefined
  const present =
    container instanceof URLSearchParams
      ? container.has('access_token')
      : (container as Record<string, unknown>).access_token !== undefined
  return present ? true : undefined
}

function isForm(contentType: string | undefined): boolean {
  if (contentType === undefined) return false
  const semi = contentType.indexOf(';')
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
  return type === 'application/x-www-form-urlencoded'
}

/**
 * The named cookie's value (RFC 6265 §4.2.1: `cookie-pair *( ";" SP cookie-pair )`, a value
 * optionally in DQUOTEs). Two cookies of that name are two tokens: refused.
 */
function fromCookie(value: HeaderValue, name: string): string | undefined {
  if (value === undefined) return undefined
  const text = typeof value === 'string' ? value : value.join('; ')
  let found: string | undefined
  for (const pair of text.split(';')) {
    const eq = pair.indexOf('=')
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue
    if (found !== undefined) {
      throw new InvalidRequestError('The access token cookie was sent more than once')
    }
    let cookie = pair.slice(eq + 1).trim()
    if (cookie.length >= 2 && cookie.startsWith('"') && cookie.endsWith('"'))
      cookie = cookie.slice(1, -1)
    found = cookie
  }
  if (found === undefined) return undefined
  if (found === '' || !TOKEN68.test(found)) {
    throw new InvalidRequestError('The access token cookie is malformed')
  }
  // A copy, not a slice: V8 keeps a substring as a view of its parent, and the verified-token
  // cache keeps the token, so a slice would keep the whole Cookie header (other cookies, often
  // kilobytes) alive as long as the cache entry. Token68 is ASCII: a latin1 round trip copies it.
  return Buffer.from(found, 'latin1').toString('latin1')
}

/** A token sent bare in a custom header (no scheme). */
function fromCustomHeader(value: HeaderValue): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') {
    if (value.length > 1)
      throw new InvalidRequestError('The access token header was sent more than once')
    return fromCustomHeader(value[0])
  }
  const token = trimWhitespace(value, 0)
  if (token === '' || !TOKEN68.test(token)) {
    throw new InvalidRequestError('The access token header is malformed')
  }
  return token
}

/**
 * Finds the bearer token of a request (RFC 6750 §2): the `Authorization` header, and the form
 * body, URL query, a cookie or a custom header only where enabled. A token in the query is noticed
 * even when the query method is disabled, so that sending it twice is refused rather than
 * half-ignored. RFC 6750 §2: "Clients MUST NOT use more than one method to transmit the token in
 * each request": two are `invalid_request`.
 *
 * A header token is returned without its `token68` check: the caller runs {@link checkSyntax}
 * unless the token is one it has verified before.
 */
export function extractToken(request: BearerRequest, settings: ExtractSettings): string {
  const { headers } = request
  const header = fromHeader(headers.authorization, settings.dpop)
  // The common case first: a header token, and no other method enabled or used.
  if (
    header !== undefined &&
    settings.cookie === undefined &&
    settings.header === undefined &&
    !settings.allowFormBody &&
    hasParam(request.query) === undefined
  ) {
    return header
  }
  // With the query method disabled, an `access_token` parameter is not read, only noticed.
  const query = settings.allowQuery
    ? accessTokenParam(request.query, 'query')
    : hasParam(request.query)
  const body =
    settings.allowFormBody &&
    request.method !== 'GET' &&
    request.method !== 'HEAD' &&
    isForm(single(headers['content-type']))
      ? accessTokenParam(request.body, 'form')
      : undefined
  const cookie =
    settings.cookie === undefined ? undefined : fromCookie(headers.cookie, settings.cookie)
  const custom =
    settings.header === undefined ? undefined : fromCustomHeader(headers[settings.header])
  const found =
    (header === undefined ? 0 : 1) +
    (query === undefined ? 0 : 1) +
    (body === undefined ? 0 : 1) +
    (cookie === undefined ? 0 : 1) +
    (custom === undefined ? 0 : 1)
  if (found > 1) {
    throw new InvalidRequestError('The access token was sent in more than one way')
  }
  const token =
    header ?? body ?? custom ?? cookie ?? (typeof query === 'string' ? query : undefined)
  if (token !== undefined) return token
  throw new MissingCredentialsError()
}

function single(value: HeaderValue): string | undefined {
  return typeof value === 'string' ? value : value?.[0]
}
