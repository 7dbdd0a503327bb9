import type { ValidatorSource, VerifiedAccessToken } from '@bearer-guard/core'

/**
 * Options of the RFC 9728 metadata document {@link BearerGuardModule} serves (its `metadata`
 * option).
 */
export interface BearerGuardMetadataOptions {
  /**
   * Scopes listed in `scopes_supported` besides those collected from the controllers'
   * `@RequireScopes`, `@RequireAnyScope` and `@RequirePolicy` (e.g. scopes a handler checks
   * itself), each one an RFC 6749 §3.3 scope token. Default: none.
   */
  readonly scopes?: readonly string[]
}

/** Options of {@link BearerGuardModule} itself, beside the validator's. */
export interface BearerGuardModuleAdapterOptions {
  /**
   * The RFC 9728 protected resource metadata document, served when the validator has a
   * `resource`: `GET` of its well-known path (RFC 9728 §3.1), public, with `scopes_supported`
   * collected from the controllers' policy decorators plus `scopes`. `false`: not served (serve
   * it yourself). Default: `{}` (served, with the collected scopes). Given without `resource`, an
   * object fails the start-up with a `TypeError`: nothing would be served.
   */
  readonly metadata?: false | BearerGuardMetadataOptions
}

/**
 * Options of {@link BearerGuardModule}: either the options of core's `createAccessTokenValidator`
 * (`issuer` and `audience` are required, or `resource`; every other default is the secure one),
 * or a prebuilt `validator` to share with other parts of the application; with the module's own
 * {@link BearerGuardModuleAdapterOptions}.
 *
 * Either way they are checked once, when the module is instantiated: bad options make the
 * application fail at start-up with a `TypeError`, never per request.
 */
export type BearerGuardModuleOptions = ValidatorSource & BearerGuardModuleAdapterOptions

/**
 * The members of an Express or Fastify request that {@link BearerGuard} reads, and `auth`, which
 * it sets. Both platforms' requests fit it.
 */
export interface BearerGuardRequest {
  /** The request headers, as the platform keeps them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** The HTTP method. */
  readonly method?: string
  /** The request target: `originalUrl` on Express, `url` on both platforms. */
  readonly originalUrl?: string
  readonly url?: string
  /** The connection (Express); on Fastify it is `raw.socket`. */
  readonly socket?: unknown
  readonly raw?: { readonly socket?: unknown }
  /** The parsed query; read only when the validator enables `allowQuery`. */
  readonly query?: unknown
  /** The parsed body; read only when the validator enables `allowFormBody`. */
  readonly body?: unknown
  /** The verified access token, set by {@link BearerGuard} once the token is verified. */
  auth?: VerifiedAccessToken
}
