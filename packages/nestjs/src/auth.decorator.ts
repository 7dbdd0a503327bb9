import type { VerifiedAccessToken } from '@bearer-guard/core'
import { createParamDecorator, type ExecutionContext } from '@nestjs/common'
import type { BearerGuardRequest } from './bearer-guard.interfaces.js'

/**
 * The requests {@link BearerGuard} let through without credentials on an `@OptionalAuth()` route:
 * there, and only there, `@Auth()` is `undefined`. A set rather than a flag on the request, so
 * nothing on the request can fake it.
 */
const anonymous = new WeakSet<object>()

/** @internal Called by the guard for a request it lets through anonymously. */
export function markAnonymous(request: object): void {
  anonymous.add(request)
}

/** Reads `request.auth`, refusing to hand out nothing when no guard ran. */
function readAuth(_data: unknown, context: ExecutionContext): VerifiedAccessToken | undefined {
  const request = context.switchToHttp().getRequest<BearerGuardRequest>()
  const { auth } = request
  if (auth === undefined) {
    // Anonymous on an @OptionalAuth() route, as the guard decided: no token was sent.
    if (anonymous.has(request)) return undefined
    // A server misconfiguration (no guard, or a @Public route), which must surface as a 500,
    // never as an anonymous pass.
    throw new Error(
      'bearer-guard: @Auth() on a route without a verified token; guard it with BearerGuard',
    )
  }
  return auth
}

/**
 * Parameter decorator giving the verified access token (core `VerifiedAccessToken`: `claims`,
 * `header`, `scopes`, `token`) of an HTTP request guarded by {@link BearerGuard}; the same object
 * is on `request.auth`. On an `@OptionalAuth()` route it is `undefined` when the caller sent no
 * credentials (type the parameter `VerifiedAccessToken | undefined` there).
 *
 * @throws `Error` (a 500) when the route has no verified token and the guard did not let the
 * request through anonymously: `BearerGuard` does not cover the route, or it is `@Public()`.
 *
 * @example
 * ```ts
 * @Get('me')
 * me(@Auth() auth: VerifiedAccessToken) {
 *   return { sub: auth.claims.sub, scopes: [...auth.scopes] }
 * }
 * ```
 */
export const Auth: () => ParameterDecorator = createParamDecorator(readAuth)
