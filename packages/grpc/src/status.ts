import { isBearerGuardError } from '@bearer-guard/core'
import { Metadata, status, type ServerInterceptingCallInterface } from '@grpc/grpc-js'

/** What `sendStatus()` of a server call takes: code, details, trailing metadata. */
export type CallStatus = Parameters<ServerInterceptingCallInterface['sendStatus']>[0]

/**
 * The gRPC status of a core refusal. gRPC's status codes (grpc/doc/statuscodes.md) have one code
 * for each of core's answers:
 *
 * - 401 → `UNAUTHENTICATED` (16): "The request does not have valid authentication credentials";
 * - 400 `invalid_request` → `UNAUTHENTICATED` as well, not `INVALID_ARGUMENT`: the malformed part
 *   is the credentials (an empty `Bearer`, a token that is not token68, two DPoP proofs), not an
 *   argument of the method, and clients refresh credentials on `UNAUTHENTICATED`;
 *   `error="invalid_request"` in `www-authenticate` keeps RFC 6750's distinction;
 * - 403 → `PERMISSION_DENIED` (7): a valid token without the scope (statuscodes.md: "must not be
 *   used if the caller can not be identified");
 * - 503 → `UNAVAILABLE` (14): the issuer's keys cannot be obtained; retrying later may succeed.
 */
function codeOf(httpStatus: 400 | 401 | 403 | 503): status {
  switch (httpStatus) {
    case 400:
    case 401:
      return status.UNAUTHENTICATED
    case 403:
      return status.PERMISSION_DENIED
    case 503:
      return status.UNAVAILABLE
  }
}

/**
 * A refusal as a gRPC status: the code (see {@link codeOf}), core's description as `details`
 * (never token content: RFC 6750 §3 characters only), and every response header core puts on
 * the error as trailing metadata — `www-authenticate` with the exact challenge (RFC 6750 §3,
 * RFC 9449 §7.1), `retry-after` on `UNAVAILABLE`, `dpop-nonce` on `use_dpop_nonce` (RFC 9449 §9).
 * Anything that is not a bearer-guard error (a bug, a store that threw) is `INTERNAL`, with no
 * detail of the error sent.
 */
export function refusalStatus(error: unknown): CallStatus {
  const metadata = new Metadata()
  if (!isBearerGuardError(error)) {
    return {
      code: status.INTERNAL,
      details: 'The access token could not be verified',
      metadata,
    }
  }
  for (const [name, value] of Object.entries(error.headers)) {
    metadata.set(name.toLowerCase(), value)
  }
  return { code: codeOf(error.status), details: error.message, metadata }
}
