/** The parts of a compact JWS built by {@link encodeToken}. */
export interface TokenParts {
  /**
   * The JOSE header. An object (or any other value) is `JSON.stringify`-ed; a string is used
   * verbatim as the JSON text (e.g. to repeat a member: `'{"alg":"RS256","alg":"none"}'`).
   */
  readonly header: unknown
  /** The payload, encoded like `header`: a string is the verbatim text, anything else is JSON. */
  readonly payload: unknown
  /** The third segment, used as is (already base64url). Default `''` (an unsigned token). */
  readonly signature?: string
}

/** base64url (no padding) of a string's UTF-8 bytes. */
export function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url')
}

function segment(value: unknown): string {
  if (typeof value === 'string') return base64url(value)
  const json = JSON.stringify(value) as string | undefined
  // JSON.stringify(undefined) is undefined: encode nothing rather than the text "undefined".
  return base64url(json ?? '')
}

/**
 * Builds an arbitrary compact JWS string `base64url(header).base64url(payload).signature`, with
 * no validation and no signing: for malformed-token and attack tests (`alg: 'none'`, duplicate
 * members, a signature taken from another token...).
 *
 * @example
 * ```ts
 * const unsigned = encodeToken({ header: { alg: 'none' }, payload: { sub: 'admin' } })
 * // 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.'
 * ```
 */
export function encodeToken(parts: TokenParts): string {
  return `${segment(parts.header)}.${segment(parts.payload)}.${parts.signature ?? ''}`
}
