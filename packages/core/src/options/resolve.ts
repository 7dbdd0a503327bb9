import { createSecretKey, type KeyObject } from 'node:crypto'
import type { ChallengeContext } from '../challenge/www-authenticate.js'
import { issuerMatch, TENANT_PLACEHOLDER, type IssuerMatch } from '../claims/issuer.js'
import type { AudienceRule, ClaimRules, ClaimValue } from '../claims/rules.js'
import {
  resolveScopeClaims,
  resolveScopeHierarchy,
  type ResolvedScopeClaim,
  type ResolvedScopeHierarchy,
} from '../claims/scopes.js'
import type { TimeRules } from '../claims/time.js'
import { ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS, isSupportedAlgorithm } from '../jws/algorithms.js'
import type { KeyRefetchCoordinator } from '../keys/coordinator.js'
import { StaticKeySource } from '../keys/static.js'
import { assertSecureUrl } from '../keys/url.js'
import type { ExtractSettings } from '../transport/extract.js'
import {
  fail,
  isObject,
  nonNegative,
  optionalString,
  positive,
  positiveInteger,
  stringList,
} from './checks.js'
import { resolveBinding, type BindingOptions } from './binding.js'
import { resolveIntrospection, type ResolvedIntrospection } from './introspection.js'
import { assertKnownOptions } from './names.js'
import {
  ISSUER_OPTION_NAMES,
  VALIDATOR_OPTION_NAMES,
  type AccessTokenValidatorOptions,
  type IssuerOptions,
  type IssuerResolver,
} from './validator-options.js'

/** Where one issuer's keys come from, before the key source is built. */
export type KeySpec =
  | { readonly kind: 'remote'; readonly jwksUri: string | undefined }
  | { readonly kind: 'static'; readonly source: StaticKeySource }

/** One issuer's settings, resolved: everything but the live key source. */
export interface IssuerSpec {
  readonly match: IssuerMatch
  readonly algorithms: ReadonlySet<string>
  readonly strict: boolean
  readonly claims: ClaimRules
  readonly time: TimeRules
  readonly scopeClaims: readonly ResolvedScopeClaim[]
  readonly scopeHierarchy: ResolvedScopeHierarchy | undefined
  readonly keys: KeySpec
  /** RFC 7662 token introspection at this issuer, when configured. */
  readonly introspection: ResolvedIntrospection | undefined
}

/** Settings of every remote key set, in milliseconds. */
export interface RemoteKeySetDefaults {
  readonly allowInsecureHttp: boolean
  readonly fetch: typeof globalThis.fetch
  readonly timeout: number
  readonly maxBytes: number
  readonly maxAge: number
  readonly minAge: number
  readonly defaultAge: number
  readonly staleIfError: number
  readonly unknownKeyCooldown: number
  readonly coordinator: KeyRefetchCoordinator | undefined
  readonly retryAfter: number
}

/** The options of a validator, resolved per stage. */
export interface ResolvedValidatorOptions {
  readonly extract: ExtractSettings
  readonly maxTokenLength: number
  readonly context: ChallengeContext
  readonly clock: () => number
  readonly tokenCacheSize: number
  readonly remote: RemoteKeySetDefaults
  readonly issuers: readonly IssuerSpec[]
  readonly resolver: ResolvedResolver | undefined
  /** The binding stage: DPoP (when enabled), certificates, revocation. */
  readonly binding: BindingOptions
  /** RFC 9728: the resource identifier and where its metadata is served, when `resource` is set. */
  readonly resource: { readonly identifier: string; readonly metadataUrl: string } | undefined
  /** Resolves an issuer the resolver returned, with the top-level rules as defaults. */
  readonly resolveIssuer: (entry: IssuerOptions) => IssuerSpec
}

export interface ResolvedResolver {
  readonly resolve: IssuerResolver['resolve']
  readonly maxIssuers: number
  /** In milliseconds. */
  readonly unknownTtl: number
}

/**
 * RFC 8414 §2: an issuer identifier has no query and no fragment. A discovery URL given as the
 * issuer is the commonest mistake of all: say so, with the identifier to use instead.
 */
function assertIssuerIdentifier(issuer: string): void {
  if (issuer.includes('?') || issuer.includes('#')) {
    fail(`"issuer" must not have a query or fragment component (RFC 8414 §2): ${issuer}`)
  }
  if (issuer.includes('/.well-known/')) {
    const url = new URL(issuer)
    const path = url.pathname
    const at = path.indexOf('/.well-known/')
    // OIDC puts .well-known after the issuer's path, RFC 8414 between host and path.
    const rest = path.slice(at + '/.well-known/'.length)
    const suffix = rest.includes('/') ? rest.slice(rest.indexOf('/')) : ''
    const identifier = `${url.origin}${path.slice(0, at)}${suffix}`
    fail(
      `"issuer" is a discovery URL, not an issuer identifier; use the discovery document's "issuer" value (probably ${identifier})`,
    )
  }
}

function audienceRule(value: IssuerOptions['audience']): AudienceRule {
  if (isObject(value)) {
    const { claim, values } = value as { claim?: unknown; values?: unknown }
    if (typeof claim !== 'string' || claim === '' || claim === 'aud') {
      fail('"audience.claim" must name a claim other than aud (use a string audience for aud)')
    }
    const list = stringList('audience.values', values, [])
    if (list.length === 0) fail('"audience.values" must not be empty')
    return Object.freeze({ claim, values: list })
  }
  const values = stringList('audience', value, [])
  if (values.length === 0) fail('"audience" is required')
  return Object.freeze({ claim: 'aud', values })
}

function claimValues(value: unknown): ClaimRules['requiredClaimValues'] {
  if (value === undefined) return []
  if (!isObject(value)) fail('"requiredClaimValues" must be an object of claim name to value(s)')
  return Object.freeze(
    Object.entries(value).map(([name, accepted]) => {
      const list = (Array.isArray(accepted) ? accepted : [accepted]) as unknown[]
      if (
        list.length === 0 ||
        list.some((v) => typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
      ) {
        fail(
          `"requiredClaimValues.${name}" must be a string, number or boolean, or an array of them`,
        )
      }
      return Object.freeze([
        Object.freeze([name]),
        name,
        Object.freeze(list as ClaimValue[]),
      ] as const)
    }),
  )
}

function secretKey(value: unknown): KeyObject {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value
  if (!(bytes instanceof Uint8Array) || bytes.byteLength < 32)
    fail('"secret" must be at least 32 bytes')
  return createSecretKey(bytes)
}

function algorithmsOf(value: unknown, hmac: boolean): ReadonlySet<string> {
  const list = stringList('algorithms', value, hmac ? HMAC_ALGORITHMS : ASYMMETRIC_ALGORITHMS)
  for (const alg of list) {
    if (!isSupportedAlgorithm(alg)) fail(`algorithm "${alg}" is not supported`)
    const isHmac = (HMAC_ALGORITHMS as readonly string[]).includes(alg)
    if (isHmac && !hmac) fail(`algorithm "${alg}" requires "secret"`)
    if (!isHmac && hmac) {
      fail(`algorithm "${alg}" cannot be combined with "secret"; use one issuer entry per key kind`)
    }
  }
  return new Set(list)
}

/**
 * Checks options once, at construction, and resolves them per stage: extraction, the issuers
 * (each with its match, keys, claim and time rules), remote key sets, the cache.
 */
export function resolveValidatorOptions(
  options: AccessTokenValidatorOptions,
): ResolvedValidatorOptions {
  if (!isObject(options)) fail('options must be an object')
  assertKnownOptions(options, VALIDATOR_OPTION_NAMES, 'createAccessTokenValidator()')
  const top: AccessTokenValidatorOptions = options
  const allowInsecureHttp = top.allowInsecureHttp === true
  const clockTolerance = nonNegative('clockTolerance', top.clockTolerance, 30)

  const entries: readonly (string | IssuerOptions)[] =
    top.issuer === undefined
      ? []
      : Array.isArray(top.issuer)
        ? top.issuer
        : [top.issuer as string | IssuerOptions]
  const resolver = resolveResolver(top.issuerResolver)
  if (entries.length === 0 && resolver === undefined) fail('"issuer" is required')
  const single = entries.length === 1 && resolver === undefined
  if (!single) {
    for (const name of ['jwksUri', 'keys', 'secret', 'introspection'] as const) {
      if (top[name] !== undefined) {
        fail(`"${name}" at the top level needs exactly one issuer; set it in each issuer's entry`)
      }
    }
  }

  function resolveIssuer(entry: string | IssuerOptions): IssuerSpec {
    const given: IssuerOptions = typeof entry === 'string' ? { issuer: entry } : entry
    if (!isObject(given)) fail('each issuer must be an issuer identifier or an options object')
    assertKnownOptions(given, ISSUER_OPTION_NAMES, 'an issuer entry')
    const { issuer } = given
    if (typeof issuer !== 'string' || issuer === '') fail('"issuer" is required')
    const jwksUri = optionalString('jwksUri', given.jwksUri ?? (single ? top.jwksUri : undefined))
    const keys = given.keys ?? (single ? top.keys : undefined)
    const secret = given.secret ?? (single ? top.secret : undefined)
    const discovered = jwksUri === undefined && keys === undefined && secret === undefined
    if (discovered || issuer.includes('://')) {
      // Discovered from, or named as, a URL: https (or loopback http), no query or fragment
      // (RFC 8414 §2), exactly as the server names itself.
      assertSecureUrl('issuer', issuer, allowInsecureHttp)
      assertIssuerIdentifier(issuer)
    } else if (!/^[\x21-\x7e]+$/.test(issuer)) {
      // With keys given, an issuer need not be a URL: Google still signs tokens with the bare
      // `accounts.google.com`. It is compared exactly all the same.
      fail('"issuer" must be visible ASCII without spaces')
    }
    const match = issuerMatch(issuer, given.tenants)

    if ([jwksUri, keys, secret].filter((v) => v !== undefined).length > 1) {
      fail(`issuer ${issuer}: give one of "jwksUri", "keys" and "secret"`)
    }
    if (jwksUri !== undefined) assertSecureUrl('jwksUri', jwksUri, allowInsecureHttp)
    if (match.kind === 'template' && jwksUri === undefined && keys === undefined) {
      fail(
        `issuer ${issuer}: an issuer with ${TENANT_PLACEHOLDER} needs "jwksUri" or "keys" (it cannot be discovered)`,
      )
    }
    const keySpec: KeySpec =
      secret !== undefined
        ? { kind: 'static', source: StaticKeySource.fromSecret(secretKey(secret)) }
        : keys !== undefined
          ? { kind: 'static', source: StaticKeySource.fromKeys(keys) }
          : { kind: 'remote', jwksUri }

    const maxTokenAge = given.maxTokenAge ?? top.maxTokenAge
    return Object.freeze({
      match,
      algorithms: algorithmsOf(given.algorithms ?? top.algorithms, secret !== undefined),
      strict: (given.strict ?? top.strict) === true,
      claims: Object.freeze({
        issuer: match,
        audience: audienceRule(given.audience ?? top.audience ?? top.resource),
        strict: (given.strict ?? top.strict) === true,
        allowNonce: (given.allowNonce ?? top.allowNonce) === true,
        allowIdTokenClaims: (given.allowIdTokenClaims ?? top.allowIdTokenClaims) === true,
        requiredClaims: stringList(
          'requiredClaims',
          given.requiredClaims ?? top.requiredClaims,
          [],
        ),
        requiredClaimValues: claimValues(given.requiredClaimValues ?? top.requiredClaimValues),
      }),
      time: Object.freeze({
        clockTolerance,
        maxTokenAge:
          maxTokenAge === undefined ? undefined : positive('maxTokenAge', maxTokenAge, 0),
      }),
      scopeClaims: resolveScopeClaims(
        (given.scopeClaims ?? top.scopeClaims ?? ['scope', 'scp']) as readonly (
          string | readonly string[]
        )[],
      ),
      scopeHierarchy: resolveScopeHierarchy(given.scopeHierarchy ?? top.scopeHierarchy),
      keys: keySpec,
      introspection: introspectionOf(
        given.introspection ?? (single ? top.introspection : undefined),
        match,
      ),
    })
  }

  function introspectionOf(value: unknown, match: IssuerMatch): ResolvedIntrospection | undefined {
    const clock = typeof top.clock === 'function' ? top.clock : Date.now
    const resolved = resolveIntrospection(value, 'introspection', allowInsecureHttp, clock)
    if (resolved !== undefined && match.kind === 'template') {
      fail(
        `issuer ${match.issuer}: introspection needs an exact issuer, not a ${TENANT_PLACEHOLDER} template`,
      )
    }
    return resolved
  }

  const issuers = Object.freeze(entries.map(resolveIssuer))
  const seen = new Set<string>()
  for (const spec of issuers) {
    if (seen.has(spec.match.issuer)) fail(`issuer ${spec.match.issuer} is listed twice`)
    seen.add(spec.match.issuer)
  }
  // An opaque token names no issuer: sending it to several would disclose it to all of them.
  const opaque = issuers.filter((spec) => spec.introspection?.opaque === true)
  if (opaque.length > 1) {
    fail(
      `only one issuer can introspect opaque tokens (they name no issuer, and each would be sent to every one); set introspection.tokens to 'jwt' on all but one of ${opaque.map((spec) => spec.match.issuer).join(', ')}`,
    )
  }
  const resource = resolveResource(top.resource, top.resourceMetadataUrl, allowInsecureHttp)
  if (top.audience !== undefined || issuers.length === 0) {
    audienceRule(top.audience ?? top.resource)
  }

  if (top.realm !== undefined && typeof top.realm !== 'string') fail('"realm" must be a string')
  if (top.clock !== undefined && typeof top.clock !== 'function') {
    fail('"clock" must be a function returning milliseconds')
  }
  if (top.fetch !== undefined && typeof top.fetch !== 'function') fail('"fetch" must be a function')
  const firstAudience =
    issuers[0]?.claims.audience.values[0] ?? audienceRule(top.audience ?? top.resource).values[0]

  const binding = resolveBinding(top, clockTolerance)
  const dpop = binding.dpop
  const realm = top.realm ?? firstAudience
  return Object.freeze({
    extract: resolveExtract(top, dpop !== undefined),
    maxTokenLength: positiveInteger('maxTokenLength', top.maxTokenLength, 8192),
    context: Object.freeze({
      realm,
      dpopAlgs: dpop?.rules.algs.join(' '),
      resourceMetadata: resource?.metadataUrl,
    }),
    resource,
    clock: top.clock ?? Date.now,
    tokenCacheSize: tokenCacheSize(top.tokenCache),
    remote: Object.freeze({
      allowInsecureHttp,
      fetch:
        top.fetch ??
        ((input: string | URL | Request, init?: RequestInit) => globalThis.fetch(input, init)),
      timeout: positive('fetchTimeout', top.fetchTimeout, 5) * 1000,
      maxBytes: positiveInteger('maxResponseSize', top.maxResponseSize, 262_144),
      maxAge: positive('keySetMaxAge', top.keySetMaxAge, 86_400) * 1000,
      minAge: nonNegative('keySetMinAge', top.keySetMinAge, 60) * 1000,
      defaultAge: positive('keySetDefaultAge', top.keySetDefaultAge, 600) * 1000,
      staleIfError: nonNegative('staleIfError', top.staleIfError, 21_600) * 1000,
      unknownKeyCooldown: nonNegative('unknownKeyCooldown', top.unknownKeyCooldown, 30) * 1000,
      coordinator: coordinatorOf(top.keyRefetchCoordinator),
      retryAfter: positive('retryAfter', top.retryAfter, 10) * 1000,
    }),
    issuers,
    resolver,
    binding,
    resolveIssuer(entry: IssuerOptions): IssuerSpec {
      const spec = resolveIssuer(entry)
      if (spec.introspection?.opaque === true) {
        fail(
          `issuer ${spec.match.issuer} from issuerResolver: only its JWTs can be introspected (introspection.tokens: 'jwt'); opaque tokens name no issuer to resolve`,
        )
      }
      return spec
    },
  })
}

function resolveResolver(value: unknown): ResolvedResolver | undefined {
  if (value === undefined) return undefined
  if (!isObject(value) || typeof value.resolve !== 'function') {
    fail('"issuerResolver" must be { resolve(iss), maxIssuers?, unknownTtl? }')
  }
  assertKnownOptions(value, new Set(['resolve', 'maxIssuers', 'unknownTtl']), '"issuerResolver"')
  return Object.freeze({
    resolve: value.resolve as IssuerResolver['resolve'],
    maxIssuers: positiveInteger('issuerResolver.maxIssuers', value.maxIssuers, 1000),
    unknownTtl: nonNegative('issuerResolver.unknownTtl', value.unknownTtl, 60) * 1000,
  })
}

function resolveExtract(top: AccessTokenValidatorOptions, dpop: boolean): ExtractSettings {
  const sources = top.tokenSources
  if (sources !== undefined) {
    if (!isObject(sources)) fail('"tokenSources" must be { cookie?, header? }')
    assertKnownOptions(sources, new Set(['cookie', 'header']), '"tokenSources"')
  }
  const header = optionalString('tokenSources.header', sources?.header)?.toLowerCase()
  if (header === 'authorization')
    fail('"tokenSources.header" names a header other than Authorization')
  if (header !== undefined && !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(header)) {
    fail('"tokenSources.header" must be a header field name (RFC 9110 §5.1)')
  }
  return Object.freeze({
    allowQuery: top.allowQuery === true,
    allowFormBody: top.allowFormBody === true,
    cookie: optionalString('tokenSources.cookie', sources?.cookie),
    header,
    dpop,
  })
}

function tokenCacheSize(value: AccessTokenValidatorOptions['tokenCache']): number {
  // Checked as `unknown`: options come from JavaScript too.
  if (value === false) return 0
  if (value === undefined) return 10_000
  if (!isObject(value)) fail('"tokenCache" must be false or { maxEntries }')
  assertKnownOptions(value, new Set(['maxEntries']), '"tokenCache"')
  return positiveInteger('tokenCache.maxEntries', value.maxEntries, 10_000)
}

/**
 * RFC 9728 §2: the resource identifier is an https URL without a fragment (we also refuse a
 * query, which §2 says it SHOULD NOT have); §3.1: its metadata lives at the well-known path
 * inserted between host and path.
 */
function resolveResource(
  value: unknown,
  metadataUrl: unknown,
  allowInsecureHttp: boolean,
): { readonly identifier: string; readonly metadataUrl: string } | undefined {
  if (value === undefined) {
    if (metadataUrl !== undefined) fail('"resourceMetadataUrl" needs "resource"')
    return undefined
  }
  if (typeof value !== 'string') fail('"resource" must be a URL')
  const url = assertSecureUrl('resource', value, allowInsecureHttp)
  if (value.includes('#') || value.includes('?')) {
    fail('"resource" must not have a query or fragment component (RFC 9728 §2)')
  }
  let published: string
  if (metadataUrl === undefined) {
    const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')
    published = `${url.origin}/.well-known/oauth-protected-resource${path}`
  } else {
    if (typeof metadataUrl !== 'string') fail('"resourceMetadataUrl" must be a URL')
    published = assertSecureUrl('resourceMetadataUrl', metadataUrl, allowInsecureHttp).href
  }
  return Object.freeze({ identifier: value, metadataUrl: published })
}

function coordinatorOf(value: unknown): KeyRefetchCoordinator | undefined {
  if (value === undefined) return undefined
  const methods = ['claim', 'publish', 'lookup'] as const
  if (
    typeof value !== 'object' ||
    value === null ||
    methods.some((name) => typeof (value as Record<string, unknown>)[name] !== 'function')
  ) {
    throw new TypeError(
      'bearer-guard: "keyRefetchCoordinator" must have claim(), publish() and lookup() methods',
    )
  }
  return value as KeyRefetchCoordinator
}
