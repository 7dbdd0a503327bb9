import {
  authorize,
  definePolicy,
  type AccessPolicy,
  type AccessTokenClaims,
  type VerifiedAccessToken,
} from '@bearer-guard/core'
import { isCorsPreflight } from '@bearer-guard/core/adapter'
import { getAuth } from './auth.js'
import { rememberPolicy } from './metadata.js'
import { anonymousRefusal, errorModeOf, refuse } from './refusal.js'
import type { BearerGuardMiddleware } from './types.js'

/**
 * Route middleware enforcing a core {@link AccessPolicy} on the token verified by
 * {@link bearerGuard}, which must be mounted before it: scopes (`allOf`, `anyOf`), step-up
 * (`acr`, `maxAge`, RFC 9470) and a `claims` check. The policy is checked when the route is
 * defined (a malformed one throws a `TypeError` then). A token lacking a scope, or refused by
 * `claims`, gets 403 `insufficient_scope`; one whose authentication is not strong enough (`acr`)
 * or too old (`auth_time` more than `maxAge` seconds ago) gets 401
 * `insufficient_user_authentication` with `acr_values` or `max_age` in the challenge. Refusals are
 * delivered the same way (`errors` mode) as the guard's. Its scopes are listed in the guard's
 * RFC 9728 document (`guard.metadata`).
 *
 * @example
 * ```ts
 * app.delete(
 *   '/orders/:id',
 *   requirePolicy({ allOf: ['orders:write'], claims: (c) => c.tenant_id === 'acme' }),
 *   handler,
 * )
 * // Step-up: multi-factor authentication within the last 5 minutes.
 * app.get('/admin/audit', requirePolicy({ allOf: ['admin'], acr: ['urn:example:mfa'], maxAge: 300 }), handler)
 * ```
 */
export function requirePolicy(policy: AccessPolicy): BearerGuardMiddleware {
  const defined = definePolicy(policy)
  const middleware: BearerGuardMiddleware = function requirePolicyMiddleware(req, res, next): void {
    // The guard let a CORS preflight through without a token; so does a route helper.
    if (req.auth === undefined && isCorsPreflight(req.method, req.headers)) {
      next()
      return
    }
    // An anonymous caller let through by `guard.optional`: this route needs a token after all.
    const missing = req.auth === undefined ? anonymousRefusal(req) : undefined
    if (missing !== undefined) {
      refuse(missing, errorModeOf(req), res, next)
      return
    }
    let auth: VerifiedAccessToken
    try {
      auth = getAuth(req)
    } catch (error) {
      // A server misconfiguration, not a client error: always the app's error handler (a 500).
      next(error)
      return
    }
    let pending: void | Promise<void>
    try {
      pending = authorize(auth, defined)
    } catch (error) {
      refuse(error, errorModeOf(req), res, next)
      return
    }
    // A policy with an async `claims` check (a database, a revocation list) answers later.
    if (pending === undefined) next()
    else {
      pending.then(
        () => {
          next()
        },
        (error: unknown) => {
          refuse(error, errorModeOf(req), res, next)
        },
      )
    }
  }
  // For `scopes_supported` of the RFC 9728 document, read only when it is first requested.
  rememberPolicy(middleware, defined)
  return middleware
}

/**
 * Route middleware requiring **every** one of `scopes` (403 `insufficient_scope` naming them all
 * otherwise). Needs {@link bearerGuard} before it; no scopes, or a scope with spaces, quotes or
 * backslashes, throws a `TypeError` at definition.
 *
 * @example
 * ```ts
 * app.delete('/orders/:id', requireScopes('orders:write', 'orders:admin'), handler)
 * ```
 */
export function requireScopes(...scopes: string[]): BearerGuardMiddleware {
  return requirePolicy({ allOf: scopes })
}

/**
 * Route middleware requiring **at least one** of `scopes` (403 `insufficient_scope` naming them
 * all otherwise). Needs {@link bearerGuard} before it; no scopes, or a malformed one, throws a
 * `TypeError` at definition.
 *
 * @example
 * ```ts
 * app.get('/reports', requireAnyScope('reports:read', 'admin'), handler)
 * ```
 */
export function requireAnyScope(...scopes: string[]): BearerGuardMiddleware {
  return requirePolicy({ anyOf: scopes })
}

/**
 * Route middleware requiring `predicate` to return `true` for the verified claims; `false` or a
 * throw refuses with 403 `insufficient_scope` and `description` as `error_description`
 * (default: a generic sentence). Needs {@link bearerGuard} before it.
 *
 * @remarks Security: `description` is sent to the client; do not put claim values in it.
 *
 * @example
 * ```ts
 * app.get('/tenants/acme', requireClaims((claims) => claims.tenant_id === 'acme'), handler)
 * ```
 */
export function requireClaims(
  predicate: (claims: AccessTokenClaims, auth: VerifiedAccessToken) => boolean | Promise<boolean>,
  description?: string,
): BearerGuardMiddleware {
  return requirePolicy(
    description === undefined ? { claims: predicate } : { claims: predicate, description },
  )
}
