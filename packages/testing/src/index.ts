/**
 * `@bearer-guard/testing`: a real in-process OAuth 2.0 issuer for tests.
 *
 * @packageDocumentation
 */
export { createTestIssuer } from './issuer.js'
export type { RotateOptions, TestIssuer } from './issuer.js'
export type { TestIssuerOptions } from './issuer-options.js'
export type { TestClient, TestClientOptions, TokenEndpointAuthMethod } from './clients.js'
export type { MintOptions, OpaqueTokenOptions } from './mint.js'
export { generateTestKey } from './keys.js'
export type { GenerateKeyOptions, PublishedJwk, TestKey } from './keys.js'
export { TEST_ALGORITHMS } from './algorithms.js'
export type { TestAlgorithm } from './algorithms.js'
export type { Fault, FaultEndpoint } from './faults.js'
export type { RequestCounts } from './server.js'
export { encodeToken } from './encode.js'
export { generateDpopKey } from './dpop.js'
export type { DpopKey, DpopProofOptions, GenerateDpopKeyOptions } from './dpop.js'
export { DPOP_PROOF_FLAWS } from './dpop-flaws.js'
export type { DpopProofFlaw } from './dpop-flaws.js'
export {
  generateCertificateAuthority,
  generateClientCertificate,
  generateServerCertificate,
} from './certificates.js'
export type {
  CertificateAuthorityOptions,
  ClientCertificateOptions,
  ServerCertificateOptions,
  TestCertificate,
} from './certificates.js'
export type { TokenParts } from './encode.js'
export { ENTRA_COMMON_ISSUER, providers } from './providers/index.js'
export type {
  Auth0AccessTokenOptions,
  Auth0IdTokenOptions,
  CognitoAccessTokenOptions,
  CognitoIdTokenOptions,
  CognitoOptions,
  DexOptions,
  EntraAccessTokenOptions,
  EntraIdTokenOptions,
  EntraOptions,
  GitHubActionsTokenOptions,
  GoogleIdTokenOptions,
  GoogleOptions,
  GoogleServiceTokenOptions,
  KeycloakAccessTokenOptions,
  KeycloakIdTokenOptions,
  KeycloakOptions,
  KubernetesObjectRef,
  KubernetesTokenOptions,
  OktaAccessTokenOptions,
  OktaIdTokenOptions,
  OktaOptions,
  ProviderName,
  Providers,
  ShapeKind,
  ShapeOptions,
  ShapeOptionsOf,
  TokenShape,
} from './providers/index.js'
