import {
  authorize,
  type AccessPolicy,
  type BearerRequest,
  type ValidatorSource,
  type VerifiedAccessToken,
} from '@bearer-guard/core'
import {
  resolveValidator,
  responseHeaders,
  verifyRequestCallback,
  watchExpiry,
  type AdapterOptionNames,
} from '@bearer-guard/core/adapter'
import {
  Metadata,
  ServerInterceptingCall,
  status,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type ServerMethodDefinition,
} from '@grpc/grpc-js'
import { accessTable, isPublic, type Rule, type ServiceAccess } from './access.js'
import { attach } from './auth.js'
import { checkLogger, reportKeySetFailures, warn, type BearerGuardLogger } from './logger.js'
import { toBearerRequest } from './request.js'
import { refusalStatus, type CallStatus } from './status.js'

/** The options `bearerGuard()` takes besides the validator's: every other key is refused. */
const ADAPTER_OPTIONS: AdapterOptionNames = Object.freeze({
  where: 'bearerGuard()',
  options: Object.freeze(['services', 'logger']),
})

/** Options of the gRPC adapter itself, shared by both forms of {@link BearerGuardOptions}. */
export interface BearerGuardAdapterOptions {
  /**
   * What each method of each service of the server needs, one {@link serviceAccess} per service.
   * Required. A call to a method that none declares (a service added to the server but not here)
   * is refused with `PERMISSION_DENIED` whatever its credentials, and reported once through
   * `logger`: nothing is reachable by omission.
   */
  readonly services: readonly ServiceAccess[]
  /**
   * Where the guard reports what an operator must see, one line each, never with token content:
   * the start of each key-set failure episode (the issuer's keys cannot be obtained, e.g. a
   * discovery document naming another issuer, so calls get `UNAVAILABLE` until they can), a call
   * to a method no {@link serviceAccess} declares, and an unexpected error while verifying.
   * Default: `console` (`console.warn`); any object with `warn(message)` fits (pino, winston…);
   * `false` silences all three.
   */
  readonly logger?: BearerGuardLogger | false
}

/**
 * Options of {@link bearerGuard}: either the options of core's `createAccessTokenValidator`
 * (`issuer` and `audience` are required; `dpop`, `mtls`, `revocation`, presets… as for HTTP), or
 * a prebuilt `validator` shared with other guards, each with the {@link BearerGuardAdapterOptions}.
 */
export type BearerGuardOptions = ValidatorSource & BearerGuardAdapterOptions

/** The interceptor {@link bearerGuard} returns: give it to `new Server({ interceptors })`. */
export interface BearerGuardInterceptor extends ServerInterceptor {
  /**
   * Loads the issuers' discovery documents and keys now instead of at the first call, e.g. before
   * `bindAsync()` or in a readiness probe. Rejects with core's `KeySetUnavailableError` when they
   * cannot be obtained; the guard stays usable and tries again on the next call.
   */
  ready(): Promise<void>
}

/** The refusal of a method no serviceAccess() declares: deny by default. */
function undeclaredStatus(): CallStatus {
  return {
    code: status.PERMISSION_DENIED,
    details: 'No access rule is declared for this method',
    metadata: new Metadata(),
  }
}

/** Runs `policy` (sync unless its `claims` check is async); `done(null)` when it grants access. */
function authorizeThen(
  auth: VerifiedAccessToken,
  policy: AccessPolicy | undefined,
  done: (refusal: unknown) => void,
): void {
  if (policy === undefined) {
    done(null)
    return
  }
  let outcome: void | Promise<void>
  try {
    outcome = authorize(auth, policy)
  } catch (error) {
    done(error)
    return
  }
  if (outcome instanceof Promise) {
    outcome.then(
      () => {
        done(null)
      },
      (error: unknown) => {
        done(error)
      },
    )
  } else done(null)
}

/** What core asks a verified call's response to carry (RFC 9449 §8.2: a fresh `DPoP-Nonce`). */
function addResponseHeaders(metadata: Metadata, request: BearerRequest | undefined): void {
  const headers = request === undefined ? undefined : responseHeaders(request)
  if (headers === undefined) return
  for (const [name, value] of Object.entries(headers)) metadata.set(name.toLowerCase(), value)
}

/** Refuses `allowQuery` and `allowFormBody`: a gRPC call has neither a query nor a form body. */
function checkTransport(options: BearerGuardOptions, formBody: boolean): void {
  const given = options as { readonly allowQuery?: unknown; readonly allowFormBody?: unknown }
  for (const [name, enabled] of [
    ['allowQuery', given.allowQuery === true],
    ['allowFormBody', given.allowFormBody === true || formBody],
  ] as const) {
    if (enabled) {
      throw new TypeError(
        `bearer-guard: bearerGuard() cannot use '${name}': a gRPC call has no query or form body, its token comes in the 'authorization' metadata`,
      )
    }
  }
}

/**
 * Creates a `@grpc/grpc-js` server interceptor that verifies the OAuth 2.0 access token of every
 * call (RFC 6750 `Bearer`, and RFC 9449 `DPoP` when `dpop` is configured) from its
 * `authorization` metadata with `@bearer-guard/core`, and enforces what {@link serviceAccess}
 * declares for the method. A verified call reaches its handler, which reads the token with
 * `getAuth(call)`; a refused call never does, and ends with `UNAUTHENTICATED`,
 * `PERMISSION_DENIED` or `UNAVAILABLE`, core's description as the status details and the RFC 6750
 * challenge in the `www-authenticate` trailing metadata.
 *
 * Streaming calls are verified once, when they start; one that outlives its token is ended with
 * `UNAUTHENTICATED` when core stops accepting the token (`exp` plus `clockTolerance`).
 *
 * The validator is built once, here: bad options, options it does not know (`clockTolerence`),
 * and invalid or incomplete `services` throw a `TypeError` at start-up, never per call.
 *
 * @remarks Security: list the guard **first** in `interceptors`, so that no other interceptor sees
 * a call (or logs its metadata) before it is verified, and so that none before it can replace the
 * call's metadata, which is where `getAuth()` finds the token.
 *
 * @example
 * ```ts
 * const guard = bearerGuard({
 *   issuer: 'https://auth.example.com/',
 *   audience: 'https://api.example.com',
 *   services: [
 *     serviceAccess(ordersService, {
 *       ListOrders: { allOf: ['orders:read'] },
 *       CreateOrder: { allOf: ['orders:write'] },
 *       DeleteOrder: { allOf: ['orders:write', 'orders:admin'] },
 *       WatchOrders: { allOf: ['orders:read'] },
 *     }),
 *     serviceAccess(healthService, 'public'),
 *   ],
 * })
 * const server = new Server({ interceptors: [guard] })
 * ```
 */
export function bearerGuard(options: BearerGuardOptions): BearerGuardInterceptor {
  const validator = resolveValidator(options, ADAPTER_OPTIONS)
  checkTransport(options, validator.allowFormBody)
  const table = accessTable(options.services)
  const logger = checkLogger(options.logger)
  reportKeySetFailures(validator, logger)
  const reported = new Set<string>()

  /** Calls to a registered method no serviceAccess() declares: refused, reported once per path. */
  function undeclared(path: string, call: ServerInterceptingCallInterface): ServerInterceptingCall {
    if (!reported.has(path)) {
      reported.add(path)
      warn(
        logger,
        `bearer-guard: calls to ${path} are refused (PERMISSION_DENIED): no serviceAccess() in bearerGuard({ services }) declares this method; declare it ('public' if it needs no token)`,
      )
    }
    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata() {
            call.sendStatus(undeclaredStatus())
          },
        })
      },
    })
  }

  /**
   * A refusal: at the start of a call, straight to the caller (the handler never runs); for a
   * stream whose token expired, through the guard's own call. Never throws.
   */
  function refuse(call: ServerInterceptingCallInterface, path: string, error: unknown): void {
    let refusal: CallStatus
    try {
      refusal = refusalStatus(error)
    } catch (cause) {
      refusal = refusalStatus(cause)
    }
    if (refusal.code === status.INTERNAL) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : typeof error
      warn(logger, `bearer-guard: verifying a call to ${path} failed unexpectedly (${reason})`)
    }
    try {
      call.sendStatus(refusal)
    } catch {
      // The call is gone: there is no one left to answer.
    }
  }

  function guarded(
    path: string,
    rule: Rule,
    call: ServerInterceptingCallInterface,
  ): ServerInterceptingCall {
    let request: BearerRequest | undefined
    let stopWatching: (() => void) | undefined
    let metadataSent = false
    const self: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, pass) {
            // grpc-js does not catch what an interceptor throws (gRFC L112): nothing may escape,
            // on the synchronous path or in a callback after keys were fetched.
            const safely = (step: () => void): void => {
              try {
                step()
              } catch (error) {
                refuse(call, path, error)
              }
            }
            const bearerRequest = (request = toBearerRequest(path, metadata, call))
            const admit = (auth: VerifiedAccessToken): void => {
              attach(metadata, auth)
              if (rule.streaming) {
                // Ended through this call, so that its own sendStatus stops the watch.
                stopWatching = watchExpiry(validator, bearerRequest, auth, (expired) => {
                  refuse(self, path, expired)
                })
              }
              pass(metadata)
            }
            safely(() => {
              verifyRequestCallback(
                validator,
                bearerRequest,
                (error, auth) => {
                  safely(() => {
                    if (error !== null || (auth === undefined && !rule.optional)) {
                      refuse(call, path, error)
                    } else if (auth === undefined) {
                      attach(metadata, undefined)
                      pass(metadata)
                    } else {
                      authorizeThen(auth, rule.policy, (refusal) => {
                        safely(() => {
                          if (refusal === null) admit(auth)
                          else refuse(call, path, refusal)
                        })
                      })
                    }
                  })
                },
                rule.optional,
              )
            })
          },
          onCancel() {
            stopWatching?.()
          },
        })
      },
      sendMetadata(metadata, next) {
        metadataSent = true
        addResponseHeaders(metadata, request)
        next(metadata)
      },
      sendStatus(outcome, next) {
        stopWatching?.()
        // A response without messages is trailers-only: the nonce travels there (RFC 9449 §8.2).
        if (!metadataSent && request !== undefined && responseHeaders(request) !== undefined) {
          const metadata = outcome.metadata?.clone() ?? new Metadata()
          addResponseHeaders(metadata, request)
          next({ ...outcome, metadata })
          return
        }
        next(outcome)
      },
    })
    return self
  }

  function interceptor(
    method: ServerMethodDefinition<unknown, unknown>,
    call: ServerInterceptingCallInterface,
  ): ServerInterceptingCall {
    const rule = table.get(method.path)
    if (rule === undefined) return undeclared(method.path, call)
    if (isPublic(rule)) return new ServerInterceptingCall(call)
    return guarded(method.path, rule, call)
  }

  return Object.assign(interceptor, {
    ready: (): Promise<void> => validator.ready(),
  })
}
