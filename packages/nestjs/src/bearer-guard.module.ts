import { resolveValidator, type AccessTokenValidator } from '@bearer-guard/core'
import { Global, Module, type FactoryProvider } from '@nestjs/common'
import { BEARER_GUARD_VALIDATOR } from './bearer-guard.constants.js'
import type { BearerGuardModuleOptions } from './bearer-guard.interfaces.js'
import {
  BEARER_GUARD_OPTIONS,
  ConfigurableBearerGuardModule,
} from './bearer-guard.module-definition.js'

const validatorProvider: FactoryProvider<AccessTokenValidator> = {
  provide: BEARER_GUARD_VALIDATOR,
  // Built once, so bad options fail the application's start-up.
  useFactory: (options: BearerGuardModuleOptions) => resolveValidator(options),
  inject: [BEARER_GUARD_OPTIONS],
}

/**
 * Provides the core access-token validator, built once from the options, under
 * {@link BEARER_GUARD_VALIDATOR} for {@link BearerGuard}. Import it once, in the root module; it
 * is global, so guards in every module find the validator.
 *
 * Protect routes with `@UseGuards(BearerGuard)`, or every route with
 * `{ provide: APP_GUARD, useClass: BearerGuard }` and `@Public()` on the exceptions.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     BearerGuardModule.forRoot({
 *       issuer: 'https://auth.example.com/',
 *       audience: 'https://api.example.com',
 *     }),
 *   ],
 *   providers: [{ provide: APP_GUARD, useClass: BearerGuard }],
 * })
 * export class AppModule {}
 * ```
 *
 * @example Options from `@nestjs/config`:
 * ```ts
 * BearerGuardModule.forRootAsync({
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({
 *     issuer: config.getOrThrow<string>('ISSUER'),
 *     audience: config.getOrThrow<string>('AUDIENCE'),
 *   }),
 * })
 * ```
 */
@Global()
@Module({
  providers: [validatorProvider],
  exports: [BEARER_GUARD_VALIDATOR],
})
export class BearerGuardModule extends ConfigurableBearerGuardModule {}
