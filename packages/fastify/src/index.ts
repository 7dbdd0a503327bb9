/**
 * `@bearer-guard/fastify`: a Fastify 5 plugin guarding routes with OAuth 2.0 bearer access
 * tokens (RFC 6750, RFC 9068). All validation lives in `@bearer-guard/core`; this package only
 * reads the request, sets `request.auth` and renders refusals.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import { bearerGuard } from '@bearer-guard/fastify'
 *
 * const app = Fastify()
 * await app.register(bearerGuard, {
 *   issuer: 'https://auth.example.com/',
 *   audience: 'https://api.example.com',
 * })
 * app.get('/orders', { config: { auth: { allOf: ['orders:read'] } } }, async () => [])
 * ```
 *
 * @packageDocumentation
 */
import './augment.js'
import { bearerGuard } from './plugin.js'

export type { BearerGuardDecorator, RouteAuth } from './augment.js'
export { getAuth } from './auth.js'
export type { BearerGuardMetadataOptions } from './metadata.js'
export type { BearerGuardAdapterOptions, BearerGuardOptions } from './options.js'
export { bearerGuard }
export { BearerGuardError, isBearerGuardError } from '@bearer-guard/core'
export type {
  AccessPolicy,
  AccessTokenClaims,
  AccessTokenValidator,
  AccessTokenValidatorOptions,
  AnyBearerGuardError,
  VerifiedAccessToken,
} from '@bearer-guard/core'

/** The plugin as the default export, for `app.register(import('@bearer-guard/fastify'))`. */
export default bearerGuard
