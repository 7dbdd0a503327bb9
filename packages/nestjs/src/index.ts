/**
 * `@bearer-guard/nestjs`: a NestJS module, guard and decorators protecting routes with OAuth 2.0
 * bearer access tokens (RFC 6750, RFC 9068), on `@nestjs/platform-express` and
 * `@nestjs/platform-fastify`. All validation lives in `@bearer-guard/core`; this package reads the
 * request, enforces route metadata and turns refusals into `HttpException`s.
 *
 * @example
 * ```ts
 * import { Controller, Get, Module } from '@nestjs/common'
 * import { APP_GUARD } from '@nestjs/core'
 * import {
 *   Auth,
 *   BearerGuard,
 *   BearerGuardModule,
 *   Public,
 *   RequireScopes,
 *   type VerifiedAccessToken,
 * } from '@bearer-guard/nestjs'
 *
 * @Controller()
 * class AppController {
 *   @Public() @Get('health') health() { return { status: 'ok' } }
 *   @RequireScopes('orders:read') @Get('orders') orders(@Auth() auth: VerifiedAccessToken) { return [] }
 * }
 *
 * @Module({
 *   imports: [BearerGuardModule.forRoot({ issuer: 'https://auth.example.com/', audience: 'https://api.example.com' })],
 *   controllers: [AppController],
 *   providers: [{ provide: APP_GUARD, useClass: BearerGuard }],
 * })
 * export class AppModule {}
 * ```
 *
 * @packageDocumentation
 */
export { Auth } from './auth.decorator.js'
export { BEARER_GUARD_VALIDATOR } from './bearer-guard.constants.js'
export { BearerGuardException } from './bearer-guard.exception.js'
export type {
  BearerGuardMetadataOptions,
  BearerGuardModuleAdapterOptions,
  BearerGuardModuleOptions,
  BearerGuardRequest,
} from './bearer-guard.interfaces.js'
export { BEARER_GUARD_OPTIONS } from './bearer-guard.module-definition.js'
export type {
  BearerGuardModuleAsyncOptions,
  BearerGuardOptionsFactory,
} from './bearer-guard.module-definition.js'
export { BearerGuardModule } from './bearer-guard.module.js'
export { BearerGuardReadiness } from './bearer-guard.readiness.js'
export { BearerGuard } from './bearer.guard.js'
export {
  RequireAnyScope,
  RequireClaims,
  RequirePolicy,
  RequireScopes,
} from './policy.decorators.js'
export { OptionalAuth, Public } from './public.decorator.js'
export { BearerGuardError, definePolicy, isBearerGuardError } from '@bearer-guard/core'
export type {
  AccessPolicy,
  AccessTokenClaims,
  AccessTokenValidator,
  AccessTokenValidatorOptions,
  AnyBearerGuardError,
  VerifiedAccessToken,
} from '@bearer-guard/core'
