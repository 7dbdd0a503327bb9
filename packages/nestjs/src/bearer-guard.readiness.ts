import type { AccessTokenValidator } from '@bearer-guard/core'
import { Inject, Injectable } from '@nestjs/common'
import { BEARER_GUARD_VALIDATOR } from './bearer-guard.constants.js'

/**
 * Tells whether the issuer's keys can be obtained, for a readiness probe (e.g. a `/ready` route
 * or a `@nestjs/terminus` health indicator). Provided and exported by {@link BearerGuardModule}.
 *
 * @example
 * ```ts
 * @Controller()
 * export class HealthController {
 *   constructor(@Inject(BearerGuardReadiness) private readonly auth: BearerGuardReadiness) {}
 *
 *   @Public()
 *   @Get('ready')
 *   async ready() {
 *     await this.auth.ready() // a rejection becomes Nest's 503 response
 *     return { status: 'ready' }
 *   }
 * }
 * ```
 */
@Injectable()
export class BearerGuardReadiness {
  /** @param validator - The core validator from {@link BearerGuardModule}. */
  constructor(@Inject(BEARER_GUARD_VALIDATOR) private readonly validator: AccessTokenValidator) {}

  /**
   * Loads the issuer's discovery document and keys now, instead of on the first request.
   * Resolves once they are loaded (at once if they already are); rejects with core's
   * `KeySetUnavailableError` (status 503) when they cannot be obtained. The guard stays usable
   * and tries again on the next request.
   */
  ready(): Promise<void> {
    return this.validator.ready()
  }
}
