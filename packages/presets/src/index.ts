/**
 * `@bearer-guard/presets`: the issuers of well-known identity providers as small, documented data
 * for `@bearer-guard/core`. Each preset checks its options when called and returns
 * `readonly IssuerOptions[]`; verification stays in core. Spread presets into `issuer` to accept
 * several providers, and hand the same options to any adapter.
 *
 * @example
 * ```ts
 * import { createAccessTokenValidator } from '@bearer-guard/core'
 * import { auth0, entra } from '@bearer-guard/presets'
 *
 * const validator = createAccessTokenValidator({
 *   issuer: [
 *     ...auth0({ domain: 'example-tenant.us.auth0.com', audience: 'https://api.example.com' }),
 *     ...entra({
 *       tenant: '72f988bf-86f1-41af-91ab-2d7cd011db47',
 *       audience: 'ef1da9d4-ff77-4c3e-a005-840c3f830745',
 *     }),
 *   ],
 * })
 * ```
 *
 * @packageDocumentation
 */
export { auth0 } from './auth0.js'
export type { Auth0Options } from './auth0.js'
export { cognito } from './cognito.js'
export type { CognitoOptions } from './cognito.js'
export { dex } from './dex.js'
export type { DexOptions } from './dex.js'
export { entra } from './entra.js'
export type { EntraOptions } from './entra.js'
export { githubActions } from './github-actions.js'
export type { GitHubActionsOptions } from './github-actions.js'
export { google } from './google.js'
export type { GoogleOptions } from './google.js'
export { keycloak } from './keycloak.js'
export type { KeycloakOptions } from './keycloak.js'
export { kubernetes } from './kubernetes.js'
export type { KubernetesOptions } from './kubernetes.js'
export { okta } from './okta.js'
export type { OktaOptions } from './okta.js'
