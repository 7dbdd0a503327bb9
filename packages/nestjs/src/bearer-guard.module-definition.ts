import { ConfigurableModuleBuilder } from '@nestjs/common'
import type { BearerGuardModuleOptions } from './bearer-guard.interfaces.js'

// `forRoot`/`forRootAsync` (with `useFactory`, `useClass`, `useExisting`) come from Nest's builder,
// as in @nestjs/throttler; the options token is Nest's own, the validator token ours.
const definition = new ConfigurableModuleBuilder<BearerGuardModuleOptions>({
  moduleName: 'BearerGuard',
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createBearerGuardOptions')
  .build()

/** The module class {@link BearerGuardModule} extends (internal). */
export const ConfigurableBearerGuardModule = definition.ConfigurableModuleClass

/**
 * Injection token of the {@link BearerGuardModuleOptions} given to `forRoot`/`forRootAsync`, as
 * given (the validator is built from them under {@link BEARER_GUARD_VALIDATOR}).
 */
export const BEARER_GUARD_OPTIONS = definition.MODULE_OPTIONS_TOKEN

/**
 * The options of {@link BearerGuardModule.forRootAsync}: `imports`, `inject` and `useFactory`
 * (or `useClass`/`useExisting` of a {@link BearerGuardOptionsFactory}).
 */
export type BearerGuardModuleAsyncOptions = typeof definition.ASYNC_OPTIONS_TYPE

/**
 * A class that creates the {@link BearerGuardModuleOptions}, for
 * `forRootAsync({ useClass })`.
 */
export interface BearerGuardOptionsFactory {
  /** Returns the module options, or a promise of them. */
  createBearerGuardOptions(): BearerGuardModuleOptions | Promise<BearerGuardModuleOptions>
}
