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
