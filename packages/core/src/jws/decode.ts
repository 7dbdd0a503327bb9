import { Buffer } from 'node:buffer'
import { InvalidTokenError } from '../challenge/errors.js'

/** A compact JWS split and decoded once: everything later steps need, nothing verified yet. */
export interface DecodedJws {
  /**
   * When all its members are primitives, frozen and shared by every token with the same header
   * segment (see {@link decodeHeader}): never to be modified.
   */
  readonly header: Record<string, unknown>
  readonly payload: Record<string, unknown>
  /** The compact JWS itself. */
  readonly token: string
  /**
   * How many of the token's first characters are its signing input, `base64url(header) "."
   * base64url(payload)`: the bytes the signature covers (see {@link signingInput}).
   */
  readonly signingInputLength: number
  readonly signature: Buffer
}

/** What {@link signingInput} writes into: signing inputs up to this size need no allocation. */
const SIGNING_SCRATCH = Buffer.alloc(16 * 1024)
/** The last view {@link signingInput} returned: the next signing input of that length reuses it. */
let signingView = SIGNING_SCRATCH.subarray(0, 0)

/**
 * The bytes a JWS signature covers (RFC 7515 §5.2: `ASCII(BASE64URL(UTF8(JWS Protected Header))
 * || '.' || BASE64URL(JWS Payload))`), written into one buffer every call shares: the view returned
 * is valid until the next call, so it goes straight into a synchronous verification, which keeps
 * nothing of it. A request so allocates no copy of its token for verification. The characters are
 * base64url and `.` once decoded, so Latin-1 writes them as their ASCII bytes.
 */
export function signingInput(jws: DecodedJws): Buffer {
  const length = jws.signingInputLength
  if (length > SIGNING_SCRATCH.length) return Buffer.from(jws.token.slice(0, length), 'latin1')
  SIGNING_SCRATCH.write(jws.token, 0, length, 'latin1')
  // A client's tokens or proofs often have one length (same header, same claims' sizes).
  if (signingView.length !== length) signingView = SIGNING_SCRATCH.subarray(0, length)
  return signingView
}

/** Where a JSON segment is decoded on its way to text: only the text is allocated. */
const TEXT_SCRATCH = Buffer.alloc(16 * 1024)

const BASE64URL = /^[A-Za-z0-9_-]*$/
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/**
 * Strict UTF-8 (RFC 8259 §8.1, RFC 3629): invalid sequences throw instead of becoming U+FFFD, and
 * a byte order mark is kept, so that JSON.parse refuses it.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * True when every character of the token is ASCII and none is `+` or `/`. Then each segment is
 * checked by the length of what it decodes to, instead of a scan of its characters:
 * `Buffer.byteLength` counts a character above U+007F as two or more UTF-8 bytes.
 */
function plainAscii(token: string): boolean {
  return (
    Buffer.byteLength(token, 'utf8') === token.length &&
    token.indexOf('+') === -1 &&
    token.indexOf('/') === -1
  )
}

/**
 * Decodes one base64url segment strictly (RFC 7515 §2, RFC 4648 §5): only the base64url alphabet,
 * no padding, and the canonical spelling (RFC 4648 §3.5: pad bits zero). Buffer ignores the
 * unused low bits of the last character, so without that check 4 or 16 different strings would
 * decode to the same signature and a token would not be unique as a string (deny-lists and
 * replay checks key on it).
 *
 * `plain` (see {@link plainAscii}) spares the scan of the alphabet. Node's decoder reads `+` and
 * `/` as `-` and `_`, which `plain` excludes; it skips every other ASCII character outside the
 * alphabet and stops at `=`. Such a character therefore always costs the output a byte: `n` data
 * characters decode to ⌊3n/4⌋ bytes, and for a length `n` with n mod 4 ≠ 1, any fewer characters
 * make fewer bytes. So a segment of length `n` decodes to ⌊3n/4⌋ bytes only if every character
 * is in the alphabet. (A character above U+00FF must not reach the decoder at all: it reads only
 * the low byte, so `Ł`, U+0141, would decode as `A`. `plain` excludes those, and so does the scan.)
 */
function decodeSegment(segment: string, plain: boolean): Buffer | undefined {
  if (!wellFormed(segment, plain)) return undefined
  const bytes = Buffer.from(segment, 'base64url')
  return bytes.length === decodedLength(segment) ? bytes : undefined
}

/** Length 4n+1 (never valid base64: Buffer would drop the extra character), alphabet, pad bits. */
function wellFormed(segment: string, plain: boolean): boolean {
  const length = segment.length
  const tail = length % 4
  if (tail === 1 || (!plain && !BASE64URL.test(segment))) return false
  if (tail === 0) return true
  const last = ALPHABET.indexOf(segment.charAt(length - 1))
  return (last & (tail === 2 ? 0b1111 : 0b11)) === 0
}

/** The bytes a base64url segment of this length holds when all its characters are data. */
function decodedLength(segment: string): number {
  return Math.floor((segment.length * 3) / 4)
}

/**
 * A JSON segment (header or payload) decoded to text, as {@link decodeSegment} checks it, through
 * a scratch buffer rather than a new one, then read as strict UTF-8 (see {@link utf8}).
 */
function decodeText(segment: string, plain: boolean): string | undefined {
  const length = decodedLength(segment)
  if (length > TEXT_SCRATCH.length) {
    const bytes = decodeSegment(segment, plain)
    return bytes && utf8(bytes, bytes.length)
  }
  if (!wellFormed(segment, plain)) return undefined
  return TEXT_SCRATCH.write(segment, 0, 'base64url') === length
    ? utf8(TEXT_SCRATCH, length)
    : undefined
}

/**
 * Strict UTF-8 (RFC 8259 §8.1, RFC 3629): `undefined` for invalid sequences, never U+FFFD in their
 * place. Node's decoder replaces every invalid sequence with U+FFFD, so a text without one came
 * from valid UTF-8; only a text with one (invalid, or a U+FFFD really sent) is decoded again by the
 * strict decoder. A byte order mark is kept either way, so that JSON.parse refuses it.
 */
function utf8(bytes: Buffer, end: number): string | undefined {
  const text = bytes.toString('utf8', 0, end)
  if (!text.includes('\uFFFD')) return text
  try {
    return UTF8.decode(bytes.subarray(0, end))
  } catch {
    return undefined
  }
}

/**
 * The index of the quote that ends the JSON string opened at `open`: the next `"` preceded by an
 * even number of backslashes (each pair is one escaped backslash). Found with `indexOf`, which
 * skips the string's content far faster than a loop over its characters.
 */
function closingQuote(text: string, open: number): number {
  let at = text.indexOf('"', open + 1)
  while (at !== -1 && escaped(text, at)) at = text.indexOf('"', at + 1)
  // -1 (unterminated) cannot happen in a text JSON.parse accepted; it would end the scan.
  return at === -1 ? text.length : at
}

/** True when the character at `at` follows an odd number of backslashes. */
function escaped(text: string, at: number): boolean {
  let backslashes = 0
  while (text.charCodeAt(at - 1 - backslashes) === 0x5c /* \ */) backslashes++
  return backslashes % 2 === 1
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
      i = closingQuote(text, i)
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

function parseJsonObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const object = value as Record<string, unknown>
  return topLevelMembers(text) === Object.keys(object).length ? object : undefined
}

/**
 * Headers decoded lately, by their encoded segment. An issuer's tokens share a few headers (the
 * same `alg`, `kid` and `typ`), so most tokens skip decoding theirs. A header is a pure function of
 * its segment, so the slots are shared by every validator; only headers whose members are
 * primitives or objects of primitives (a DPoP proof's `jwk`) are kept, frozen all the way down, so
 * no caller can change what another gets. Slots are compared by
 * string equality (no hash of attacker-chosen strings) and replaced in turn: a stream of distinct
 * headers costs eight comparisons each, and the memory is eight headers, never a token.
 */
const HEADER_SLOTS = 8
const headerSegments: string[] = Array.from({ length: HEADER_SLOTS }, () => '')
const headerValues: Readonly<Record<string, unknown>>[] = Array.from({ length: HEADER_SLOTS }, () =>
  Object.freeze({}),
)
let nextHeaderSlot = 0

/** The remembered header of this segment, if any. */
function rememberedHeader(segment: string): Record<string, unknown> | undefined {
  for (let i = 0; i < HEADER_SLOTS; i++) {
    if (headerSegments[i] === segment) return headerValues[i]
  }
  return undefined
}

function decodeHeader(segment: string, plain: boolean): Record<string, unknown> | undefined {
  const header = parseJsonObject(decodeText(segment, plain))
  if (header !== undefined && plainMembers(header, true)) {
    // A copy: the segment is a slice of the token, and would keep the whole token alive.
    headerSegments[nextHeaderSlot] = Buffer.from(segment, 'latin1').toString('latin1')
    headerValues[nextHeaderSlot] = deepFreeze(header)
    nextHeaderSlot = (nextHeaderSlot + 1) % HEADER_SLOTS
  }
  return header
}

/**
 * Members that are primitives, or (one level down, `nested`) objects of primitives: a token's
 * header, or a DPoP proof's, whose `jwk` is an object of strings. A client signs every proof with
 * one key, so its proofs share one header, decoded once.
 */
function plainMembers(object: Record<string, unknown>, nested: boolean): boolean {
  for (const name in object) {
    const value = object[name]
    if (typeof value !== 'object' || value === null) continue
    if (!nested || Array.isArray(value)) return false
    if (!plainMembers(value as Record<string, unknown>, false)) return false
  }
  return true
}

function deepFreeze<T extends Record<string, unknown>>(object: T): Readonly<T> {
  for (const name in object) {
    const value = object[name]
    if (typeof value === 'object' && value !== null) Object.freeze(value)
  }
  return Object.freeze(object)
}

function malformed(description: string): InvalidTokenError {
  return new InvalidTokenError('ERR_TOKEN_MALFORMED', description)
}

/**
 * Splits and decodes a compact JWS (RFC 7515 §7.1). Rejects JWE (five parts), detached forms,
 * non-base64url or non-canonical segments, non-UTF-8, non-object JSON and duplicate members.
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

  const remembered = rememberedHeader(h)
  // A remembered header's segment was checked when it was first decoded: only the rest need be.
  const plain = plainAscii(remembered === undefined ? token : token.slice(first + 1))
  const header = remembered ?? decodeHeader(h, plain)
  if (header === undefined) {
    throw malformed('The access token header is not a JSON object with unique members')
  }
  const payload = parseJsonObject(decodeText(p, plain))
  if (payload === undefined) {
    throw malformed('The access token payload is not a JSON object with unique members')
  }
  const signature = decodeSegment(s, plain)
  if (signature === undefined) throw malformed('The access token signature is not base64url')

  return { header, payload, token, signingInputLength: second, signature }
}
