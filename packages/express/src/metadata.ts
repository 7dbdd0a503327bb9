/**
 * RFC 9728 protected resource metadata, the Express way: `guard.metadata` is middleware that
 * answers `GET`/`HEAD` of the document's well-known path and passes everything else on.
 *
 * `scopes_supported` lists the scopes the app's routes can ask for. The route helpers are not
 * bound to a guard (`requireScopes()` works after any guard), so they cannot report to one;
 * instead each remembers its policy here, and the first request for the document walks the app's
 * router stacks (the same structures placement.ts reads: `app._router` in Express 4, `app.router`
 * in Express 5) and collects the scopes of the helpers it finds. The document is then kept per
 * app: other routes never pay for it, and the metadata route pays once.
 */
import type { AccessPolicy, AccessTokenValidator } from '@bearer-guard/core'
import { assertKnownOptions, isCorsPreflight, resourceMetadata } from '@bearer-guard/core/adapter'
import { MAX_DEPTH, routerOf, stackOf, type Stack } from './placement.js'
import type { BearerGuardMiddleware, BearerGuardRequest } from './types.js'

/**
 * Options of the RFC 9728 metadata document `guard.metadata` serves (the `metadata` option of
 * `bearerGuard()`).
 */
export interface BearerGuardMetadataOptions {
  /**
   * Scopes listed in `scopes_supported` besides those collected from the app's `requireScopes()`,
   * `requireAnyScope()` and `requirePolicy()` middleware: scopes needed only in a mounted sub-app
   * (which Express keeps no reference to) or checked in a handler. Each one an RFC 6749 §3.3
   * scope token. Default: none.
   */
  readonly scopes?: readonly string[]
}

const METADATA_OPTION_NAMES: ReadonlySet<string> = new Set(['scopes'])

/** RFC 6749 §3.3 `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

/** Checks the `metadata` option once, when the guard is created; returns its scopes. */
export function checkMetadataOptions(value: unknown): readonly string[] {
  if (value === undefined) return []
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError('bearer-guard: "metadata" must be an object ({ scopes })')
  }
  assertKnownOptions(value, METADATA_OPTION_NAMES, '"metadata"')
  const { scopes } = value as BearerGuardMetadataOptions
  if (scopes === undefined) return []
  if (
    !Array.isArray(scopes) ||
    scopes.some((scope) => typeof scope !== 'string' || !SCOPE_TOKEN.test(scope))
  ) {
    throw new TypeError(
      'bearer-guard: "metadata.scopes" must be an array of scope tokens (RFC 6749 §3.3: visible ASCII except quotes and backslashes, no spaces)',
    )
  }
  return Object.freeze([...(scopes as string[])])
}

// The policy of each route helper, keyed by the middleware function Express keeps in its stacks.
const policies = new WeakMap<object, AccessPolicy>()

/** Called by `requirePolicy()` (and the helpers built on it) for the middleware it returns. */
export function rememberPolicy(middleware: object, policy: AccessPolicy): void {
  policies.set(middleware, policy)
}

/**
 * The scopes the route helpers in `app`'s router tree can ask for, and in the trees of the apps
 * it is mounted in (`app.parent`): a document served by a sub-app still describes the whole API.
 */
function collectScopes(app: unknown, into: Set<string>): void {
  const seen = new Set<Stack>()
  const visit = (stack: Stack | undefined, depth: number): void => {
    if (stack === undefined || seen.has(stack)) return
    seen.add(stack)
    for (const layer of stack) {
      const policy = typeof layer.handle === 'function' ? policies.get(layer.handle) : undefined
      for (const scope of policy?.allOf ?? []) into.add(scope)
      for (const scope of policy?.anyOf ?? []) into.add(scope)
      // A route's own stack holds its helpers; a router's stack its routes.
      if (depth < MAX_DEPTH) visit(stackOf(layer.route) ?? stackOf(layer.handle), depth + 1)
    }
  }
  let current: unknown = app
  for (let i = 0; i < MAX_DEPTH && typeof current === 'function'; i++) {
    visit(stackOf(routerOf(current)), 0)
    current = (current as { parent?: unknown }).parent
  }
}

/**
 * Headers of the document: JSON (RFC 9728 §3.2), and readable from any origin. The document is
 * public, and browser-based clients (MCP clients in particular) fetch it across origins; the MCP
 * TypeScript SDK serves its own metadata with `cors()` for the same reason. RFC 9728 says nothing
 * of CORS.
 */
const DOCUMENT_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Access-Control-Allow-Origin': '*',
})

/**
 * The answer to a CORS preflight for the document: the MCP TypeScript SDK client sends an
 * `MCP-Protocol-Version` header with it, which makes browsers ask first. No credentials are ever
 * involved, so the wildcards apply (Fetch standard, CORS protocol).
 */
const PREFLIGHT_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
  'Access-Control-Allow-Headers': '*',
  'Access-Control-Max-Age': '86400',
})

/** Whether `url` (a request target) has exactly the path `path`, with or without a query. */
function hasPath(url: string | undefined, path: string): boolean {
  if (url === undefined || !url.startsWith(path)) return false
  return url.length === path.length || url.charCodeAt(path.length) === 0x3f // '?'
}

/**
 * The middleware serving `validator`'s RFC 9728 document, or `undefined` when it has no
 * `resource` (nothing to serve).
 */
export function createMetadataMiddleware(
  validator: AccessTokenValidator,
  extraScopes: readonly string[],
): BearerGuardMiddleware | undefined {
  const served = resourceMetadata(validator, extraScopes)
  if (served === undefined) return undefined
  const { path } = served
  // One document per app that serves it (usually one), built at its first request.
  const documents = new WeakMap<object, Readonly<Record<string, unknown>>>()
  const noApp = {}
  const documentFor = (req: BearerGuardRequest): Readonly<Record<string, unknown>> => {
    const app = (req as { app?: unknown }).app
    const key = typeof app === 'function' ? app : noApp
    let document = documents.get(key)
    if (document === undefined) {
      const scopes = new Set(extraScopes)
      collectScopes(app, scopes)
      document = resourceMetadata(validator, [...scopes])?.document ?? served.document
      documents.set(key, document)
    }
    return document
  }
  return function bearerGuardMetadata(req, res, next): void {
    // The full path as the app sees it (`originalUrl`), since the metadata URL is absolute.
    if (!hasPath(req.originalUrl ?? req.path, path)) {
      next()
      return
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      // RFC 9728 §3.2: 200 and an `application/json` object; Express sends no body for HEAD.
      res.status(200).set(DOCUMENT_HEADERS).json(documentFor(req))
      return
    }
    if (isCorsPreflight(req.method, req.headers)) {
      ;(res.status(204).set(PREFLIGHT_HEADERS) as typeof res & { end(): unknown }).end()
      return
    }
    next()
  }
}
