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
export type { AccessTokenValidator, VerifyRequestOptions } from './validator.js'
export type { BearerRequest } from './request.js'
export type { ValidatorSource } from './resolve-validator.js'
export type {
  AccessTokenValidatorOptions,
  AudienceClaim,
  DpopSettings,
  IssuerOptions,
  IssuerResolver,
  IssuerRuleOptions,
  IssuerSelectionOptions,
  ValidatorSettings,
  MaybePromise,
  TokenSources,
} from './options/validator-options.js'
export type { ClaimValue } from './claims/rules.js'
export { MemoryReplayStore } from './stores/replay.js'
export type { MemoryStoreOptions, ReplayStore } from './stores/replay.js'
export type { IntrospectionSettings } from './options/introspection.js'
export type { ClientAuthMethod } from './verifiers/client-auth.js'
export { MemoryIntrospectionCache } from './stores/introspection-cache.js'
export type {
  IntrospectionCache,
  MemoryIntrospectionCacheOptions,
} from './stores/introspection-cache.js'
export { MemoryRevocationStore } from './stores/revocation.js'
export type {
  MemoryRevocationStoreOptions,
  RevocationQuery,
  RevocationStore,
} from './stores/revocation.js'
export type { ScopeClaim, ScopeHierarchy } from './claims/scopes.js'
export type { KeyRefetchCoordinator } from './keys/coordinator.js'
export type { StaticKeys } from './keys/static.js'
export { channels } from './diagnostics.js'
export type {
  KeySetFetchEndEvent,
  KeySetFetchErrorEvent,
  KeySetFetchReason,
  KeySetFetchStartEvent,
  KeySetStaleEvent,
  VerifyEvent,
} from './diagnostics.js'
export { authorize, definePolicy } from './policy/policy.js'
export type { AccessPolicy, SyncAccessPolicy } from './policy/policy.js'
export type { AccessTokenClaims, AccessTokenHeader, VerifiedAccessToken } from './types.js'
export {
  BearerGuardError,
  InsufficientScopeError,
  InsufficientUserAuthenticationError,
  InvalidRequestError,
  InvalidTokenError,
  KeySetUnavailableError,
  MissingCredentialsError,
  isBearerGuardError,
} from './challenge/errors.js'
export type {
  AnyBearerGuardError,
  BearerGuardErrorCode,
  BearerGuardErrorOptions,
  DpopErrorCode,
  ErrorBody,
  InvalidTokenCode,
  Rfc6750ErrorCode,
} from './challenge/errors.js'
export { InvalidDpopProofError, UseDpopNonceError } from './challenge/dpop-errors.js'
export type { DpopErrorOptions } from './challenge/dpop-errors.js'
export type { AuthScheme } from './challenge/www-authenticate.js'
