/**
 * `@bearer-guard/express`: Express 4 and 5 middleware guarding routes with OAuth 2.0 bearer access
 * tokens (RFC 6750, RFC 9068). All validation lives in `@bearer-guard/core`; this package only
 * reads the request, sets `req.auth` and renders refusals.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { bearerGuard, requireAnyScope, requireScopes } from '@bearer-guard/express'
 *
 * const app = express()
 * app.use(bearerGuard({ issuer: 'https://auth.example.com/', audience: 'https://api.example.com' }))
 * app.get('/orders', requireScopes('orders:read'), (req, res) => res.json([]))
 * app.get('/reports', requireAnyScope('reports:read', 'admin'), (req, res) => res.json([]))
 * ```
 *
 * @packageDocumentation
 */
import './augment.js'

export { getAuth } from './auth.js'
export { bearerGuard } from './guard.js'
export type { BearerGuardAdapterOptions, BearerGuardOptions } from './guard.js'
export type { BearerGuardLogger } from './logger.js'
export type { BearerGuardMetadataOptions } from './metadata.js'
export { requireAnyScope, requireClaims, requirePolicy, requireScopes } from './policies.js'
export type { ErrorMode } from './refusal.js'
export type {
  BearerGuardHandler,
  BearerGuardMiddleware,
  BearerGuardNext,
  BearerGuardRequest,
  BearerGuardResponse,
} from './types.js'
export { BearerGuardError, isBearerGuardError } from '@bearer-guard/core'
export type {
  AccessPolicy,
  AccessTokenClaims,
  AccessTokenValidator,
  AccessTokenValidatorOptions,
  AnyBearerGuardError,
  VerifiedAccessToken,
} from '@bearer-guard/core'
