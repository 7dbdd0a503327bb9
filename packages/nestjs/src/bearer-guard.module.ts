import type { AccessTokenValidator } from '@bearer-guard/core'
import {
  assertKnownOptions,
  resolveValidator,
  type AdapterOptionNames,
} from '@bearer-guard/core/adapter'
import { Global, Module, type DynamicModule, type FactoryProvider } from '@nestjs/common'
import { DiscoveryModule } from '@nestjs/core'
import { BEARER_GUARD_VALIDATOR } from './bearer-guard.constants.js'
import type { BearerGuardModuleOptions } from './bearer-guard.interfaces.js'
import { KeySetFailureReporter } from './bearer-guard.logger.js'
import { ResourceMetadataRoute } from './bearer-guard.metadata.js'
import {
  BEARER_GUARD_OPTIONS,
  ConfigurableBearerGuardModule,
  type BearerGuardModuleAsyncOptions,
} from './bearer-guard.module-definition.js'
import { BearerGuardReadiness } from './bearer-guard.readiness.js'

/**
 * The module takes the validator's options and its own `metadata`, nothing else (no builder
 * extras): any other key, from `forRoot` or a `forRootAsync` factory, is refused with the closest
 * known name.
 */
const MODULE_OPTIONS: AdapterOptionNames = Object.freeze({
  where: 'BearerGuardModule',
  options: Object.freeze(['metadata']),
})

/** What Nest's `forRootAsync` understands (Nest 11 and 12); a misspelt `useFactory` is refused. */
const ASYNC_OPTION_NAMES: ReadonlySet<string> = new Set([
  'imports',
  'inject',
  'useFactory',
  'useClass',
  'useExisting',
  'provideInjectionTokensFrom',
])

const validatorProvider: FactoryProvider<AccessTokenValidator> = {
  provide: BEARER_GUARD_VALIDATOR,
  // Built once, so bad options fail the application's start-up.
  useFactory: (options: BearerGuardModuleOptions) => resolveValidator(options, MODULE_OPTIONS),
  inject: [BEARER_GUARD_OPTIONS],
}

/**
 * Provides the core access-token validator, built once from the options, under
 * {@link BEARER_GUARD_VALIDATOR} for {@link BearerGuard}, and {@link BearerGuardReadiness} for
 * readiness probes. Import it once, in the root module; it is global, so guards in every module
 * find the validator. Options it does not know (`audiance`) fail the start-up with a `TypeError`
 * naming the closest known one. Each key-set failure episode (the issuer's keys cannot be
 * obtained, so guarded requests get 503) is logged once, as a warning of Nest's `Logger` with
 * context `BearerGuard`.
 *
 * Protect routes with `@UseGuards(BearerGuard)`, or every route with
 * `{ provide: APP_GUARD, useClass: BearerGuard }` and `@Public()` on the exceptions.
 *
 * With core's `resource` option, the module also serves the RFC 9728 protected resource metadata
 * at its well-known path (e.g. `GET /.well-known/oauth-protected-resource/mcp` for
 * `https://api.example.com/mcp`), public and readable from any origin, with `scopes_supported`
 * collected from the controllers' `@RequireScopes`, `@RequireAnyScope` and `@RequirePolicy`;
 * `metadata: false` turns it off.
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
  imports: [DiscoveryModule],
  providers: [
    validatorProvider,
    BearerGuardReadiness,
    KeySetFailureReporter,
    ResourceMetadataRoute,
  ],
  exports: [BEARER_GUARD_VALIDATOR, BearerGuardReadiness],
})
export class BearerGuardModule extends ConfigurableBearerGuardModule {
  /**
   * The module with options built by a factory (`useFactory` with `inject`, or `useClass` /
   * `useExisting` with a {@link BearerGuardOptionsFactory}), e.g. from `ConfigService`.
   *
   * @throws `TypeError` for a key Nest's `forRootAsync` does not know (`useFactroy`), naming the
   * closest; the options the factory returns are checked like those of `forRoot`, at start-up.
   */
  static override forRootAsync(options: BearerGuardModuleAsyncOptions): DynamicModule {
    if (typeof options === 'object' && (options as unknown) !== null) {
      assertKnownOptions(options, ASYNC_OPTION_NAMES, 'BearerGuardModule.forRootAsync()')
    }
    return super.forRootAsync(options)
  }
}
