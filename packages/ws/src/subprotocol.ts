/**
 * The token subprotocol: browsers cannot set headers on a WebSocket handshake, but they can offer
 * subprotocols (`new WebSocket(url, protocols)`), sent in `Sec-WebSocket-Protocol` (RFC 6455
 * §4.1, §11.3.4). One offered entry may carry the token, base64url-encoded after a prefix, as
 * Kubernetes does (`base64url.bearer.authorization.k8s.io.<token>`, kubernetes/kubernetes#47740).
 *
 * The entry is taken out of the request before `ws` sees it, so it is never selected, never
 * echoed in the `101` response and never left in `request.headers` for a log line to print.
 */
import type { IncomingMessage } from 'node:http'
import { InvalidRequestError } from '@bearer-guard/core'

/** What the offer held: the token (still to verify), if an entry carried one. */
export interface ProtocolOffer {
  /** The decoded token, when a token entry was offered (and the mode is enabled). */
  readonly token: string | undefined
}

const NONE: ProtocolOffer = Object.freeze({ token: undefined })

/** RFC 4648 §5 base64url without padding: `=` is a separator, not allowed in a subprotocol. */
const BASE64URL = /^[A-Za-z0-9_-]+$/

/** Splits a `Sec-WebSocket-Protocol` value (RFC 6455 §4.1: `1#token`) into its entries. */
function entries(value: string): string[] {
  const out: string[] = []
  for (const part of value.split(',')) {
    const entry = part.replace(/^[ \t]+|[ \t]+$/g, '')
    if (entry !== '') out.push(entry)
  }
  return out
}

/**
 * Finds and removes the token entry of the offer. With the mode disabled (`prefix` undefined),
 * an entry with the default prefix is refused: a token sent in a way this server does not accept
 * is an "unsupported parameter" (RFC 6750 §3.1 `invalid_request`), and leaving it would let `ws`
 * select it and echo the token in its response.
 *
 * @throws {@link InvalidRequestError} (400) for a token entry while the mode is disabled, two
 * token entries, a malformed one, or a token entry offered without an application subprotocol.
 */
export function takeTokenProtocol(
  request: IncomingMessage,
  prefix: string | undefined,
  defaultPrefix: string,
  realm: string | undefined,
): ProtocolOffer {
  const header = request.headers['sec-websocket-protocol']
  // The common case: no subprotocol offered at all.
  if (header === undefined) return NONE
  const look = prefix ?? defaultPrefix
  if (!header.includes(look)) return NONE
  const offered = entries(header)
  const tokens = offered.filter((entry) => entry.startsWith(look))
  if (tokens.length === 0) return NONE
  const rest = offered.filter((entry) => !entry.startsWith(look))
  scrub(request, look)
  const refuse = (description: string): InvalidRequestError =>
    new InvalidRequestError(description, { realm })
  if (prefix === undefined) {
    throw refuse('Access tokens in Sec-WebSocket-Protocol are not accepted by this server')
  }
  if (tokens.length > 1) {
    throw refuse('More than one access token subprotocol was offered')
  }
  // WHATWG WebSockets Standard, "establish a WebSocket connection": a browser that offered
  // subprotocols fails the connection unless the server selects one of them, and the token entry
  // is never selected; so an offer must include the application's own subprotocol.
  if (rest.length === 0) {
    throw refuse(
      'The access token subprotocol must be offered together with an application subprotocol',
    )
  }
  const encoded = (tokens[0] as string).slice(prefix.length)
  const token = decode(encoded)
  if (token === undefined) {
    throw refuse('The access token subprotocol is not base64url without padding (RFC 4648 §5)')
  }
  return { token }
}

/** The token, or `undefined` when `encoded` is not canonical base64url of visible ASCII. */
function decode(encoded: string): string | undefined {
  if (encoded === '' || encoded.length % 4 === 1 || !BASE64URL.test(encoded)) return undefined
  const bytes = Buffer.from(encoded, 'base64url')
  // Canonical only: a re-encoding that differs hides bits (RFC 4648 §3.5).
  if (bytes.toString('base64url') !== encoded) return undefined
  for (const byte of bytes) if (byte < 0x21 || byte > 0x7e) return undefined
  return bytes.toString('latin1')
}

/**
 * Removes the entries starting with `prefix` from the request, in `headers` (what `ws` reads)
 * and in `rawHeaders`: the token must not outlive this function anywhere a log could print it.
 */
function scrub(request: IncomingMessage, prefix: string): void {
  const keep = (value: string): string =>
    entries(value)
      .filter((entry) => !entry.startsWith(prefix))
      .join(', ')
  const headers = request.headers
  const kept = keep(headers['sec-websocket-protocol'] ?? '')
  if (kept === '') delete headers['sec-websocket-protocol']
  else headers['sec-websocket-protocol'] = kept
  const raw = request.rawHeaders
  for (let i = raw.length - 2; i >= 0; i -= 2) {
    if ((raw[i] as string).toLowerCase() !== 'sec-websocket-protocol') continue
    const value = keep(raw[i + 1] as string)
    if (value === '') raw.splice(i, 2)
    else raw[i + 1] = value
  }
}
