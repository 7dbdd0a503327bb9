import { InvalidRequestError, MissingCredentialsError } from './errors.js'
import type { BearerRequest } from './validator.js'

/** RFC 6750 §2.1 `b64token` (RFC 7235 `token68`). */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/

export interface ExtractSettings {
  readonly allowQuery: boolean
  readonly allowFormBody: boolean
  readonly realm: string
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

function fromHeader(value: BearerRequest['authorization'], realm: string): string | undefined {
  if (value === undefined) return undefined
  let header: string | undefined
  if (typeof value === 'string') header = value
  else if (value.length > 1) {
    throw new InvalidRequestError('More than one Authorization header was sent', { realm })
  } else header = value[0]
  if (header === undefined || header === '') return undefined
  const space = header.indexOf(' ')
  const scheme = space === -1 ? header : header.slice(0, space)
  if (scheme.length !== 6 || scheme.toLowerCase() !== 'bearer') return undefined // another scheme
  const token = space === -1 ? '' : trimWhitespace(header, space + 1)
  if (token === '')
    throw new InvalidRequestError('The Bearer scheme was sent without a token', { realm })
  return token // token68 syntax: checked by the validator, after its cache (see checkSyntax)
}

/**
 * Refuses a bearer token that is not `token68` (RFC 6750 §2.1) with 400 `invalid_request`. Not
 * part of {@link extractToken}: the validator runs it only when the token is not in its cache of
 * verified tokens (all of which are base64url JWS, so token68), sparing the hot path the scan.
 */
export function checkSyntax(token: string, realm: string): void {
  if (!TOKEN68.test(token)) {
    throw new InvalidRequestError('The bearer token is not in token68 syntax', { realm })
  }
}

function accessTokenParam(container: unknown, where: string, realm: string): string | undefined {
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
    throw new InvalidRequestError(`The access_token ${where} parameter is malformed`, { realm })
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
 * Finds the bearer token of a request (RFC 6750 §2): the `Authorization` header, and the form
 * body or URL query only where enabled. A token in the query is noticed even when the query
 * method is disabled, so that sending it twice is refused rather than half-ignored.
 *
 * A header token is returned without its `token68` check: the caller runs {@link checkSyntax}
 * unless the token is one it has verified before.
 */
export function extractToken(request: BearerRequest, settings: ExtractSettings): string {
  const { realm } = settings
  const header = fromHeader(request.authorization, realm)
  // With the query method disabled, an `access_token` parameter is not read, only noticed.
  const query = settings.allowQuery
    ? accessTokenParam(request.query, 'query', realm)
    : hasParam(request.query)
  const body =
    settings.allowFormBody &&
    request.method !== 'GET' &&
    request.method !== 'HEAD' &&
    isForm(request.contentType)
      ? accessTokenParam(request.body, 'form', realm)
      : undefined
  const found =
    (header === undefined ? 0 : 1) + (query === undefined ? 0 : 1) + (body === undefined ? 0 : 1)
  if (found > 1) {
    throw new InvalidRequestError('The access token was sent in more than one way', { realm })
  }
  if (header !== undefined) return header
  if (body !== undefined) return body
  if (typeof query === 'string') return query
  throw new MissingCredentialsError({ realm })
}
