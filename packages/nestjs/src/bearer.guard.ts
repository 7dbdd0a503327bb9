import {
  MissingCredentialsError,
  authorize,
  isBearerGuardError,
  type AccessPolicy,
  type AccessTokenValidator,
  type BearerRequest,
} from '@bearer-guard/core'
import { isCorsPreflight, responseHeaders } from '@bearer-guard/core/adapter'
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common'
import { HttpAdapterHost, Reflector } from '@nestjs/core'
import { markAnonymous } from './auth.decorator.js'
import { BEARER_GUARD_VALIDATOR } from './bearer-guard.constants.js'
import { BearerGuardException } from './bearer-guard.exception.js'
import type { BearerGuardRequest } from './bearer-guard.interfaces.js'
import { POLICY_DECORATORS } from './policy.decorators.js'
import { OptionalAuthMetadata, PublicMetadata } from './public.decorator.js'

/**
 * Requires a valid OAuth 2.0 bearer access token (RFC 6750) on a route, a controller
 * (`@UseGuards(BearerGuard)`) or the whole application (`{ provide: APP_GUARD, useClass:
 * BearerGuard }`), then enforces the route's `@RequireScopes`, `@RequireAnyScope`,
 * `@RequireClaims` and `@RequirePolicy`. `@Public()` routes pass without a token, and so do CORS
 * preflights (`OPTIONS` with `Origin` and `Access-Control-Request-Method`, no `Authorization`).
 *
 * On success the verified token is on `request.auth` and `@Auth()` (and, with DPoP nonces, the
 * response gets a fresh `DPoP-Nonce` header when one is due, RFC 9449 §8.2). A refusal sets
 * `WWW-Authenticate` (and `Retry-After` on a 503) on the response, on Express and Fastify alike,
 * then throws a {@link BearerGuardException} (an `HttpException`) with the status and the RFC 6750
 * body, for Nest's exception filters to send.
 *
 * Needs {@link BearerGuardModule} in the application. For GraphQL or other contexts, subclass it
 * and override {@link BearerGuard.getRequest} (and {@link BearerGuard.getResponse}).
 *
 * @example
 * ```ts
 * @Controller('orders')
 * @UseGuards(BearerGuard)
 * export class OrdersController {
 *   @Get()
 *   @RequireScopes('orders:read')
 *   list(@Auth() auth: VerifiedAccessToken) {
 *     return []
 *   }
 * }
 * ```
 */
@Injectable()
export class BearerGuard implements CanActivate {
  /**
   * Dependencies are injected with explicit tokens, so no `emitDecoratorMetadata` is needed.
   *
   * @param validator - The core validator from {@link BearerGuardModule}.
   * @param reflector - Nest's metadata reader.
   * @param adapterHost - Nest's HTTP adapter, used to set headers on either platform.
   */
  constructor(
    @Inject(BEARER_GUARD_VALIDATOR) protected readonly validator: AccessTokenValidator,
    @Inject(Reflector) protected readonly reflector: Reflector,
    @Inject(HttpAdapterHost) protected readonly adapterHost: HttpAdapterHost,
  ) {}

  /** Verifies the request's token and the route's policies; refuses through `handleError`. */
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()]
    // By key: absent metadata reads as `undefined`, which the decorator's own type does not say.
    const isPublic = this.reflector.getAllAndOverride<true | undefined>(PublicMetadata.KEY, targets)
    if (isPublic === true) return true
    const request = this.getRequest(context)
    // Browsers send preflights without credentials; `enableCors()` answers them before any guard,
    // but an `@Options()` route (or `preflightContinue`) must not get a 401 either.
    if (isCorsPreflight(request.method, request.headers)) return true
    const optional =
      this.reflector.getAllAndOverride<true | undefined>(OptionalAuthMetadata.KEY, targets) === true
    try {
      // The object core verifies, so the headers it records for this request can be found.
      const bearerRequest = toBearerRequest(request)
      const auth = await this.validator.verifyRequest(bearerRequest, { optional })
      // Anonymous on an @OptionalAuth() route: `@Auth()` is `undefined` for this request (and
      // only for a request marked here). A route that also needs scopes needs a token after all:
      // 401 without an error attribute, as without @OptionalAuth() (the Express helpers agree).
      if (auth === undefined) {
        if (this.getPolicies(context).length > 0) {
          throw new MissingCredentialsError({ realm: this.validator.realm })
        }
        markAnonymous(request)
        return true
      }
      request.auth = auth
      // A DPoP nonce handed out ahead of the next step (RFC 9449 §8.2); usually nothing.
      const headers = responseHeaders(bearerRequest)
      if (headers !== undefined) this.setHeaders(context, headers)
      for (const policy of this.getPolicies(context)) await authorize(auth, policy)
    } catch (error) {
      return this.handleError(error, context)
    }
    return true
  }

  /**
   * The request to read the token from and to set `auth` on. Default: the HTTP request. Override
   * for GraphQL: `GqlExecutionContext.create(context).getContext().req`.
   */
  protected getRequest(context: ExecutionContext): BearerGuardRequest {
    return context.switchToHttp().getRequest<BearerGuardRequest>()
  }

  /**
   * The response to set headers on (a refusal's, and `DPoP-Nonce`), or `undefined` to set none.
   * Default: the HTTP response. Override for GraphQL:
   * `GqlExecutionContext.create(context).getContext().res`.
   */
  protected getResponse(context: ExecutionContext): unknown {
    return context.switchToHttp().getResponse<unknown>()
  }

  /**
   * The core policies the route needs, already checked by `definePolicy`: from its
   * `@RequireScopes`, `@RequireAnyScope`, `@RequireClaims` and `@RequirePolicy`, each taken from
   * the method, else from the class. All must hold.
   */
  protected getPolicies(context: ExecutionContext): AccessPolicy[] {
    const targets = [context.getHandler(), context.getClass()]
    const policies: AccessPolicy[] = []
    for (const decorator of POLICY_DECORATORS) {
      const policy = this.reflector.getAllAndOverride(decorator, targets) as
        AccessPolicy | undefined
      if (policy !== undefined) policies.push(policy)
    }
    return policies
  }

  /**
   * Turns a failure into what Nest sends. A bearer-guard refusal sets its headers on the response
   * (through the platform's `HttpAdapterHost`) and becomes a {@link BearerGuardException}; any
   * other error is rethrown as is (a 500: a bug, not a client error).
   *
   * Override to change how refusals are delivered (e.g. GraphQL errors); it must throw.
   */
  protected handleError(error: unknown, context: ExecutionContext): never {
    if (!isBearerGuardError(error)) throw error
    this.setHeaders(context, error.headers)
    throw new BearerGuardException(error)
  }

  /**
   * Sets headers on the response of {@link BearerGuard.getResponse} through the platform's
   * `HttpAdapterHost` (Express or Fastify alike); nothing when there is no response, or once it is
   * sent.
   */
  private setHeaders(context: ExecutionContext, headers: Readonly<Record<string, string>>): void {
    const response = this.getResponse(context)
    const adapter = this.adapterHost.httpAdapter as HttpAdapterHost['httpAdapter'] | undefined
    if (response == null || adapter === undefined || adapter.isHeadersSent(response)) return
    for (const [name, value] of Object.entries(headers)) adapter.setHeader(response, name, value)
  }
}

/** The request's raw parts, as core reads them: the one place this adapter maps a request. */
function toBearerRequest(request: BearerGuardRequest): BearerRequest {
  return {
    method: request.method,
    url: request.originalUrl ?? request.url,
    headers: request.headers,
    query: request.query,
    body: request.body,
    socket: request.socket ?? request.raw?.socket,
  }
}
