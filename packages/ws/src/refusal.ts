/**
 * How the guard says no: before the handshake, with an HTTP response on the raw socket (RFC 6455
 * §4.2.2: a server that does not accept the connection "MUST return an appropriate HTTP error
 * code"); after it, with a close frame (RFC 6455 §7.4).
 */
import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import { isBearerGuardError } from '@bearer-guard/core'

/** RFC 6455 §7.4.1: "a message that violates its policy". */
export const POLICY_VIOLATION = 1008
/** RFC 6455 §7.4.1: "a message that is too big for it to process". */
export const MESSAGE_TOO_BIG = 1009
/** RFC 6455 §7.4.1: "an unexpected condition that prevented it from fulfilling the request". */
export const INTERNAL_ERROR = 1011
/** IANA WebSocket Close Code Number Registry: 1013 "Try Again Later" (RFC 6455 §11.7). */
export const TRY_AGAIN_LATER = 1013

/**
 * Answers a refused upgrade: the status line, the error's own headers exactly as core rendered
 * them (`WWW-Authenticate`, `Retry-After`), the RFC 6750 JSON body, `Connection: close`; then the
 * socket is destroyed once the response is written (RFC 6455 §4.1: a client that gets a status
 * other than 101 "handles the response per HTTP procedures", e.g. authentication on a 401).
 * Anything that is not a bearer-guard refusal is a 500 without details.
 */
export function refuseUpgrade(socket: Duplex, error: unknown): void {
  const refusal = isBearerGuardError(error) ? error : undefined
  const status = refusal?.status ?? 500
  const body = JSON.stringify(refusal?.body ?? { error_description: 'Internal Server Error' })
  const headers: Record<string, string | number> = {
    ...refusal?.headers,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    Connection: 'close',
  }
  if (!socket.writable) {
    socket.destroy()
    return
  }
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n`
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`
  socket.once('finish', () => socket.destroy())
  socket.end(`${head}\r\n${body}`)
}

/**
 * The close frame for a refusal after the handshake (first-message authentication): 1013 when
 * the keys cannot be obtained (the client may retry, as with a 503), 1008 otherwise, 1011 for
 * anything that is not a bearer-guard refusal. The reason is the RFC 6750 error code and its
 * description (never token content), cut to the 123 bytes a close frame holds (RFC 6455 §5.5).
 */
export function closeFor(error: unknown): { code: number; reason: string } {
  if (!isBearerGuardError(error)) return { code: INTERNAL_ERROR, reason: 'internal error' }
  const code = error.status === 503 ? TRY_AGAIN_LATER : POLICY_VIOLATION
  const name = error.body.error ?? 'invalid_request'
  return { code, reason: closeReason(`${name}: ${error.message}`) }
}

/** A close reason of at most 123 bytes; descriptions are ASCII (RFC 6750 §3), so chars are bytes. */
export function closeReason(text: string): string {
  return text.length <= 123 ? text : `${text.slice(0, 120)}...`
}
