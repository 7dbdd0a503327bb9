import type { AnyBearerGuardError } from '@bearer-guard/core'
import { HttpException } from '@nestjs/common'

/**
 * The `HttpException` a bearer-guard refusal becomes, so Nest's exception filters (the default one
 * and yours) handle it like any other: `getStatus()` is 400, 401, 403 or 503 and `getResponse()`
 * is the RFC 6750 body `{ error, error_description }` (no `error` when no credentials were sent).
 *
 * {@link BearerGuard} has already set `WWW-Authenticate` (and `Retry-After` on a 503) on the
 * response when it throws this; {@link BearerGuardException.headers} holds them too, for filters
 * that build their own response.
 *
 * @example A filter that logs refusals and keeps the standard response:
 * ```ts
 * @Catch(BearerGuardException)
 * export class AuthLogFilter extends BaseExceptionFilter {
 *   override catch(exception: BearerGuardException, host: ArgumentsHost) {
 *     logger.warn(`refused: ${exception.refusal.code}`) // never log the token
 *     super.catch(exception, host)
 *   }
 * }
 * ```
 */
export class BearerGuardException extends HttpException {
  /** The core error refused with; also the exception's `cause`. */
  readonly refusal: AnyBearerGuardError
  /** `WWW-Authenticate`, and `Retry-After` on a 503, as they must be sent. */
  readonly headers: Readonly<Record<string, string>>

  /** Wraps a core refusal; its message is safe to show (it never holds token content). */
  constructor(refusal: AnyBearerGuardError) {
    super(refusal.body, refusal.status, { cause: refusal })
    this.refusal = refusal
    this.headers = refusal.headers
    this.message = refusal.message
  }
}
