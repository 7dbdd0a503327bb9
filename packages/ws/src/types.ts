/**
 * What the guard needs of `ws`, typed structurally so the guard's declarations do not require
 * `@types/ws`: a `WebSocketServer` and its `WebSocket` fit as they are, and so does a subclass
 * given as the server's `WebSocket` option (the callback then receives that class).
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'

/** The part of a `ws` `WebSocket` the guard uses: closing it, and holding it until authenticated. */
export interface GuardedWebSocket {
  /** Sends a close frame (RFC 6455 §5.5.1) with a status code and a reason. */
  close(code?: number, reason?: string): void
  /** Destroys the connection without a closing handshake. */
  terminate(): void
  /** Stops reading from the connection. */
  pause(): void
  /** Reads from the connection again. */
  resume(): void
  /** Subscribes to the socket's events. */
  on(event: 'message', listener: (data: unknown, isBinary: boolean) => void): unknown
  /** Subscribes to the socket's events. */
  on(event: 'close', listener: (code: number, reason: Buffer) => void): unknown
  /** Removes a listener. */
  off(event: 'message', listener: (data: unknown, isBinary: boolean) => void): unknown
  /** Delivers a message again, to the application's listeners. */
  emit(event: 'message', data: unknown, isBinary: boolean): boolean
}

/**
 * The part of a `ws` `WebSocketServer` the guard uses. It must be created with
 * `noServer: true`: only then does every upgrade go through the guard.
 */
export interface UpgradeServer<W extends GuardedWebSocket> {
  /** The server's options; the guard checks that `noServer` is `true`. */
  readonly options: { readonly noServer?: boolean | undefined }
  /** Completes the WebSocket handshake (RFC 6455 §4.2.2) and hands over the socket. */
  handleUpgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    callback: (client: W, request: IncomingMessage) => void,
  ): void
  /** The guard adds response headers core asks for (a DPoP nonce) to the `101` response. */
  on(event: 'headers', listener: (headers: string[], request: IncomingMessage) => void): unknown
}
