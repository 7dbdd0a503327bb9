import type { VerifiedAccessToken } from '@bearer-guard/core'
import { createParamDecorator, type ExecutionContext } from '@nestjs/common'
import type { BearerGuardRequest } from './bearer-guard.interfaces.js'

/** Reads `request.auth`, refusing to hand out nothing when no guard ran. */
function readAuth(_data: unknown, context: ExecutionContext): VerifiedAccessToken {
  const request = context.switchToHttp().getRequest<BearerGuardRequest>()
  const { auth } = request
  if (auth === undefined) {
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
 * is on `request.auth`.
 *
 * @throws `Error` (a 500) when the route has no verified token: `BearerGuard` does not cover it,
 * or it is `@Public()`.
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
