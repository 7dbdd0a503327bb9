import { isUtf8 } from 'node:buffer'
import { InvalidTokenError } from '../challenge/errors.js'

/** A compact JWS split and decoded once: everything later steps need, nothing verified yet. */
export interface DecodedJws {
  readonly header: Record<string, unknown>
  readonly payload: Record<string, unknown>
  /** `base64url(header) "." base64url(payload)`, the bytes the signature covers. */
  readonly signingInput: Buffer
  readonly signature: Buffer
}

const BASE64URL = /^[A-Za-z0-9_-]*$/
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/**
 * Decodes one base64url segment strictly: only the base64url alphabet, no padding, and the
 * canonical spelling. Buffer ignores the unused low bits of the last character, so without the
 * last check 4 or 16 different strings would decode to the same signature and a token would
 * not be unique as a string (deny-lists and replay checks key on it).
 */
function decodeSegment(segment: string): Buffer | undefined {
  const tail = segment.length % 4
  // A length of 4n+1 can never be valid base64; Buffer would silently drop the extra character.
  if (tail === 1 || !BASE64URL.test(segment)) return undefined
  if (tail !== 0) {
    const last = ALPHABET.indexOf(segment.charAt(segment.length - 1))
    if ((last & (tail === 2 ? 0b1111 : 0b11)) !== 0) return undefined
  }
  return Buffer.from(segment, 'base64url')
}

/**
 * Counts the members of the top-level object of a valid JSON text. Compared with the parsed
 * object's key count, it reveals duplicate member names, which JSON.parse silently collapses to
 * the last one while other parsers keep the first (RFC 7515 §5.2 permits refusing them; we do).
 */
function topLevelMembers(text: string): number {
  let depth = 0
  let count = 0
  let expectKey = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22 /* " */) {
      if (depth === 1 && expectKey) count++
      expectKey = false
      // Skip the string, honouring escapes.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i)
        if (d === 0x5c /* \ */) i++
        else if (d === 0x22) break
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++
      expectKey = depth === 1
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--
    } else if (c === 0x2c /* , */ && depth === 1) {
      expectKey = true
    }
  }
  return count
}

function parseJsonObject(bytes: Buffer): Record<string, unknown> | undefined {
  let text: string
  let value: unknown
  try {
    // Invalid UTF-8 is refused, not replaced by U+FFFD; a BOM is kept, so JSON.parse refuses it.
    if (!isUtf8(bytes)) return undefined
    text = bytes.toString('utf8')
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const object = value as Record<string, unknown>
  return topLevelMembers(text) === Object.keys(object).length ? object : undefined
}

function malformed(description: string): InvalidTokenError {
  return new InvalidTokenError('ERR_TOKEN_MALFORMED', description)
}

/**
 * Splits and decodes a compact JWS (RFC 7515 §7.1). Rejects JWE (five parts), detached forms, non-base64url segments, non-UTF-8, non-object JSON and duplicate members.
 */
export function decodeJws(token: string): DecodedJws {
  const first = token.indexOf('.')
  const second = first === -1 ? -1 : token.indexOf('.', first + 1)
  if (second === -1) throw malformed('The access token is not a JWT')
  if (token.indexOf('.', second + 1) !== -1) {
    throw malformed('Encrypted (JWE) or otherwise malformed tokens are not accepted')
  }
  const h = token.slice(0, first)
  const p = token.slice(first + 1, second)
  const s = token.slice(second + 1)
  // An empty signature is decoded (to nothing) rather than refused here: an unsecured JWS
  // (`alg: none`, RFC 7519 §6) must be refused for its algorithm, with the code that says so.
  if (h === '' || p === '') throw malformed('The access token is not a signed JWT')

  const headerBytes = decodeSegment(h)
  const header = headerBytes && parseJsonObject(headerBytes)
  if (header === undefined) {
    throw malformed('The access token header is not a JSON object with unique members')
  }
  const payloadBytes = decodeSegment(p)
  const payload = payloadBytes && parseJsonObject(payloadBytes)
  if (payload === undefined) {
    throw malformed('The access token payload is not a JSON object with unique members')
  }
  const signature = decodeSegment(s)
  if (signature === undefined) throw malformed('The access token signature is not base64url')

  return {
    header,
    payload,
    signingInput: Buffer.from(token.slice(0, second), 'latin1'),
    signature,
  }
}
