import type { ValidatorSource, VerifiedAccessToken } from '@bearer-guard/core'

/**
 * Options of {@link BearerGuardModule}: either the options of core's `createAccessTokenValidator`
 * (`issuer` and `audience` are required; every other default is the secure one), or a prebuilt
 * `validator` to share with other parts of the application.
 *
 * Either way they are checked once, when the module is instantiated: bad options make the
 * application fail at start-up with a `TypeError`, never per request.
 */
export type BearerGuardModuleOptions = ValidatorSource

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
