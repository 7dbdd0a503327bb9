import { assertKnownOptions } from './options/names.js'
import {
  VALIDATOR_OPTION_NAMES,
  type AccessTokenValidatorOptions,
} from './options/validator-options.js'
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

/** The adapter's own options, accepted beside the validator's. */
export interface AdapterOptionNames {
  /** The API named in errors, e.g. `'bearerGuard()'`. */
  readonly where: string
  /** The adapter's own option names (`errors`, `protect`…). */
  readonly options: readonly string[]
}

const cache = new WeakMap<AdapterOptionNames, { full: Set<string>; prebuilt: Set<string> }>()

function namesOf(adapter: AdapterOptionNames): { full: Set<string>; prebuilt: Set<string> } {
  let names = cache.get(adapter)
  if (names === undefined) {
    names = {
      full: new Set([...VALIDATOR_OPTION_NAMES, ...adapter.options]),
      prebuilt: new Set(['validator', ...adapter.options]),
    }
    cache.set(adapter, names)
  }
  return names
}

/**
 * The validator an adapter should use: the given one, or one built from the options. The one
 * place where every adapter checks this, once, at start-up: an option that is neither the
 * adapter's nor the validator's is refused with the closest known name (`clockTolerence` →
 * `clockTolerance`).
 *
 * @throws `TypeError` for a missing options object, an unknown option, a `validator` that is not
 * one, a `validator` given together with validator options, or invalid validator options.
 */
export function resolveValidator(
  source: ValidatorSource,
  adapter: AdapterOptionNames = { where: 'bearerGuard()', options: [] },
): AccessTokenValidator {
  if (typeof source !== 'object' || (source as unknown) === null) {
    throw new TypeError('bearer-guard: options must be an object')
  }
  const names = namesOf(adapter)
  if (source.validator === undefined) {
    assertKnownOptions(source, names.full, adapter.where)
    const own = new Set(adapter.options)
    const validatorOptions: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(source)) {
      if (!own.has(key) && key !== 'validator') validatorOptions[key] = value
    }
    return createAccessTokenValidator(validatorOptions as unknown as AccessTokenValidatorOptions)
  }
  const { validator } = source
  if (typeof (validator as Partial<AccessTokenValidator>).verifyRequest !== 'function') {
    throw new TypeError('bearer-guard: "validator" must come from createAccessTokenValidator()')
  }
  for (const key of Object.keys(source)) {
    if (VALIDATOR_OPTION_NAMES.has(key)) {
      throw new TypeError(
        `bearer-guard: pass either a prebuilt "validator" or validator options ('${key}'), not both`,
      )
    }
  }
  assertKnownOptions(source, names.prebuilt, adapter.where)
  return validator
}
