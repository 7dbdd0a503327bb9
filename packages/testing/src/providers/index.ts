import { auth0 } from './auth0.js'
import { cognito } from './cognito.js'
import { dex } from './dex.js'
import { entra } from './entra.js'
import { github } from './github.js'
import { google } from './google.js'
import { keycloak } from './keycloak.js'
import { kubernetes } from './kubernetes.js'
import { okta } from './okta.js'
import type { ProviderName, ShapeOptions, TokenShape } from './shape.js'

/**
 * The token shapes of real identity providers: for each, `accessToken(options?)` (what the
 * provider gives a client, or a workload, to present to an API) and, where the provider issues
 * them, `idToken(options?)` (an OpenID Connect ID token, which an API must refuse). Each returns
 * a {@link TokenShape} in the provider's real header and claim shape, with realistic defaults that
 * every option can replace; sign it with `TestIssuer.mintShaped`, or `TestIssuer.mint(shape.claims,
 * { header: shape.header })`.
 *
 * For a validator to accept such tokens, create the test issuer with the provider's issuer
 * identifier (`createTestIssuer({ issuer })`) and the default `RS256` algorithm, and give the
 * validator `issuer.jwksUri`.
 *
 * @example
 * ```ts
 * import { createTestIssuer, providers } from '@bearer-guard/testing'
 *
 * const iss = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC'
 * const issuer = await createTestIssuer({ issuer: iss })
 * const access = await issuer.mintShaped('cognito', 'accessToken', { userPoolId: 'eu-west-1_AbC' })
 * const id = await issuer.mintShaped('cognito', 'idToken', { userPoolId: 'eu-west-1_AbC' })
 * // A validator with { issuer: iss, jwksUri: issuer.jwksUri } accepts `access`, refuses `id`.
 * const shape = providers.cognito.accessToken({ scope: 'orders-api/read' })
 * ```
 */
export const providers = Object.freeze({
  auth0,
  okta,
  entra,
  keycloak,
  cognito,
  google,
  dex,
  github,
  kubernetes,
} satisfies Record<ProviderName, ProviderShapes>)

/** The shape builders of one provider. */
interface ProviderShapes {
  readonly accessToken: (options?: never) => TokenShape
  readonly idToken?: (options?: never) => TokenShape
}

/** The type of {@link providers}. */
export type Providers = typeof providers

/** The token kinds `provider` has builders for: `'accessToken'`, and `'idToken'` for most. */
export type ShapeKind<P extends ProviderName> = keyof Providers[P] & ('accessToken' | 'idToken')

/** The options of `providers[P][K]`. */
export type ShapeOptionsOf<
  P extends ProviderName,
  K extends ShapeKind<P>,
> = Providers[P][K] extends (options?: infer O) => TokenShape ? O : never

/**
 * Builds `providers[provider][kind](options)`, checking `provider` and `kind` at run time (the
 * typed entry point is `TestIssuer.mintShaped`).
 *
 * @throws TypeError naming `where` for an unknown provider or kind.
 */
export function buildShape(
  provider: string,
  kind: string,
  options: ShapeOptions,
  where: string,
): TokenShape {
  const shapes: Readonly<Record<string, ProviderShapes>> = providers
  const builders = Object.hasOwn(shapes, provider) ? shapes[provider] : undefined
  if (builders === undefined) {
    throw new TypeError(
      `${where}: unknown provider ${JSON.stringify(provider)}; the providers are ${Object.keys(providers).join(', ')}`,
    )
  }
  const build: unknown =
    kind === 'accessToken' || kind === 'idToken' ? builders[kind as 'accessToken'] : undefined
  if (typeof build !== 'function') {
    throw new TypeError(
      `${where}: ${provider} has no ${JSON.stringify(kind)} shape; it has ${Object.keys(builders).join(', ')}`,
    )
  }
  return (build as (options: unknown) => TokenShape)(options)
}

export type { ProviderName, ShapeOptions, TokenShape } from './shape.js'
export type { Auth0AccessTokenOptions, Auth0IdTokenOptions } from './auth0.js'
export type { OktaAccessTokenOptions, OktaIdTokenOptions, OktaOptions } from './okta.js'
export { ENTRA_COMMON_ISSUER } from './entra.js'
export type { EntraAccessTokenOptions, EntraIdTokenOptions, EntraOptions } from './entra.js'
export type {
  KeycloakAccessTokenOptions,
  KeycloakIdTokenOptions,
  KeycloakOptions,
} from './keycloak.js'
export type { CognitoAccessTokenOptions, CognitoIdTokenOptions, CognitoOptions } from './cognito.js'
export type { GoogleIdTokenOptions, GoogleOptions, GoogleServiceTokenOptions } from './google.js'
export type { DexOptions } from './dex.js'
export type { GitHubActionsTokenOptions } from './github.js'
export type { KubernetesObjectRef, KubernetesTokenOptions } from './kubernetes.js'
