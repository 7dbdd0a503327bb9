import type { AccessTokenValidator, ValidatorSource } from '@bearer-guard/core'
import { resolveValidator, type AdapterOptionNames } from '@bearer-guard/core/adapter'
import { checkMetadataOptions, type BearerGuardMetadataOptions } from './metadata.js'

/** The options the plugin takes besides the validator's: every other key is refused. */
const ADAPTER_OPTIONS: AdapterOptionNames = Object.freeze({
  where: 'the bearerGuard plugin',
  options: Object.freeze(['errors', 'protect', 'hook', 'metadata']),
})

/**
 * Options of the Fastify adapter itself, shared by both forms of {@link BearerGuardOptions}.
 */
export interface BearerGuardAdapterOptions {
  /**
   * How refusals (400, 401, 403, 503) are delivered. Default: `'respond'`.
   *
   * - `'respond'`: answered by the guard with the status, `WWW-Authenticate` (and `Retry-After`)
   *   headers and the RFC 6750 JSON body `{ error, error_description }`.
   * - `'throw'`: thrown from the hook, so the encapsulation context's error handler
   *   (`setErrorHandler`) receives it. The error carries `statusCode`, `headers`, `body` and
   *   `toJSON()`; Fastify's default handler honours the status and headers but sends its own body.
   */
  readonly errors?: 'respond' | 'throw'
  /**
   * Which routes are guarded. Default: `'all'`.
   *
   * - `'all'`: every route declared after the plugin in its encapsulation context needs a valid
   *   token, unless its options say `config: { auth: false }`.
   * - `'none'`: only routes whose options declare `config: { auth: true }`, `'optional'` or a
   *   policy.
   *
   * @remarks Security: `'all'` fails closed; a route someone forgets to annotate stays protected.
   */
  readonly protect?: 'all' | 'none'
  /**
   * The request lifecycle hook the guard runs in. Default: `'preHandler'` when the validator
   * options enable `allowFormBody` (the body is parsed only by then), else `'onRequest'`, which
   * refuses before the body is even read. Set `'preHandler'` yourself when a prebuilt `validator`
   * accepts form-body tokens.
   */
  readonly hook?: 'onRequest' | 'preHandler'
  /**
   * The RFC 9728 protected resource metadata document, served when the validator has a
   * `resource`: `GET` of its well-known path (RFC 9728 §3.1), public, with `scopes_supported`
   * collected from the routes' `config.auth` policies plus `scopes`. `false`: not served (serve it
   * yourself). Default: `{}` (served, with the collected scopes). Given without `resource`, an
   * object throws a `TypeError`: nothing would be served.
   */
  readonly metadata?: false | BearerGuardMetadataOptions
}

/**
 * Options of the `bearerGuard` plugin: either the options of core's `createAccessTokenValidator`
 * (`issuer` and `audience` are required), or a prebuilt `validator` to share between contexts,
 * each with the {@link BearerGuardAdapterOptions}.
 */
export type BearerGuardOptions = ValidatorSource & BearerGuardAdapterOptions

/** Options after defaults and checks; internal. */
export interface ResolvedOptions {
  readonly validator: AccessTokenValidator
  readonly errors: 'respond' | 'throw'
  readonly protect: 'all' | 'none'
  readonly hook: 'onRequest' | 'preHandler'
  /** `false`: no metadata route; else the extra scopes of the document. */
  readonly metadata: false | readonly string[]
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (value === undefined) return allowed[0] as T
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new TypeError(
      `bearer-guard: "${name}" must be ${allowed.map((a) => `"${a}"`).join(' or ')}`,
    )
  }
  return value as T
}

/**
 * Checks the plugin options once, at registration, and builds the validator. An option neither
 * the plugin nor the validator knows (`protcet`) is refused, naming the closest known one.
 */
export function resolveOptions(options: BearerGuardOptions | undefined): ResolvedOptions {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new TypeError('bearer-guard: the bearerGuard plugin needs an options object')
  }
  const validator = resolveValidator(options, ADAPTER_OPTIONS)
  const errors = oneOf('errors', options.errors, ['respond', 'throw'] as const)
  const protect = oneOf('protect', options.protect, ['all', 'none'] as const)
  const formBody = validator.allowFormBody
  const hook = oneOf('hook', options.hook ?? (formBody ? 'preHandler' : undefined), [
    'onRequest',
    'preHandler',
  ] as const)
  if (formBody && hook === 'onRequest') {
    throw new TypeError(
      'bearer-guard: "allowFormBody" needs "hook": "preHandler" (the body is not parsed at onRequest)',
    )
  }
  const metadata = checkMetadataOptions(options.metadata)
  return { validator, errors, protect, hook, metadata }
}
