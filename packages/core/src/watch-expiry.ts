/**
 * The end of a long-lived connection (a gRPC stream, a WebSocket) opened with a token: one rule
 * for every adapter, "the connection lives while core would still accept its token".
 */
import { isBearerGuardError } from './challenge/errors.js'
import type { BearerRequest } from './request.js'
import type { VerifiedAccessToken } from './types.js'
import type { AccessTokenValidator } from './validator.js'

/** `setTimeout` holds at most 2^31 - 1 ms (24.8 days); a longer delay would fire at once. */
const MAX_DELAY_MS = 2 ** 31 - 1
/** How often a connection past `exp` asks core again while the clock tolerance still accepts it. */
const RECHECK_MS = 1_000
/**
 * How often a token without `exp` (an introspection answer may have none, RFC 7662 §2.2) is asked
 * about: the authorization server's `active` is then its only end.
 */
const NO_EXP_RECHECK_MS = 60_000

/**
 * Whether a refusal of the re-check means the token itself is no longer accepted. A DPoP proof is
 * single-use and short-lived (RFC 9449 §11.1: servers "MUST only accept DPoP proofs for a limited
 * time after their creation" and may refuse a `jti` seen before): asked again, core refuses the
 * very proof that opened the connection, which says nothing about the token being watched.
 */
function refusesTheToken(error: unknown): boolean {
  if (!isBearerGuardError(error)) return true
  return error.code !== 'ERR_DPOP_PROOF_INVALID' && error.code !== 'ERR_DPOP_NONCE_REQUIRED'
}

/**
 * Ends a long-lived connection when its token stops being accepted, for adapters of streaming
 * transports. Nothing runs until the token's `exp` (RFC 7519 §4.1.4, "the expiration time on or
 * after which the JWT MUST NOT be accepted for processing"; seconds since the epoch). From then on,
 * core is asked again with the connection's own `request`, once a second, and `end(error)` is
 * called with core's refusal as soon as there is one: at `exp` plus the validator's
 * `clockTolerance` (in seconds, 30 by default), the instant a new connection with this token would
 * be refused too; or at the first check after `exp` if the token was revoked (core's `revocation`
 * option) or its key withdrawn meanwhile. A token without `exp` (an introspection answer) is asked
 * about once a minute, so the authorization server's `active` ends it.
 *
 * A refusal of the request's DPoP proof (`ERR_DPOP_PROOF_INVALID`, `ERR_DPOP_NONCE_REQUIRED`)
 * does not end it: the proof that opened the connection is spent (RFC 9449 §11.1) and proves
 * nothing about the token, which is what is watched. Core checks the proof before revocation, so a
 * DPoP connection ends at `exp` plus the tolerance, revoked or not. Any other refusal ends it,
 * including a 503 (keys or introspection unavailable) and an unexpected error (a revocation store
 * that throws): a new connection would not be accepted either.
 *
 * Time: the checks are scheduled by `Date.now` (milliseconds); whether the token is still
 * accepted is core's decision, by the validator's own `clock`. With an injected `clock`, the first
 * check is still at `exp` by `Date.now`, and the checks go on, a second apart, until core refuses.
 *
 * Cost: one timer per connection, unreferenced (it keeps no process alive), re-armed in steps for
 * an `exp` further away than a timer can wait; no work per message; a verification (usually a
 * cache hit) only once `exp` has passed.
 *
 * @param validator - The validator that verified the connection's token.
 * @param request - The very request it verified, held until the watch stops.
 * @param auth - What it verified: its `claims.exp` sets the first check.
 * @param end - Called at most once, never synchronously from `watchExpiry`, with core's refusal;
 *   it must not throw (it runs from a timer). The watch is over once it is called.
 * @returns A function that stops watching, to call when the connection ends first (idempotent);
 *   no check runs and `end` is not called after it.
 *
 * @example
 * ```ts
 * const stop = watchExpiry(validator, request, auth, () => {
 *   ws.close(1008, 'token expired')
 * })
 * ws.on('close', stop)
 * ```
 */
export function watchExpiry(
  validator: AccessTokenValidator,
  request: BearerRequest,
  auth: VerifiedAccessToken,
  end: (error: unknown) => void,
): () => void {
  const exp: unknown = auth.claims.exp
  const expiresAt = typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined
  let timer: NodeJS.Timeout | undefined
  let watching = true

  // Nothing before `exp`, by design: a re-check of a DPoP connection cannot reach the revocation
  // check (core refuses the spent proof first), so periodic checks would honour revocation for
  // bearer connections only, at the cost of a verification and a store round trip per connection.
  function schedule(): void {
    let delay = NO_EXP_RECHECK_MS
    if (expiresAt !== undefined) {
      const remaining = expiresAt - Date.now()
      delay = remaining > 0 ? Math.min(remaining, MAX_DELAY_MS) : RECHECK_MS
    }
    timer = setTimeout(check, delay)
    timer.unref()
  }

  function refused(error: unknown): void {
    if (!watching) return
    if (refusesTheToken(error)) {
      watching = false
      timer = undefined
      end(error)
    } else schedule()
  }

  function check(): void {
    timer = undefined
    if (!watching) return
    if (expiresAt !== undefined && expiresAt > Date.now()) {
      schedule() // a token that lives longer than one timer can wait
      return
    }
    validator.verifyRequest(request).then(() => {
      if (watching) schedule()
    }, refused)
  }

  // Never a check now: a token accepted within the tolerance after its `exp` still reaches the
  // application first, and is ended a second later at the earliest.
  schedule()
  return () => {
    watching = false
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
  }
}
