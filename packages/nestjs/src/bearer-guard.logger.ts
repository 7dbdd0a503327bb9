import type { AccessTokenValidator } from '@bearer-guard/core'
import { onKeySetFailure } from '@bearer-guard/core/adapter'
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common'
import { BEARER_GUARD_VALIDATOR } from './bearer-guard.constants.js'

/**
 * Reports the start of each key-set failure episode (the issuer's keys cannot be obtained, so
 * guarded requests get 503) through Nest's `Logger`, context `BearerGuard`: one warning line,
 * never with token content. The application's logger settings apply (`logger: false` silences).
 * @internal
 */
@Injectable()
export class KeySetFailureReporter implements OnModuleDestroy {
  private readonly logger = new Logger('BearerGuard')
  private readonly unsubscribe: () => void

  constructor(@Inject(BEARER_GUARD_VALIDATOR) validator: AccessTokenValidator) {
    this.unsubscribe = onKeySetFailure(validator, (failure) => {
      this.logger.warn(failure.message)
    })
  }

  /** A prebuilt validator may outlive the application: stop reporting for it. */
  onModuleDestroy(): void {
    this.unsubscribe()
  }
}
