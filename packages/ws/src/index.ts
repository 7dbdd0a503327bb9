/**
 * `@bearer-guard/ws`: OAuth 2.0 access tokens for `ws` WebSocket servers. The token is verified by
 * `@bearer-guard/core` at the HTTP upgrade, so a refused client gets an ordinary HTTP 400, 401,
 * 403 or 503 with its `WWW-Authenticate` challenge before any socket is opened; an accepted
 * socket is closed with 1008 when its token expires. Browsers, which cannot set `Authorization`
 * on a WebSocket, may send the token in a subprotocol or a first message, each an explicit opt-in.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http'
 * import { WebSocketServer } from 'ws'
 * import { bearerGuard } from '@bearer-guard/ws'
 *
 * const server = createServer()
 * const wss = new WebSocketServer({ noServer: true })
 * const guard = bearerGuard({ issuer: 'https://auth.example.com/', audience: 'https://api.example.com', wss })
 * server.on('upgrade', (request, socket, head) => {
 *   guard.handleUpgrade(request, socket, head, (ws, auth) => {
 *     ws.send(`hello ${auth.claims.sub ?? ''}`)
 *   })
 * })
 * ```
 *
 * @packageDocumentation
 */
export { bearerGuard } from './guard.js'
export type {
  UpgradeCallback,
  WebSocketGuard,
  WebSocketGuardAdapterOptions,
  WebSocketGuardOptions,
} from './guard.js'
export type { BearerGuardLogger } from './logger.js'
export { DEFAULT_PROTOCOL_PREFIX } from './options.js'
export type { FirstMessageOptions, SubprotocolOptions } from './options.js'
export type { GuardedWebSocket, UpgradeServer } from './types.js'
export type {
  AccessPolicy,
  AccessTokenClaims,
  AccessTokenValidator,
  AccessTokenValidatorOptions,
  VerifiedAccessToken,
} from '@bearer-guard/core'
