/**
 * First-message authentication (opt-in): the handshake completes without credentials, and the
 * socket is handed to the application only once its first message, `Bearer <token>`, verifies.
 * Until then the socket is bounded in time (`timeout`) and in bytes (`maxBytes`), and every
 * refusal is a close frame: there is no HTTP status left to send.
 */
import type { BearerRequest, VerifiedAccessToken } from '@bearer-guard/core'
import type { Duplex } from 'node:stream'
import type { FirstMessageSettings } from './options.js'
import { MESSAGE_TOO_BIG, POLICY_VIOLATION, closeFor } from './refusal.js'
import type { GuardedWebSocket } from './types.js'

/** The close reason when no first message came within the timeout (fixed text). */
export const TIMEOUT_REASON = 'authentication timeout'
/** The close reason when more than `maxBytes` came before authentication (fixed text). */
export const TOO_LARGE_REASON = 'authentication message too large'
/** The close reason for a binary first message (fixed text). */
export const NOT_TEXT_REASON = 'invalid_request: the first message must be a text message'

/** A first message that authenticated: the verified token and the request core verified. */
export interface FirstMessageAuth {
  readonly auth: VerifiedAccessToken
  /** The upgrade request with the message as its `Authorization`: what core re-checks later. */
  readonly request: BearerRequest
}

/** Verifies the text of the first message; `done` gets the refusal or what was verified. */
export type VerifyText = (
  text: string,
  done: (error: unknown, verified: FirstMessageAuth | undefined) => void,
) => void

/**
 * Holds `ws` until its first message authenticates it, then calls `accept` and delivers, in
 * order, the messages that arrived while the token was being verified.
 */
export function awaitFirstMessage(
  ws: GuardedWebSocket,
  socket: Duplex,
  settings: FirstMessageSettings,
  verify: VerifyText,
  accept: (verified: FirstMessageAuth) => void,
): void {
  let state: 'waiting' | 'verifying' | 'done' = 'waiting'
  const held: { data: unknown; isBinary: boolean }[] = []
  let received = 0

  const stop = (): void => {
    state = 'done'
    clearTimeout(timer)
    ws.off('message', onMessage)
  }
  const refuse = (code: number, reason: string): void => {
    stop()
    ws.close(code, reason)
    // Read on, so the peer's closing frame completes the handshake; later messages have no
    // listener and are dropped.
    ws.resume()
  }

  // Raw bytes, frame headers included, counted as they arrive and before ws parses them: ws
  // would otherwise buffer a message up to its `maxPayload` (100 MiB by default) before anyone
  // could look at it. Counted until the socket is authenticated or gone, refused ones included,
  // so a peer that keeps sending instead of closing is cut off.
  const count = (chunk: Buffer): void => {
    received += chunk.length
    if (received <= settings.maxBytes) return
    if (state !== 'done') {
      stop()
      ws.close(MESSAGE_TOO_BIG, TOO_LARGE_REASON)
    } else if (received > 2 * settings.maxBytes) {
      socket.off('data', count)
      ws.terminate()
    }
  }

  function onMessage(data: unknown, isBinary: boolean): void {
    if (state === 'verifying') {
      held.push({ data, isBinary })
      return
    }
    if (state !== 'waiting') return
    state = 'verifying'
    // Nothing more is read until the token is verified; messages already parsed from the same
    // chunk are held and delivered after `accept`.
    ws.pause()
    if (isBinary || !Buffer.isBuffer(data)) {
      refuse(POLICY_VIOLATION, NOT_TEXT_REASON)
      return
    }
    verify(data.toString('utf8'), (error, verified) => {
      if (state !== 'verifying') return // closed meanwhile
      if (verified === undefined) {
        const { code, reason } = closeFor(error)
        refuse(code, reason)
        return
      }
      stop()
      socket.off('data', count)
      accept(verified)
      for (const message of held) ws.emit('message', message.data, message.isBinary)
      held.length = 0
      ws.resume()
    })
  }

  const timer = setTimeout(() => {
    // A verification still running (keys being fetched) is bounded by the same timeout.
    if (state !== 'done') refuse(POLICY_VIOLATION, TIMEOUT_REASON)
  }, settings.timeoutMs)
  timer.unref()
  socket.prependListener('data', count)
  ws.on('message', onMessage)
  ws.on('close', () => {
    stop()
    socket.off('data', count)
  })
}
