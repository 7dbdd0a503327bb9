import type { AccessTokenValidatorOptions } from './options.js'
import { createAccessTokenValidator, type AccessTokenValidator } from './validator.js'

/**
 * What an adapter is configured with: the options of {@link createAccessTokenValidator}, or a
 * validator built already (to share one key set between several guards).
 */
export type ValidatorSource =
  | (AccessTokenValidatorOptions & { readonly validator?: never })
  | {
      /** A validator from {@link createAccessTokenValidator}, used as is. */
      readonly validator: AccessTokenValidator
      /** Configure the prebuilt validator instead. */
      readonly issuer?: never
      /** Configure the prebuilt validator instead. */
      readonly audience?: never
    }

/**
 * The validator an adapter should use: the given one, or one built from the options (other
 * members of the object, such as the adapter's own options, are ignored). The one place where
 * every adapter checks this, once, at start-up.
 *
 * @throws `TypeError` for a missing options object, a `validator` that is not one, a `validator`
 * given together with `issuer`/`audience`, or invalid validator options.
 */
export function resolveValidator(source: ValidatorSource): AccessTokenValidator {
  if (typeof source !== 'object' || (source as unknown) === null) {
    throw new TypeError('bearer-guard: options must be an object')
  }
  if (source.validator === undefined) return createAccessTokenValidator(source)
  const { validator } = source
  if (typeof (validator as Partial<AccessTokenValidator>).verifyRequest !== 'function') {
    throw new TypeError('bearer-guard: "validator" must come from createAccessTokenValidator()')
  }
  const given = source as { readonly issuer?: unknown; readonly audience?: unknown }
  if (given.issuer !== undefined || given.audience !== undefined) {
    throw new TypeError(
      'bearer-guard: pass either a prebuilt "validator" or validator options, not both',
    )
  }
  return validator
}
