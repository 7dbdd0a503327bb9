/**
 * `@bearer-guard/core`: a framework-free OAuth 2.0 access-token validator for resource servers.
 *
 * @example
 * ```ts
 * import { createAccessTokenValidator, authorize } from '@bearer-guard/core'
 *
 * const validator = createAccessTokenValidator({
 *   issuer: 'https://auth.example.com/',
 *   audience: 'https://api.example.com',
 * })
 * const auth = await validator.verifyRequest({ authorization: req.headers.authorization })
 * authorize(auth, { allOf: ['orders:read'] })
 * ```
 *
 * @packageDocumentation
 */
export { createAccessTokenValidator } from './validator.js'
export type { ValidatorSource } from './resolve-validator.js'
export type { AccessTokenValidator, BearerRequest, VerifyCallback } from './validator.js'
export type { AccessTokenValidatorOptions } from './options.js'
export { channels } from './diagnostics.js'
export type {
  KeySetFetchEndEvent,
  KeySetFetchErrorEvent,
  KeySetFetchReason,
  KeySetFetchStartEvent,
  KeySetStaleEvent,
  VerifyEvent,
} from './diagnostics.js'
export { authorize, definePolicy } from './policy.js'
export type { AccessPolicy } from './policy.js'
export type { AccessTokenClaims, AccessTokenHeader, VerifiedAccessToken } from './types.js'
export {
  BearerGuardError,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  KeySetUnavailableError,
  MissingCredentialsError,
  isBearerGuardError,
} from './errors.js'
export type {
  AnyBearerGuardError,
  BearerGuardErrorCode,
  BearerGuardErrorOptions,
  ErrorBody,
  InvalidTokenCode,
  Rfc6750ErrorCode,
} from './errors.js'
