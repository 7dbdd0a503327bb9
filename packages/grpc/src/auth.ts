import type { VerifiedAccessToken } from '@bearer-guard/core'
import type { Metadata } from '@grpc/grpc-js'

/**
 * Any server call a handler receives: `ServerUnaryCall`, `ServerReadableStream`,
 * `ServerWritableStream` or `ServerDuplexStream` — each has the call's `metadata`.
 */
export interface GuardedCall {
  /** The request metadata of the call, as the guard passed it on. */
  readonly metadata: Metadata
}

// The verified token of each call, keyed by the call's request metadata: the one object grpc-js
// hands from the interceptors to the handler (`call.metadata`). Nothing a client sends can put an
// entry here, and an entry goes with its call.
const verified = new WeakMap<Metadata, VerifiedAccessToken>()
const anonymous = new WeakSet<Metadata>()

/** Records the outcome of a call the guard let through. */
export function attach(metadata: Metadata, auth: VerifiedAccessToken | undefined): void {
  if (auth === undefined) anonymous.add(metadata)
  else verified.set(metadata, auth)
}

/**
 * The verified access token of a call the guard let through: claims, scopes, header and the raw
 * token (never log it). For methods declared with a policy or `'authenticated'`.
 *
 * @throws `Error` when the guard verified no token for this call: an anonymous caller of an
 * `'optional'` method (use {@link findAuth} there), a `'public'` method, a server without
 * `bearerGuard()` in its `interceptors`, or an interceptor after it that replaced the call's
 * metadata. grpc-js answers a handler that throws with `UNKNOWN`: a misconfiguration is never a
 * pass.
 *
 * @example
 * ```ts
 * function listOrders(call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) {
 *   const { claims, scopes } = getAuth(call)
 *   callback(null, { orders: [], for: claims.sub, scopes: [...scopes] })
 * }
 * ```
 */
export function getAuth(call: GuardedCall): VerifiedAccessToken {
  const auth = verified.get(call.metadata)
  if (auth === undefined) {
    throw new Error(
      anonymous.has(call.metadata)
        ? 'bearer-guard: this call is anonymous (an optional method without a token); use findAuth(call)'
        : 'bearer-guard: no verified token on this call; put bearerGuard() in the server interceptors and declare this method with serviceAccess()',
    )
  }
  return auth
}

/**
 * The verified access token of a call, or `undefined` when the caller sent none: for methods
 * declared `'optional'` (or `'public'`, where no token is ever read).
 *
 * @example
 * ```ts
 * function listCatalog(call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) {
 *   callback(null, { sub: findAuth(call)?.claims.sub ?? '' })
 * }
 * ```
 */
export function findAuth(call: GuardedCall): VerifiedAccessToken | undefined {
  return verified.get(call.metadata)
}
