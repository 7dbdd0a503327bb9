// The Socket.IO recipe of packages/ws/README.md, verbatim between the markers (socket-io.test.ts
// checks that the README holds exactly this text, and runs it against socket.io-client).
// recipe:start
import type { DefaultEventsMap, ExtendedError, Server, Socket } from 'socket.io'
import {
  InvalidRequestError,
  authorize,
  isBearerGuardError,
  type AccessPolicy,
  type AccessTokenValidator,
  type BearerRequest,
  type VerifiedAccessToken,
} from '@bearer-guard/core'
import { watchExpiry } from '@bearer-guard/core/adapter'

/** What every socket carries once authenticated (Socket.IO's typed `socket.data`). */
export interface BearerSocketData {
  auth: VerifiedAccessToken
}

type BearerSocket = Socket<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, BearerSocketData>

/**
 * Requires a valid access token on every Socket.IO connection: from the client's
 * `auth: { token }` (browsers) or an `Authorization` header (Node clients), never both. A refusal
 * reaches the client as `connect_error` with `err.data = { status, error, error_description }`;
 * an accepted socket is disconnected when core stops accepting its token (`exp` plus
 * `clockTolerance`, or revoked), by the rule of `@bearer-guard/ws` and `@bearer-guard/grpc`.
 */
export function useBearerAuth(
  io: Server<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, BearerSocketData>,
  validator: AccessTokenValidator,
  policy?: AccessPolicy,
): void {
  io.use((socket, next) => {
    authenticate(socket, validator, policy).then(
      ({ auth, request }) => {
        socket.data.auth = auth
        const stop = watchExpiry(validator, request, auth, () => {
          socket.disconnect(true) // the client reconnects with a fresh token
        })
        socket.on('disconnect', stop)
        next()
      },
      (error: unknown) => {
        next(connectError(error))
      },
    )
  })
}

async function authenticate(
  socket: BearerSocket,
  validator: AccessTokenValidator,
  policy: AccessPolicy | undefined,
): Promise<{ auth: VerifiedAccessToken; request: BearerRequest }> {
  const { headers, url } = socket.handshake
  const { token } = socket.handshake.auth as { token?: unknown }
  const request = { method: 'GET', url, headers: { ...headers } }
  if (token !== undefined) {
    // RFC 6750 §2: one way of sending the token per request.
    if (typeof token !== 'string' || headers.authorization !== undefined) {
      throw new InvalidRequestError('Send the access token in auth.token or in Authorization', {
        realm: validator.realm,
      })
    }
    request.headers.authorization = `Bearer ${token}`
  }
  const auth = await validator.verifyRequest(request)
  if (policy !== undefined) await authorize(auth, policy)
  return { auth, request }
}

/** The refusal as `connect_error` shows it: the status and the RFC 6750 body, no token content. */
function connectError(error: unknown): ExtendedError {
  if (!isBearerGuardError(error)) return new Error('Internal Server Error')
  return Object.assign(new Error(error.message), {
    data: { status: error.status, ...error.body },
  })
}
// recipe:end
