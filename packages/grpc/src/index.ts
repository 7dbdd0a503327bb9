/**
 * `@bearer-guard/grpc`: a `@grpc/grpc-js` server interceptor that verifies OAuth 2.0 access
 * tokens (RFC 6750 Bearer, RFC 9449 DPoP) from the `authorization` metadata with
 * `@bearer-guard/core`, enforces per-method requirements declared next to each service
 * definition, and refuses with `UNAUTHENTICATED`, `PERMISSION_DENIED` or `UNAVAILABLE` and the RFC
 * 6750 challenge in the `www-authenticate` trailing metadata.
 *
 * @example
 * ```ts
 * import { Server } from '@grpc/grpc-js'
 * import { bearerGuard, getAuth, serviceAccess } from '@bearer-guard/grpc'
 *
 * const guard = bearerGuard({
 *   issuer: 'https://auth.example.com/',
 *   audience: 'https://api.example.com',
 *   services: [serviceAccess(ordersService, { ListOrders: { allOf: ['orders:read'] } })],
 * })
 * const server = new Server({ interceptors: [guard] })
 * server.addService(ordersService, {
 *   ListOrders(call, callback) {
 *     callback(null, { orders: [], sub: getAuth(call).claims.sub })
 *   },
 * })
 * ```
 *
 * @packageDocumentation
 */
export { bearerGuard } from './guard.js'
export type {
  BearerGuardAdapterOptions,
  BearerGuardInterceptor,
  BearerGuardOptions,
} from './guard.js'
export { serviceAccess } from './access.js'
export type { MethodAccess, MethodAccessMap, ServiceAccess, ServiceWideAccess } from './access.js'
export { findAuth, getAuth } from './auth.js'
export type { GuardedCall } from './auth.js'
export type { BearerGuardLogger } from './logger.js'
export { BearerGuardError, isBearerGuardError } from '@bearer-guard/core'
export type {
  AccessPolicy,
  AccessTokenClaims,
  AccessTokenValidator,
  AccessTokenValidatorOptions,
  AnyBearerGuardError,
  VerifiedAccessToken,
} from '@bearer-guard/core'
