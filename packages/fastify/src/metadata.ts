/**
 * RFC 9728 protected resource metadata, the Fastify way: when the validator has a `resource`, the
 * plugin declares `GET` (and Fastify's automatic `HEAD`) of the document's well-known path, public
 * (`config.auth: false`). `scopes_supported` is every scope a route's `config.auth` policy names,
 * gathered by the plugin's `onRoute` hook as routes are declared; the document is built at its
 * first request, when every route is known (Fastify declares no route after `ready()`).
 */
import type { AccessTokenValidator } from '@bearer-guard/core'
import { assertKnownOptions, resourceMetadata } from '@bearer-guard/core/adapter'
import type { FastifyInstance } from 'fastify'

/**
 * Options of the RFC 9728 metadata document the plugin serves (its `metadata` option), or `false`
 * not to serve it.
 */
export interface BearerGuardMetadataOptions {
  /**
   * Scopes listed in `scopes_supported` besides those of the routes' `config.auth` policies (e.g.
   * scopes a handler checks itself), each one an RFC 6749 §3.3 scope token. Default: none.
   */
  readonly scopes?: readonly string[]
}

const METADATA_OPTION_NAMES: ReadonlySet<string> = new Set(['scopes'])

/** RFC 6749 §3.3 `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

/**
 * Checks the `metadata` option once, at registration: `false` (not served) or the extra scopes.
 */
export function checkMetadataOptions(value: unknown): false | readonly string[] {
  if (value === undefined) return []
  if (value === false) return false
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError('bearer-guard: "metadata" must be false or an object ({ scopes })')
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

/**
 * The document is public, and browser-based clients (MCP clients in particular) fetch it across
 * origins: readable from any origin, as the MCP TypeScript SDK serves its own (`cors()`). RFC 9728
 * says nothing of CORS.
 */
const DOCUMENT_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'access-control-allow-origin': '*',
})

/**
 * The answer to a CORS preflight for the document: the MCP TypeScript SDK client sends an
 * `MCP-Protocol-Version` header with it, which makes browsers ask first. No credentials are ever
 * involved, so the wildcards apply (Fetch standard, CORS protocol).
 */
const PREFLIGHT_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, OPTIONS',
  'access-control-allow-headers': '*',
  'access-control-max-age': '86400',
})

/**
 * Declares the metadata routes on `fastify` when `validator` has a `resource`; `scopes` fills up
 * as routes are declared and is read at the first request for the document.
 *
 * @throws `TypeError` when `metadata` options are given without `resource`, or when the
 * encapsulation context's prefix keeps the route off the document's path.
 */
export function declareMetadataRoutes(
  fastify: FastifyInstance,
  validator: AccessTokenValidator,
  options: false | readonly string[],
  given: boolean,
  scopes: ReadonlySet<string>,
): void {
  const served = resourceMetadata(validator)
  if (served === undefined) {
    if (given && options !== false) {
      throw new TypeError(
        'bearer-guard: "metadata" needs "resource": without a resource identifier there is no RFC 9728 document to serve',
      )
    }
    return
  }
  if (options === false) return
  // RFC 9728 §3.1: the path is absolute, from the origin's root. Inside a prefixed context a
  // route can only be declared under the prefix.
  const { prefix } = fastify
  if (prefix !== '' && !served.path.startsWith(`${prefix}/`)) {
    throw new TypeError(
      `bearer-guard: the RFC 9728 document must be served at ${served.path}, outside this context's prefix '${prefix}'; register bearerGuard in a context without a prefix, or set "metadata": false and serve it yourself`,
    )
  }
  const url = served.path.slice(prefix.length)
  let body: string | undefined
  fastify.get(url, { config: { auth: false } }, (_request, reply) => {
    body ??= JSON.stringify(resourceMetadata(validator, [...options, ...scopes])?.document)
    // RFC 9728 §3.2: 200 and an `application/json` object.
    void reply.code(200).headers(DOCUMENT_HEADERS).type('application/json').send(body)
  })
  fastify.options(url, { config: { auth: false } }, (_request, reply) => {
    void reply.code(204).headers(PREFLIGHT_HEADERS).send()
  })
}
