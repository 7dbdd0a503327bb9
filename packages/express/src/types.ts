import type { IncomingHttpHeaders } from 'node:http'
import './augment.js'

// Structural types instead of `express`'s own: one `RequestHandler` type cannot serve Express 4
// and 5 typings at once, but a function over the members the adapter uses fits both, so the
// middleware can be passed to `app.use()`, `router.get()`… of either major.

/** The members of an Express 4/5 request the adapter reads (and `auth`, which it sets). */
export interface BearerGuardRequest extends Express.Request {
  readonly headers: IncomingHttpHeaders
  readonly method: string
  readonly path: string
  readonly originalUrl?: string
  readonly query?: unknown
  readonly body?: unknown
  readonly socket?: unknown
}

/**
 * The members of an Express 4/5 response the adapter uses to answer a refusal, and to set the
 * headers of a verified request (`DPoP-Nonce`).
 */
export interface BearerGuardResponse {
  readonly headersSent: boolean
  status(code: number): this
  set(headers: Record<string, string>): this
  json(body: unknown): this
}

/** Express's `next`: no argument to continue, an error to reach the error handlers. */
export type BearerGuardNext = (error?: unknown) => void

/**
 * Express 4/5 middleware, as returned by `bearerGuard()` and the route helpers; assignable to
 * Express's `RequestHandler`.
 */
export type BearerGuardMiddleware = (
  req: BearerGuardRequest,
  res: BearerGuardResponse,
  next: BearerGuardNext,
) => void

/**
 * What `bearerGuard()` returns: Express 4/5 middleware (assignable to `RequestHandler`) that also
 * tells whether the issuer's keys can be obtained, for a readiness probe.
 */
export type BearerGuardHandler = BearerGuardMiddleware & {
  /**
   * Loads the issuer's discovery document and keys now, instead of on the first request.
   * Resolves once they are loaded (at once if they already are); rejects with core's
   * `KeySetUnavailableError` (status 503) when they cannot be obtained. The guard stays usable
   * and tries again on the next request.
   *
   * @example
   * ```ts
   * app.get('/ready', (_req, res) => {
   *   guard.ready().then(
   *     () => res.json({ status: 'ready' }),
   *     () => res.status(503).json({ status: 'keys unavailable' }),
   *   )
   * })
   * ```
   */
  ready(): Promise<void>
  /**
   * The same guard for a route that also serves anonymous callers: without credentials the
   * request goes on with `req.auth` undefined; a token, if sent, must be valid (else the usual
   * 400/401). Declare such a route before `app.use(guard)`, with this in front of its handler.
   *
   * @example
   * ```ts
   * const guard = bearerGuard({ issuer, audience })
   * app.get('/catalog', guard.optional, (req, res) => {
   *   res.json({ sub: req.auth?.claims.sub ?? null })
   * })
   * app.use(guard)
   * ```
   */
  readonly optional: BearerGuardMiddleware
  /**
   * Middleware serving this API's RFC 9728 protected resource metadata: `GET` (and `HEAD`) of
   * its well-known path (RFC 9728 §3.1: `/.well-known/oauth-protected-resource` followed by the
   * path of `resource`, or the path of `resourceMetadataUrl`) answers 200 with the JSON document
   * and `Access-Control-Allow-Origin: *`; every other request passes on untouched.
   * `scopes_supported` is collected, at the first request for the document, from the
   * `requireScopes()`, `requireAnyScope()` and `requirePolicy()` middleware of the app's routes
   * and routers, plus the guard's `metadata.scopes`. Mount it before the guard: it is public.
   *
   * @throws `TypeError` when read on a guard whose validator has no `resource`.
   *
   * @example
   * ```ts
   * const guard = bearerGuard({ issuer, resource: 'https://api.example.com/mcp' })
   * app.use(guard.metadata) // GET /.well-known/oauth-protected-resource/mcp
   * app.use(guard)
   * app.get('/mcp/orders', requireScopes('orders:read'), listOrders)
   * ```
   */
  readonly metadata: BearerGuardMiddleware
}
