import type { AccessPolicy, AccessTokenValidator } from '@bearer-guard/core'
import { assertKnownOptions, resourceMetadata } from '@bearer-guard/core/adapter'
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common'
import { DiscoveryService, HttpAdapterHost, MetadataScanner, Reflector } from '@nestjs/core'
import { BEARER_GUARD_VALIDATOR } from './bearer-guard.constants.js'
import type {
  BearerGuardMetadataOptions,
  BearerGuardModuleOptions,
} from './bearer-guard.interfaces.js'
import { BEARER_GUARD_OPTIONS } from './bearer-guard.module-definition.js'
import { POLICY_DECORATORS } from './policy.decorators.js'
import { PublicMetadata } from './public.decorator.js'

const METADATA_OPTION_NAMES: ReadonlySet<string> = new Set(['scopes'])

/** RFC 6749 §3.3 `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

/** Checks the module's `metadata` option once, at start-up: `false`, or the extra scopes. */
function checkMetadataOptions(value: unknown): false | readonly string[] {
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
  return [...(scopes as string[])]
}

/**
 * The document is public, and browser-based clients (MCP clients in particular) fetch it across
 * origins: readable from any origin, as the MCP TypeScript SDK serves its own (`cors()`). RFC 9728
 * says nothing of CORS.
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

/**
 * Serves the RFC 9728 protected resource metadata of a validator with a `resource`, at its
 * well-known path (RFC 9728 §3.1), on Express and Fastify alike.
 *
 * Not a controller: the path is absolute from the origin's root and known only once the options
 * are (`forRootAsync`), while a controller's path is fixed when its class is defined and gets the
 * application's global prefix and version. So the route is declared on the platform's HTTP
 * adapter, in `onModuleInit` (after Nest has declared the controllers' routes, before its 404
 * handler), outside Nest's guards: it is public, with no `@Public()` needed. `scopes_supported`
 * is collected there, once, from the policy decorators of every controller
 * (`DiscoveryService`); the document is then built once, and no other route pays for it.
 * @internal
 */
@Injectable()
export class ResourceMetadataRoute implements OnModuleInit {
  private readonly logger = new Logger('BearerGuard')
  private readonly extraScopes: false | readonly string[]

  constructor(
    @Inject(BEARER_GUARD_VALIDATOR) private readonly validator: AccessTokenValidator,
    @Inject(BEARER_GUARD_OPTIONS) options: BearerGuardModuleOptions,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {
    // Checked when the module is instantiated, so a mistake fails the start-up.
    this.extraScopes = checkMetadataOptions(options.metadata)
    const given = options.metadata !== undefined && options.metadata !== false
    if (given && resourceMetadata(validator) === undefined) {
      throw new TypeError(
        'bearer-guard: "metadata" needs "resource": without a resource identifier there is no RFC 9728 document to serve',
      )
    }
  }

  /** Declares `GET` (and `HEAD`) and `OPTIONS` of the document's path on the HTTP adapter. */
  onModuleInit(): void {
    if (this.extraScopes === false) return
    const adapter = this.adapterHost.httpAdapter as HttpAdapterHost['httpAdapter'] | undefined
    // An application context without HTTP (a worker, a microservice) has nothing to serve on.
    if (adapter === undefined) return
    const served = resourceMetadata(this.validator, this.collectScopes(this.extraScopes))
    if (served === undefined) return
    const { document, path } = served
    adapter.get(path, (_request: unknown, response: unknown) => {
      for (const [name, value] of Object.entries(DOCUMENT_HEADERS)) {
        adapter.setHeader(response, name, value)
      }
      // RFC 9728 §3.2: 200 and an `application/json` object (both platforms send JSON for an
      // object; neither sends a body for HEAD).
      adapter.reply(response, document, 200)
    })
    adapter.options(path, (_request: unknown, response: unknown) => {
      for (const [name, value] of Object.entries(PREFLIGHT_HEADERS)) {
        adapter.setHeader(response, name, value)
      }
      adapter.reply(response, undefined, 204)
    })
    this.logger.log(`Serving RFC 9728 protected resource metadata at GET ${path}`)
  }

  /** Every scope a route's policy decorators name (`allOf`, `anyOf`), besides `extra`. */
  private collectScopes(extra: readonly string[]): string[] {
    const scopes = new Set(extra)
    for (const wrapper of this.discovery.getControllers()) {
      const instance: unknown = wrapper.instance
      const metatype: unknown = wrapper.metatype
      if (typeof instance !== 'object' || instance === null || typeof metatype !== 'function') {
        continue
      }
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name]
        if (typeof handler !== 'function') continue
        const targets = [handler, metatype]
        // A @Public() route enforces no policy: its decorators need nothing.
        if (this.reflector.getAllAndOverride<true | undefined>(PublicMetadata.KEY, targets)) {
          continue
        }
        for (const decorator of POLICY_DECORATORS) {
          const policy = this.reflector.getAllAndOverride(decorator, targets) as
            AccessPolicy | undefined
          for (const scope of policy?.allOf ?? []) scopes.add(scope)
          for (const scope of policy?.anyOf ?? []) scopes.add(scope)
        }
      }
    }
    return [...scopes]
  }
}
