import type { AccessPolicy, VerifiedAccessToken } from '@bearer-guard/core'

/**
 * What a route needs, declared as `config.auth` in its options:
 *
 * - `false`: the route is public, even when the plugin protects every route (`protect: 'all'`).
 * - `true`: any valid access token (useful with `protect: 'none'`).
 * - `'optional'`: anonymous callers pass (`request.auth` is `null`); a token, if sent, must be
 *   valid (else the usual 400/401).
 * - an {@link AccessPolicy} (`allOf`, `anyOf`, `acr`, `maxAge`, `claims`, `description`): a valid
 *   access token that satisfies it, else 403 `insufficient_scope` (a scope or `claims`) or 401
 *   `insufficient_user_authentication` with `acr_values` or `max_age` (step-up, RFC 9470). Checked
 *   when the route is defined; its scopes are listed in the RFC 9728 document the plugin serves.
 * - absent: what the plugin's `protect` option says (`'all'`: any valid token; `'none'`: public).
 */
export type RouteAuth = boolean | 'optional' | AccessPolicy

/** What the plugin decorates the Fastify instance with, as `app.bearerGuard`. */
export interface BearerGuardDecorator {
  /**
   * Loads the issuer's discovery document and keys now, instead of on the first request, for a
   * readiness probe. Resolves once they are loaded (at once if they already are); rejects with
   * core's `KeySetUnavailableError` (status 503) when they cannot be obtained. The guard stays
   * usable and tries again on the next request.
   */
  ready(): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Set by the `bearerGuard` plugin on the context it is registered in (and its children):
     * `app.bearerGuard.ready()` tells whether the issuer's keys can be obtained.
     */
    bearerGuard: BearerGuardDecorator
  }

  interface FastifyRequest {
    /**
     * The verified access token, set by the `bearerGuard` plugin before the handler of a guarded
     * route runs; `null` on routes it does not guard. Type your own claims by merging them into
     * `AccessTokenClaims` of `@bearer-guard/core`; use `getAuth(request)` to drop the `null`.
     */
    auth: VerifiedAccessToken | null
  }

  interface FastifyContextConfig {
    /** What this route needs from the bearer access token; see {@link RouteAuth}. */
    auth?: RouteAuth
  }
}
