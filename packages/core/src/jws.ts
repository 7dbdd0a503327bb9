import { InvalidTokenError } from './errors.js'

/** A compact JWS split and decoded once: everything later steps need, nothing verified yet. */
export interface DecodedJws {
  readonly header: Record<string, unknown>
  readonly payload: Record<string, unknown>
  /** `base64url(header) "." base64url(payload)`, the bytes the signature covers. */
  readonly signingInput: Buffer
  readonly signature: Buffer
}

const BASE64URL = /^[A-Za-z0-9_-]*$/

function decodeSegment(segment: string): Buffer | undefined {
  // A length of 4n+1 can never be valid base64; Buffer would silently drop the extra character.
  if (!BASE64URL.test(segment) || segment.length % 4 === 1) return undefined
  return Buffer.from(segment, 'base64url')
}

function parseJsonObject(bytes: Buffer): Record<string, unknown> | undefined {
  let value: unknown
  try {
    // TextDecoder with fatal: true refuses invalid UTF-8 instead of substituting U+FFFD.
    value = JSON.parse(utf8.decode(bytes))
  } catch {
    return undefined
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function malformed(description: string, realm: string): InvalidTokenError {
  return new InvalidTokenError('ERR_TOKEN_MALFORMED', description, { realm })
}

/**
 * Splits and decodes a compact JWS (RFC 7515 §7.1). Rejects JWE (five parts), unsecured and
 * detached forms, non-base64url segments, non-UTF-8 and non-object JSON.
 */
export function decodeJws(token: string, realm: string): DecodedJws {
  const first = token.indexOf('.')
  const second = first === -1 ? -1 : token.indexOf('.', first + 1)
  if (second === -1) throw malformed('The access token is not a JWT', realm)
  if (token.indexOf('.', second + 1) !== -1) {
    throw malformed('Encrypted (JWE) or otherwise malformed tokens are not accepted', realm)
  }
  const h = token.slice(0, first)
  const p = token.slice(first + 1, second)
  const s = token.slice(second + 1)
  if (h === '' || p === '' || s === '')
    throw malformed('The access token is not a signed JWT', realm)

  const headerBytes = decodeSegment(h)
  const header = headerBytes && parseJsonObject(headerBytes)
  if (header === undefined) throw malformed('The access token header is not valid JSON', realm)
  const payloadBytes = decodeSegment(p)
  const payload = payloadBytes && parseJsonObject(payloadBytes)
  if (payload === undefined) throw malformed('The access token payload is not a JSON object', realm)
  const signature = decodeSegment(s)
  if (signature === undefined) throw malformed('The access token signature is not base64url', realm)

  return {
    header,
    payload,
    signingInput: Buffer.from(token.slice(0, second), 'latin1'),
    signature,
  }
}
