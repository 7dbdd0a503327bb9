/**
 * A socket lives no longer than core accepts its token, by the rule every bearer-guard adapter of
 * long-lived connections follows (core's `watchExpiry`): at `exp` (RFC 7519 §4.1.4) core is asked
 * again with the upgrade's own request, and the socket is closed with 1008 (RFC 6455 §7.4.1) as
 * soon as core refuses the token: at `exp` plus `clockTolerance`, or at the first check after
 * `exp` if it was revoked meanwhile.
 */
import {
  isBearerGuardError,
  type AccessTokenValidator,
  type BearerRequest,
  type VerifiedAccessToken,
} from '@bearer-guard/core'
import { watchExpiry } from '@bearer-guard/core/adapter'
import { warn, type BearerGuardLogger } from './logger.js'
import { INTERNAL_ERROR, POLICY_VIOLATION } from './refusal.js'
import type { GuardedWebSocket } from './types.js'

/** The close reason: a fixed text, never anything from the token or core's description. */
export const EXPIRED_REASON = 'token expired'

/**
 * Closes `ws` with 1008 `token expired` once core refuses its token (`request` is the one `auth`
 * was verified from), and with 1011 `internal error` plus one log line if the re-check fails
 * unexpectedly (a revocation store that throws). Stops watching when the socket closes first, so
 * a closed socket leaves no timer behind.
 */
export function closeWhenRefused(
  ws: GuardedWebSocket,
  validator: AccessTokenValidator,
  request: BearerRequest,
  auth: VerifiedAccessToken,
  logger: BearerGuardLogger | undefined,
): void {
  const stop = watchExpiry(validator, request, auth, (error) => {
    if (isBearerGuardError(error)) {
      ws.close(POLICY_VIOLATION, EXPIRED_REASON)
      return
    }
    const name = error instanceof Error ? error.name : typeof error
    warn(
      logger,
      `bearer-guard: re-checking the token of an open WebSocket failed unexpectedly (${name}); closed with 1011`,
    )
    ws.close(INTERNAL_ERROR, 'internal error')
  })
  ws.on('close', stop)
}
