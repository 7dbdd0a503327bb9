import type { BearerRequest, ValidatorSource } from '@bearer-guard/core'
import {
  isCorsPreflight,
  resolveValidator,
  responseHeaders,
  verifyRequestCallback,
  type AdapterOptionNames,
} from '@bearer-guard/core/adapter'
import { checkLogger, reportKeySetFailures, type BearerGuardLogger } from './logger.js'
import {
  checkMetadataOptions,
  createMetadataMiddleware,
  type BearerGuardMetadataOptions,
} from './metadata.js'
import { watchPlacement } from './placement.js'
import {
  checkErrorMode,
  refuse,
  rememberAnonymous,
  rememberErrorMode,
  type ErrorMode,
} from './refusal.js'
import { setAuth } from './request-auth.js'
import type {
  BearerGuardHandler,
  BearerGuardMiddleware,
  BearerGuardRequest,
  BearerGuardResponse,
} from './types.js'

/** The options `bearerGuard()` takes besides the validator's: every other key is refused. */
const ADAPTER_OPTIONS: AdapterOptionNames = Object.freeze({
  where: 'bearerGuard()',
  options: Object.freeze(['errors', 'logger', 'metadata']),
})

/** Options of the Express adapter itself, shared by both forms of {@link BearerGuardOptions}. */
export interface BearerGuardAdapterOptions {
  /**
   * How refusals (400, 401, 403, 503) are delivered. Default: `'respond'`.
   *
   * - `'respond'`: answered here with the status, `WWW-Authenticate` (and `Retry-After`) headers
   *   and the RFC 6750 JSON body `{ error, error_description }`.
   * - `'next'`: passed to `next(err)`. The error carries `status`, `statusCode`, `headers`,
   *   `expose` and `toJSON()`, so Express's default handler or your own can render it.
   *
   * The route helpers (`requireScopes()`…) refuse the same way as the guard before them.
   */
  readonly errors?: ErrorMode
  /**
   * Where the guard reports what an operator must see, one line each, never with token content:
   * the start of each key-set failure episode (the issuer's keys cannot be obtained, e.g. a
   * discovery document naming another issuer, so requests get 503 until they can), and a guard
   * mounted after every route (it then guards nothing). Default: `console` (`console.warn`);
   * any object with `warn(message)` fits (pino, winston…); `false` silences both.
   */
  readonly logger?: BearerGuardLogger | false
  /**
   * The RFC 9728 metadata document `guard.metadata` serves, when the validator has a `resource`:
   * `scopes` adds scopes to those collected from the routes. Default: `{}` (the collected scopes
   * only). Given without `resource`, it throws a `TypeError`: nothing would be served.
   */
  readonly metadata?: BearerGuardMetadataOptions
}

/**
 * Options of {@link bearerGuard}: either the options of core's `createAccessTokenValidator`
 * (`issuer` and `audience` are required), or a prebuilt `validator` to share between guards,
 * each with the {@link BearerGuardAdapterOptions}.
 */
export type BearerGuardOptions = ValidatorSource & BearerGuardAdapterOptions

/**
 * Creates Express 4/5 middleware that requires a valid OAuth 2.0 bearer access token on every
 * route after it (mount it on an app or on a router). On success it sets `req.auth` to the
 * verified token (and, with DPoP nonces, a fresh `DPoP-Nonce` response header when one is due,
 * RFC 9449 §8.2) and calls `next()`; otherwise it refuses per RFC 6750 (or RFC 9449 for DPoP).
 *
 * The validator is built once, here: bad options, and options it does not know (`clockTolerence`),
 * throw a `TypeError` at start-up, never per request. Tokens are read from the `Authorization`
 * header only, unless `allowQuery` or `allowFormBody` is enabled (the latter needs
 * `express.urlencoded()` before the guard). CORS preflights (`OPTIONS` with `Origin` and
 * `Access-Control-Request-Method`, no `Authorization`) pass through untouched, so `cors()` may
 * come before or after the guard. `guard.ready()` loads the issuer's keys now, for a readiness
 * probe. With core's `resource` option, `guard.metadata` is the middleware serving the RFC 9728
 * metadata document; mount it before the guard.
 *
 * @remarks Security: routes declared **before** the guard are public. Declare the routes it must
 * protect after `app.use(bearerGuard(…))`; a guard mounted after every route guards nothing, and
 * is reported through `logger`.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { bearerGuard, requireScopes } from '@bearer-guard/express'
 *
 * const app = express()
 * app.use(bearerGuard({ issuer: 'https://auth.example.com/', audience: 'https://api.example.com' }))
 * app.get('/orders', requireScopes('orders:read'), (req, res) => {
 *   res.json({ for: req.auth?.claims.sub })
 * })
 * ```
 */
export function bearerGuard(options: BearerGuardOptions): BearerGuardHandler {
  const validator = resolveValidator(options, ADAPTER_OPTIONS)
  const mode = checkErrorMode(options.errors)
  const logger = checkLogger(options.logger)
  const metadataScopes = checkMetadataOptions(options.metadata)
  const metadata = createMetadataMiddleware(validator, metadataScopes)
  if (metadata === undefined && options.metadata !== undefined) {
    throw new TypeError(
      'bearer-guard: "metadata" needs "resource": without a resource identifier there is no RFC 9728 document to serve',
    )
  }
  reportKeySetFailures(validator, logger)

  let firstRequest = true
  const middleware: BearerGuardMiddleware = function bearerGuardMiddleware(req, res, next): void {
    if (firstRequest) {
      firstRequest = false
      checkPlacement(req)
    }
    // Browsers send preflights without credentials: they belong to the CORS handler.
    if (isCorsPreflight(req.method, req.headers)) {
      next()
      return
    }
    // Callback form: a cached token calls `next()` in the same tick, without a promise.
    const request = toBearerRequest(req)
    verifyRequestCallback(validator, request, (error, auth) => {
      if (auth === undefined) {
        refuse(error, mode, res, next)
        return
      }
      setAuth(req, auth)
      setResponseHeaders(res, request)
      rememberErrorMode(req, mode)
      next()
    })
  }
  const checkPlacement = watchPlacement(middleware, logger)
  const optional: BearerGuardMiddleware = function bearerGuardOptional(req, res, next): void {
    if (isCorsPreflight(req.method, req.headers)) {
      next()
      return
    }
    const request = toBearerRequest(req)
    verifyRequestCallback(
      validator,
      request,
      (error, auth) => {
        if (error !== null) {
          refuse(error, mode, res, next)
          return
        }
        if (auth !== undefined) {
          setAuth(req, auth)
          setResponseHeaders(res, request)
        } else rememberAnonymous(req, validator.realm)
        rememberErrorMode(req, mode)
        next()
      },
      true,
    )
  }
  const guard = Object.assign(middleware, {
    ready: (): Promise<void> => validator.ready(),
    optional,
  })
  // A getter, so that using it without `resource` fails where it is mounted, at start-up.
  return Object.defineProperty(guard, 'metadata', {
    get(): BearerGuardMiddleware {
      if (metadata === undefined) {
        throw new TypeError(
          'bearer-guard: guard.metadata serves the RFC 9728 document of the "resource" option, which this guard does not have',
        )
      }
      return metadata
    },
  }) as BearerGuardHandler
}

/**
 * Sets what core asks the response to a verified request to carry (a DPoP nonce handed out ahead
 * of the next step, RFC 9449 §8.2); usually nothing. `request` is the object core verified.
 */
function setResponseHeaders(res: BearerGuardResponse, request: BearerRequest): void {
  const headers = responseHeaders(request)
  if (headers !== undefined && !res.headersSent) res.set(headers)
}

/** The request's raw parts, as core reads them: the one place this adapter maps a request. */
function toBearerRequest(req: BearerGuardRequest): BearerRequest {
  return {
    method: req.method,
    url: req.originalUrl,
    headers: req.headers,
    query: req.query,
    body: req.body,
    socket: req.socket,
  }
}
