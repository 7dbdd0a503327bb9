import { authorize, type BearerRequest } from '@bearer-guard/core'
import {
  isCorsPreflight,
  onKeySetFailure,
  responseHeaders,
  verifyRequestCallback,
} from '@bearer-guard/core/adapter'
import type {
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify'
import fp from 'fastify-plugin'
import type { BearerGuardDecorator, RouteAuth } from './augment.js'
import { declareMetadataRoutes } from './metadata.js'
import { resolveOptions, type BearerGuardOptions, type ResolvedOptions } from './options.js'
import { refuse } from './refusal.js'
import { routeNeed, type RouteNeed } from './route.js'

// Marks the config of every route the onRoute hook has read, so a route it never saw (declared
// before the plugin loaded) can be told apart from a public one.
const SEEN = Symbol('bearer-guard.route')

type MarkedConfig = { auth?: RouteAuth; [SEEN]?: true } | undefined

type Hook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void

function toList<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined) return []
  return Array.isArray(value) ? (value as readonly T[]) : [value as T]
}

/**
 * The per-route hook: verify the token, set `request.auth`, enforce the route's policy. Callback
 * style, so a cached token goes through in the same tick, without a promise.
 */
function createGuard({ validator, errors }: ResolvedOptions, need: RouteNeed): Hook {
  const policy = need.kind === 'policy' ? need.policy : undefined
  const optional = need.kind === 'optional'
  return function bearerGuardHook(request, reply, done) {
    // Browsers send preflights without credentials: they belong to the CORS handler.
    if (isCorsPreflight(request.method, request.headers)) {
      done()
      return
    }
    const bearerRequest = toBearerRequest(request)
    verifyRequestCallback(
      validator,
      bearerRequest,
      (error, auth) => {
        if (error !== null) {
          refuse(error, errors, reply, done)
          return
        }
        // Anonymous on an optional route: `request.auth` stays null.
        if (auth === undefined) {
          done()
          return
        }
        // Set before the policy check so a 'throw'-mode error handler can log who was refused.
        request.auth = auth
        // A DPoP nonce handed out ahead of the next step (RFC 9449 §8.2); usually nothing.
        const headers = responseHeaders(bearerRequest)
        if (headers !== undefined) void reply.headers(headers)
        if (policy === undefined) {
          done()
          return
        }
        let pending: void | Promise<void>
        try {
          pending = authorize(auth, policy)
        } catch (refusal) {
          refuse(refusal, errors, reply, done)
          return
        }
        // A policy with an async `claims` check answers later.
        if (pending === undefined) done()
        else {
          pending.then(
            () => {
              done()
            },
            (refusal: unknown) => {
              refuse(refusal, errors, reply, done)
            },
          )
        }
      },
      optional,
    )
  }
}

/** The request's raw parts, as core reads them: the one place this adapter maps a request. */
function toBearerRequest(request: FastifyRequest): BearerRequest {
  return {
    method: request.method,
    url: request.url,
    headers: request.headers,
    query: request.query,
    body: request.body,
    socket: request.raw.socket,
  }
}

/** Registration: everything here runs once, and every mistake throws. */
function setup(fastify: FastifyInstance, options: BearerGuardOptions): void {
  const resolved = resolveOptions(options)
  if (fastify.hasRequestDecorator('auth')) {
    throw new Error(
      'bearer-guard: request.auth is already decorated; register bearerGuard once per encapsulation context (a child context inherits its parent guard)',
    )
  }
  fastify.decorateRequest('auth', null)
  const { validator } = resolved
  const decorator: BearerGuardDecorator = Object.freeze({ ready: () => validator.ready() })
  fastify.decorate('bearerGuard', decorator)

  // A key-set failure is a 503 for every guarded request: the operator must hear of it, once per
  // episode, through the application's own logger.
  const unsubscribe = onKeySetFailure(validator, (failure) => {
    fastify.log.warn({ issuer: failure.issuer }, failure.message)
  })
  fastify.addHook('onClose', (_instance, done) => {
    unsubscribe()
    done()
  })

  // Every scope a route's policy names, for `scopes_supported` of the RFC 9728 document.
  const scopes = new Set<string>()
  fastify.addHook('onRoute', (route) => {
    const config: MarkedConfig = route.config
    const need = routeNeed(config?.auth, resolved.protect, `${String(route.method)} ${route.url}`)
    // A copy: one config object may be shared by several routes (and by the HEAD route).
    const marked: MarkedConfig = { ...config, [SEEN]: true }
    route.config = marked
    if (need.kind === 'public') return
    if (need.kind === 'policy') {
      for (const scope of need.policy.allOf ?? []) scopes.add(scope)
      for (const scope of need.policy.anyOf ?? []) scopes.add(scope)
    }
    const guard = createGuard(resolved, need)
    // The guard goes first among the route's own hooks, which may rely on `request.auth`.
    if (resolved.hook === 'onRequest') route.onRequest = [guard, ...toList(route.onRequest)]
    else route.preHandler = [guard, ...toList(route.preHandler)]
  })

  declareMetadataRoutes(
    fastify,
    validator,
    resolved.metadata,
    options.metadata !== undefined,
    scopes,
  )

  // Routes declared in this context before the plugin finished loading never reached the onRoute
  // hook above. Serving them unguarded would fail open, so refuse with a 500 that says why.
  fastify.addHook(
    'onRequest',
    (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
      const config = request.routeOptions.config as MarkedConfig
      if (
        request.is404 ||
        config === undefined ||
        config[SEEN] === true ||
        isCorsPreflight(request.method, request.headers)
      ) {
        done()
        return
      }
      const guarded = config.auth !== undefined ? config.auth !== false : resolved.protect === 'all'
      if (!guarded) {
        done()
        return
      }
      done(
        new Error(
          `bearer-guard: route ${request.method} ${request.routeOptions.url ?? ''} was declared before the bearerGuard plugin loaded and is not guarded; \`await app.register(bearerGuard, …)\` first, or declare routes in a plugin registered after it`,
        ),
      )
    },
  )
}

// Callback style, so a synchronous throw reaches `register()`/`ready()` as the plugin's error.
const plugin: FastifyPluginCallback<BearerGuardOptions> = (fastify, options, done) => {
  try {
    setup(fastify, options)
  } catch (error) {
    done(error as Error)
    return
  }
  done()
}

/**
 * The Fastify 5 plugin that guards routes with OAuth 2.0 bearer access tokens (RFC 6750,
 * RFC 9068). Register it with core's validator options (or a prebuilt `validator`); every route
 * declared after it in the same encapsulation context then needs a valid token (`protect: 'all'`,
 * the default), verified in an `onRequest` hook before the body is read. `request.auth` holds the
 * verified token; with DPoP nonces, the reply gets a fresh `DPoP-Nonce` header when one is due
 * (RFC 9449 §8.2).
 *
 * Per route, `config.auth` says what is needed: `false` (public), `true` (any valid token),
 * `'optional'` (anonymous callers pass with `request.auth` null; a token, if sent, must be valid),
 * or a core policy `{ allOf, anyOf, claims, description }` (else 403 `insufficient_scope`), with
 * step-up `{ acr, maxAge }` (else 401 `insufficient_user_authentication`, RFC 9470).
 *
 * With core's `resource` option, the plugin also serves the RFC 9728 protected resource metadata
 * at its well-known path (e.g. `GET /.well-known/oauth-protected-resource/mcp` for
 * `https://api.example.com/mcp`), public and readable from any origin, with `scopes_supported`
 * collected from the routes' policies; `metadata: false` turns it off.
 * Options are checked at registration (an unknown one, such as `protcet`, names the closest known
 * option) and policies when the route is defined: mistakes throw a `TypeError` from
 * `register()`/`ready()`, never per request.
 *
 * CORS preflights (`OPTIONS` with `Origin` and `Access-Control-Request-Method`, no
 * `Authorization`) pass the guard untouched, for `@fastify/cors` or an `OPTIONS` route to answer.
 * The start of each key-set failure episode (the issuer's keys cannot be obtained, so guarded
 * requests get 503) is logged once with the instance's `log.warn`, never with token content;
 * `app.bearerGuard.ready()` loads the keys now, for a readiness probe.
 *
 * @remarks Security: `await app.register(bearerGuard, …)` before declaring the routes it must
 * guard (or declare them in a plugin registered after it). Fastify hooks only reach routes declared
 * later; a route declared too early is refused with a 500 rather than served unguarded.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import { bearerGuard, getAuth } from '@bearer-guard/fastify'
 *
 * const app = Fastify()
 * await app.register(bearerGuard, {
 *   issuer: 'https://auth.example.com/',
 *   audience: 'https://api.example.com',
 * })
 * app.get('/health', { config: { auth: false } }, async () => ({ status: 'ok' }))
 * app.get('/me', async (request) => ({ sub: getAuth(request).claims.sub }))
 * app.get('/orders', { config: { auth: { allOf: ['orders:read'] } } }, async () => [])
 * app.get('/reports', { config: { auth: { anyOf: ['reports:read', 'admin'] } } }, async () => [])
 * ```
 */
export const bearerGuard = fp(plugin, { fastify: '5.x', name: '@bearer-guard/fastify' })
