import type { VerifiedAccessToken } from '@bearer-guard/core'
import type { FastifyRequest } from 'fastify'
import './augment.js'

/**
 * Returns the verified access token of a request on a route guarded by the `bearerGuard`
 * plugin: `request.auth`, without the `null` that unguarded routes have.
 *
 * @throws `Error` when no guard verified this request: a server misconfiguration (the route is
 * public, or outside the plugin's encapsulation context), which surfaces as a 500, never a pass.
 *
 * @example
 * ```ts
 * app.get('/me', async (request) => {
 *   const { claims, scopes } = getAuth(request)
 *   return { sub: claims.sub, scopes: [...scopes] }
 * })
 * ```
 */
export function getAuth(request: FastifyRequest): VerifiedAccessToken {
  const { auth } = request
  // `!auth` rather than `=== null`: without the plugin the decorator is absent altogether.
  if (!auth) {
    throw new Error(
      `bearer-guard: no verified token on ${request.method} ${request.routeOptions.url ?? '(no route)'}; this route is not guarded by bearerGuard`,
    )
  }
  return auth
}
