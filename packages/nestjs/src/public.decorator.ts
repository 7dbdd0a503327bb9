import type { CustomDecorator } from '@nestjs/common'
import { Reflector } from '@nestjs/core'

/** @internal */
export const PublicMetadata = Reflector.createDecorator<undefined, true>({
  key: 'bearer-guard:public',
  transform: () => true,
})

/**
 * Marks a route (method) or every route of a controller (class) as needing no access token, for
 * use under a global {@link BearerGuard} (`APP_GUARD`). No token is read or verified there, so
 * `@Auth()` is not available.
 *
 * @remarks Security: everything under `@Public()` is reachable by anyone; prefer it on methods.
 *
 * @example
 * ```ts
 * @Public()
 * @Get('health')
 * health() {
 *   return { status: 'ok' }
 * }
 * ```
 */
export function Public(): CustomDecorator {
  return PublicMetadata()
}

/** @internal */
export const OptionalAuthMetadata = Reflector.createDecorator<undefined, true>({
  key: 'bearer-guard:optional',
  transform: () => true,
})

/**
 * Lets anonymous callers through a route (method) or a controller (class) while still refusing a
 * bad token: without credentials `@Auth()` is `undefined`; a token, if sent, must be valid (else
 * the usual 400/401), and the route's scope decorators apply to it.
 *
 * @example
 * ```ts
 * @OptionalAuth()
 * @Get('catalog')
 * catalog(@Auth() auth: VerifiedAccessToken | undefined) {
 *   return { sub: auth?.claims.sub ?? null }
 * }
 * ```
 */
export function OptionalAuth(): CustomDecorator {
  return OptionalAuthMetadata()
}
