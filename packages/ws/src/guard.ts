import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import {
  InvalidRequestError,
  MissingCredentialsError,
  authorize,
  isBearerGuardError,
  type AccessPolicy,
  type AccessTokenValidator,
  type BearerRequest,
  type ValidatorSource,
  type VerifiedAccessToken,
} from '@bearer-guard/core'
import {
  resolveValidator,
  responseHeaders,
  verifyRequestCallback,
  type AdapterOptionNames,
} from '@bearer-guard/core/adapter'
import { closeWhenRefused } from './expiry.js'
import { awaitFirstMessage, type FirstMessageAuth, type VerifyText } from './first-message.js'
import {
  checkLogger,
  reportKeySetFailures,
  unexpected,
  warn,
  type BearerGuardLogger,
} from './logger.js'
import {
  DEFAULT_PROTOCOL_PREFIX,
  checkFirstMessage,
  checkPolicy,
  checkServer,
  checkSubprotocol,
  type FirstMessageOptions,
  type FirstMessageSettings,
  type SubprotocolOptions,
} from './options.js'
import { refuseUpgrade } from './refusal.js'
import { takeTokenProtocol } from './subprotocol.js'
import type { GuardedWebSocket, UpgradeServer } from './types.js'

const WHERE = 'bearerGuard() (@bearer-guard/ws)'

/** The options `bearerGuard()` takes besides the validator's: every other key is refused. */
const ADAPTER_OPTIONS: AdapterOptionNames = Object.freeze({
  where: WHERE,
  options: Object.freeze(['wss', 'policy', 'subprotocol', 'firstMessage', 'logger']),
})

/** Options of the WebSocket guard itself, beside the validator's. */
export interface WebSocketGuardAdapterOptions<W extends GuardedWebSocket> {
  /**
   * The `ws` `WebSocketServer` that completes the handshakes the guard lets through. Required;
   * it must be created with `noServer: true` (a server that listens, or is given `server`,
   * answers upgrades itself, unguarded: refused with a `TypeError`).
   */
  readonly wss: UpgradeServer<W>
  /**
   * What the token must grant to open a socket (core's `AccessPolicy`: `allOf`, `anyOf`,
   * `claims`, step-up), checked at the upgrade; a token that falls short gets 403
   * `insufficient_scope` (or 401 for step-up). Checked once, here. Default: any valid token.
   */
  readonly policy?: AccessPolicy
  /**
   * Accept the token in one `Sec-WebSocket-Protocol` entry, `<prefix><base64url(token)>`, for
   * browsers, which cannot set `Authorization` on a WebSocket. The entry is removed before `ws`
   * sees the offer: it is never selected nor echoed, and the client must also offer its
   * application subprotocol. Default: `false`: such an entry is refused with 400.
   *
   * @remarks Security: opt-in. The token travels in a request header that proxies and servers
   * may log as readily as `Authorization` but are less likely to redact; see the README.
   */
  readonly subprotocol?: boolean | SubprotocolOptions
  /**
   * Let an upgrade without credentials through, and require its first message to be
   * `Bearer <token>` (a text message), within `timeout` and `maxBytes`; the socket reaches your
   * callback only once that token verifies; any refusal is a close frame (1008, or 1013 when the
   * keys are unavailable). An upgrade that does carry a token is verified at the upgrade as usual.
   * Default: `false`: an upgrade without credentials gets 401.
   *
   * @remarks Security: opt-in. Unauthenticated clients hold an open socket until the timeout,
   * and refusals carry no HTTP status; see the README.
   */
  readonly firstMessage?: boolean | FirstMessageOptions
  /**
   * Where the guard reports, one line each and never with token content, each key-set failure
   * episode (upgrades then get 503) and an upgrade that failed unexpectedly (a 500).
   * Default: `console`; any object with `warn(message)`; `false` silences it.
   */
  readonly logger?: BearerGuardLogger | false
}

/**
 * Options of {@link bearerGuard}: the options of core's `createAccessTokenValidator` (`issuer`
 * and `audience` required) or a prebuilt `validator`, with the {@link WebSocketGuardAdapterOptions}.
 */
export type WebSocketGuardOptions<W extends GuardedWebSocket> = ValidatorSource &
  WebSocketGuardAdapterOptions<W>

/**
 * Receives an authenticated socket: `auth` is the verified token (typed; extend
 * `AccessTokenClaims` by declaration merging for your own claims), `request` the upgrade request.
 */
export type UpgradeCallback<W extends GuardedWebSocket> = (
  ws: W,
  auth: VerifiedAccessToken,
  request: IncomingMessage,
) => void

/** A WebSocket guard made by {@link bearerGuard}. */
export interface WebSocketGuard<W extends GuardedWebSocket> {
  /**
   * Call from the HTTP server's `'upgrade'` event. Verifies the request's token; refuses with an
   * HTTP response (400, 401, 403 or 503 with `WWW-Authenticate`, as for any HTTP request) and
   * destroys the socket, or completes the handshake on `wss` and calls `callback` with the
   * socket and its verified token. The socket is closed with 1008 `token expired` when core stops
   * accepting its token: at `exp` plus the validator's `clockTolerance`, the instant a new upgrade
   * with it would be refused (or at the first check after `exp`, if it was revoked meanwhile).
   */
  readonly handleUpgrade: (
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    callback: UpgradeCallback<W>,
  ) => void
  /** Loads the issuers' keys now (for a readiness probe); rejects with a 503 error if it cannot. */
  readonly ready: () => Promise<void>
}

/**
 * Creates a guard for `ws` WebSocket upgrades: the token is verified by
 * `@bearer-guard/core` at the HTTP upgrade, before any socket is opened, and the socket lives no
 * longer than its token. Options are checked once, here: an unknown option (`subprotcol`)
 * throws a `TypeError` naming the closest known one.
 *
 * @remarks Security: every upgrade must go through `guard.handleUpgrade`, so `wss` must be
 * created with `noServer: true` and only your `'upgrade'` listener may hand it sockets.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http'
 * import { WebSocketServer } from 'ws'
 * import { bearerGuard } from '@bearer-guard/ws'
 *
 * const server = createServer()
 * const wss = new WebSocketServer({ noServer: true })
 * const guard = bearerGuard({
 *   issuer: 'https://auth.example.com/',
 *   audience: 'https://api.example.com',
 *   wss,
 *   policy: { allOf: ['chat:read'] },
 * })
 * server.on('upgrade', (request, socket, head) => {
 *   guard.handleUpgrade(request, socket, head, (ws, auth) => {
 *     ws.send(`hello ${auth.claims.sub ?? ''}`)
 *   })
 * })
 * ```
 */
export function bearerGuard<W extends GuardedWebSocket>(
  options: WebSocketGuardOptions<W>,
): WebSocketGuard<W> {
  const validator = resolveValidator(options, ADAPTER_OPTIONS)
  const wss = checkServer<W>(options.wss)
  const policy = checkPolicy(options.policy)
  const prefix = checkSubprotocol(options.subprotocol)
  const firstMessage = checkFirstMessage(options.firstMessage)
  const logger = checkLogger(options.logger)
  reportKeySetFailures(validator, logger)

  // Headers core asks a verified request's response to carry (a DPoP nonce ahead of the next
  // step, RFC 9449 §8.2), added to the `101` by ws's 'headers' event. Usually empty.
  const extraHeaders = new WeakMap<IncomingMessage, Readonly<Record<string, string>>>()
  wss.on('headers', (headers, request) => {
    const extra = extraHeaders.get(request)
    if (extra === undefined) return
    for (const [name, value] of Object.entries(extra)) headers.push(`${name}: ${value}`)
  })

  const fail = (socket: Duplex, error: unknown): void => {
    if (!isBearerGuardError(error)) warn(logger, unexpected('a WebSocket upgrade', error))
    refuseUpgrade(socket, error)
  }

  const open = (
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    then: (ws: W) => void,
  ): void => {
    socket.off('error', destroyOnError)
    wss.handleUpgrade(request, socket, head, then)
  }

  const awaitToken = (
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    callback: UpgradeCallback<W>,
    settings: FirstMessageSettings,
  ): void => {
    open(request, socket, head, (ws) => {
      const verify: VerifyText = (text, done) => {
        verifyText(validator, request, text, policy, (error, verified) => {
          if (verified === undefined && !isBearerGuardError(error)) {
            warn(logger, unexpected('a WebSocket first-message authentication', error))
          }
          done(error, verified)
        })
      }
      awaitFirstMessage(ws, socket, settings, verify, (verified) => {
        closeWhenRefused(ws, validator, verified.request, verified.auth, logger)
        callback(ws, verified.auth, request)
      })
    })
  }

  function handleUpgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    callback: UpgradeCallback<W>,
  ): void {
    // A client that resets while its token is verified must not become an uncaught 'error'.
    socket.on('error', destroyOnError)
    let bearer: BearerRequest
    try {
      bearer = toBearerRequest(request, prefix, validator.realm)
    } catch (error) {
      fail(socket, error)
      return
    }
    verifyRequestCallback(
      validator,
      bearer,
      (error, auth) => {
        if (error !== null) {
          fail(socket, error)
          return
        }
        if (auth === undefined) {
          // Only with `firstMessage` (the `optional` flag below): no credentials at all.
          if (firstMessage !== undefined) awaitToken(request, socket, head, callback, firstMessage)
          else fail(socket, new MissingCredentialsError({ realm: validator.realm }))
          return
        }
        authorizeThen(auth, policy, (refusal) => {
          if (refusal !== null) {
            fail(socket, refusal)
            return
          }
          const extra = responseHeaders(bearer)
          if (extra !== undefined) extraHeaders.set(request, extra)
          open(request, socket, head, (ws) => {
            closeWhenRefused(ws, validator, bearer, auth, logger)
            callback(ws, auth, request)
          })
        })
      },
      firstMessage !== undefined,
    )
  }

  return { handleUpgrade, ready: () => validator.ready() }
}

function destroyOnError(this: Duplex): void {
  this.destroy()
}

/**
 * The upgrade request's raw parts, as core reads them: the one place this adapter maps a
 * request. A token offered as a subprotocol becomes the `Authorization` header it stands for.
 */
function toBearerRequest(
  request: IncomingMessage,
  prefix: string | undefined,
  realm: string | undefined,
): BearerRequest {
  const url = request.url
  let headers: IncomingMessage['headers'] = request.headers
  const { token } = takeTokenProtocol(request, prefix, DEFAULT_PROTOCOL_PREFIX, realm)
  if (token !== undefined) {
    // RFC 6750 §2: "Clients MUST NOT use more than one method to transmit the token in each
    // request." Core sees the other methods (query, cookie…) itself.
    if (headers.authorization !== undefined) {
      throw new InvalidRequestError('The access token was sent in more than one way', { realm })
    }
    headers = { ...headers, authorization: `Bearer ${token}` }
  }
  const q = url === undefined ? -1 : url.indexOf('?')
  return {
    method: request.method,
    url,
    headers,
    // Core reads `access_token` from it only with `allowQuery`, and otherwise refuses a token
    // sent both there and in a header.
    query: q === -1 ? undefined : new URLSearchParams((url as string).slice(q + 1)),
    socket: request.socket,
  }
}

/**
 * The first message's text, verified as the value of an `Authorization` header; `done` also gets
 * the request core verified, which core re-checks when the token's `exp` has passed.
 */
function verifyText(
  validator: AccessTokenValidator,
  request: IncomingMessage,
  text: string,
  policy: AccessPolicy | undefined,
  done: (error: unknown, verified: FirstMessageAuth | undefined) => void,
): void {
  const bearer: BearerRequest = {
    method: request.method,
    url: request.url,
    headers: { ...request.headers, authorization: text },
    socket: request.socket,
  }
  verifyRequestCallback(validator, bearer, (error, auth) => {
    if (auth === undefined) {
      done(error, undefined)
      return
    }
    authorizeThen(auth, policy, (refusal) => {
      if (refusal === null) done(null, { auth, request: bearer })
      else done(refusal, undefined)
    })
  })
}

/** Core's `authorize`, synchronous unless the policy's `claims` check is async. */
function authorizeThen(
  auth: VerifiedAccessToken,
  policy: AccessPolicy | undefined,
  done: (refusal: unknown) => void,
): void {
  if (policy === undefined) {
    done(null)
    return
  }
  let pending: void | Promise<void>
  try {
    pending = authorize(auth, policy)
  } catch (error) {
    done(error)
    return
  }
  if (pending === undefined) done(null)
  else
    pending.then(
      () => {
        done(null)
      },
      (error: unknown) => {
        done(error)
      },
    )
}
