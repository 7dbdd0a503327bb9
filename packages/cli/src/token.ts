/**
 * The token as explain reads it: a fingerprint that identifies it without repeating it, and its
 * compact JWS parts decoded the way core decodes them (RFC 7515 §7.1), so the format step can say
 * what is wrong. The verdict never comes from here: core decides, this only explains.
 */
import { isUtf8 } from 'node:buffer'
import { createHash } from 'node:crypto'
import type { BearerGuardErrorCode } from '@bearer-guard/core'

/** What identifies a token in explain's output: never the token itself. */
export interface TokenFingerprint {
  /** Its length, in characters. */
  readonly length: number
  /** The first 16 hex digits of its SHA-256, to tell two tokens apart without showing either. */
  readonly sha256: string
}

export function fingerprint(token: string): TokenFingerprint {
  return {
    length: token.length,
    sha256: createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 16),
  }
}

/** RFC 6750 §2.1 `b64token` (RFC 7235 `token68`), as core checks it. */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/
const BASE64URL = /^[A-Za-z0-9_-]*$/
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** Where a token stops being `token68`, in words that name the character's kind, not the token. */
export function token68Problem(token: string): string | undefined {
  if (TOKEN68.test(token)) return undefined
  for (let i = 0; i < token.length; i++) {
    const c = token.charAt(i)
    if (/[A-Za-z0-9\-._~+/]/.test(c)) continue
    if (c === '=' && /^=*$/.test(token.slice(i))) break
    return `${kind(c)} at position ${i + 1}`
  }
  return 'a character a Bearer header cannot carry'
}

function kind(c: string): string {
  if (c === ' ') return 'a space'
  if (c === '\n' || c === '\r') return 'a line break (was the token wrapped when copied?)'
  if (c === '\t') return 'a tab'
  if (c === '"' || c === "'") return 'a quote (was the token copied with its quotes?)'
  if (c === '=') return "an '=' before the end"
  const code = c.charCodeAt(0)
  if (code < 0x20 || code === 0x7f) return 'a control character'
  if (code > 0x7e) return 'a non-ASCII character'
  return `the character '${c}'`
}

/** A compact JWS decoded as core decodes it, or the reason it cannot be. */
export type DecodedToken =
  | {
      readonly ok: true
      readonly header: Record<string, unknown>
      readonly payload: Record<string, unknown>
      readonly signature: Buffer
    }
  | { readonly ok: false; readonly code: BearerGuardErrorCode; readonly reason: string }

function decodeSegment(segment: string): Buffer | undefined {
  const tail = segment.length % 4
  if (tail === 1 || !BASE64URL.test(segment)) return undefined
  if (tail !== 0) {
    // Canonical spelling only: unused low bits of the last character must be zero.
    const last = ALPHABET.indexOf(segment.charAt(segment.length - 1))
    if ((last & (tail === 2 ? 0b1111 : 0b11)) !== 0) return undefined
  }
  return Buffer.from(segment, 'base64url')
}

/** Members of the top-level object of a valid JSON text, duplicates counted (RFC 7515 §5.2). */
function topLevelMembers(text: string): number {
  let depth = 0
  let count = 0
  let expectKey = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      if (depth === 1 && expectKey) count++
      expectKey = false
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i)
        if (d === 0x5c) i++
        else if (d === 0x22) break
      }
    } else if (c === 0x7b || c === 0x5b) {
      depth++
      expectKey = depth === 1
    } else if (c === 0x7d || c === 0x5d) {
      depth--
    } else if (c === 0x2c && depth === 1) {
      expectKey = true
    }
  }
  return count
}

type JsonObject = Record<string, unknown>

function parseObject(bytes: Buffer, strict: boolean): JsonObject | string {
  if (!isUtf8(bytes)) return 'is not UTF-8'
  const text = bytes.toString('utf8')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return 'is not JSON'
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'is JSON but not an object'
  }
  const object = value as JsonObject
  if (strict && topLevelMembers(text) !== Object.keys(object).length) {
    return 'has a member name twice (RFC 7515 §5.2)'
  }
  return object
}

/** Splits and decodes a compact JWS with core's rules; says what is wrong otherwise. */
export function decodeToken(token: string): DecodedToken {
  const fail = (reason: string): DecodedToken => ({
    ok: false,
    code: 'ERR_TOKEN_MALFORMED',
    reason,
  })
  const parts = token.split('.')
  if (parts.length < 3) {
    return fail(
      parts.length === 1
        ? 'not a JWT: no "." separates a header, a payload and a signature (an opaque token? ask the authorization server for a JWT access token for this API)'
        : 'not a JWT: 2 parts where a compact JWS has 3',
    )
  }
  if (parts.length > 3) {
    return fail(
      parts.length === 5
        ? 'an encrypted token (JWE, 5 parts): only signed JWTs (JWS, 3 parts) are accepted'
        : `${parts.length} parts where a compact JWS has 3`,
    )
  }
  const [h = '', p = '', s = ''] = parts
  if (h === '' || p === '') return fail('not a signed JWT: the header or the payload is empty')
  const headerBytes = decodeSegment(h)
  if (headerBytes === undefined) return fail('the header is not canonical base64url')
  const header = parseObject(headerBytes, true)
  if (typeof header === 'string') return fail(`the header ${header}`)
  const payloadBytes = decodeSegment(p)
  if (payloadBytes === undefined) return fail('the payload is not canonical base64url')
  const payload = parseObject(payloadBytes, true)
  if (typeof payload === 'string') return fail(`the payload ${payload}`)
  const signature = decodeSegment(s)
  if (signature === undefined) return fail('the signature is not canonical base64url')
  return { ok: true, header, payload, signature }
}

/**
 * The header and payload for display, decoded leniently (no canonical-base64url or duplicate
 * checks) so that a token core refuses as malformed can still be shown.
 */
export function decodeForDisplay(token: string): {
  readonly header: JsonObject | undefined
  readonly payload: JsonObject | undefined
} {
  const [h, p] = token.split('.')
  const read = (segment: string | undefined): JsonObject | undefined => {
    if (segment === undefined || segment === '' || !BASE64URL.test(segment)) return undefined
    const value = parseObject(Buffer.from(segment, 'base64url'), false)
    return typeof value === 'string' ? undefined : value
  }
  return { header: read(h), payload: read(p) }
}
