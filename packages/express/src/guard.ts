import { resolveValidator, type ValidatorSource } from '@bearer-guard/core'
import { checkErrorMode, refuse, rememberErrorMode, type ErrorMode } from './refusal.js'
import type { BearerGuardMiddleware } from './types.js'

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
 * verified token and calls `next()`; otherwise it refuses per RFC 6750.
 *
 * The validator is built once, here: bad options throw a `TypeError` at start-up, never per request.
 * Tokens are read from the `Authorization` header only, unless `allowQuery` or `allowFormBody`
 * is enabled (the latter needs `express.urlencoded()` before the guard).
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
export function bearerGuard(options: BearerGuardOptions): BearerGuardMiddleware {
  const validator = resolveValidator(options)
  const mode = checkErrorMode(options.errors)

  return function bearerGuardMiddleware(req, res, next): void {
    // Callback form: a cached token calls `next()` in the same tick, without a promise.
    validator.verifyRequest(
      {
        authorization: req.headers.authorization,
        query: req.query,
        body: req.body,
        contentType: req.headers['content-type'],
        method: req.method,
      },
      (error, auth) => {
        if (auth === undefined) {
          refuse(error, mode, res, next)
          return
        }
        req.auth = auth
        rememberErrorMode(req, mode)
        next()
      },
    )
  }
}
