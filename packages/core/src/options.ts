import { createSecretKey, type KeyObject } from 'node:crypto'
import { ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS, isSupportedAlgorithm } from './algorithms.js'
import { assertKnownOptions } from './option-names.js'
import { assertSecureUrl } from './url.js'

/**
 * Options of {@link createAccessTokenValidator}. Only `issuer` and `audience` are required; every
 * other default is the secure one.
 */
export interface AccessTokenValidatorOptions {
  /**
   * The authorization server's issuer identifier. Tokens' `iss` must equal it exactly, and so must
   * the `issuer` of its discovery document. Its keys are found by discovery unless
   * {@link AccessTokenValidatorOptions.jwksUri} is given.
   */
  readonly issuer: string
  /**
   * This API's identifier(s). A token's `aud` (string or array) must contain at least one.
   * Required: a resource server that accepts any audience accepts tokens meant for other APIs.
   */
  readonly audience: string | readonly string[]
  /**
   * The issuer's JWKS URL. Default: taken from the discovery document
   * (`/.well-known/openid-configuration`, then RFC 8414 `/.well-known/oauth-authorization-server`).
   */
  readonly jwksUri?: string
  /**
   * Allowed signature algorithms. Default: `RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512
   * EdDSA`. `none` is never allowed. HMAC (`HS256`…) requires {@link AccessTokenValidatorOptions.secret}.
   */
  readonly algorithms?: readonly string[]
  /**
   * A shared secret for HMAC-signed tokens (at least 32 bytes). Default: none, and HMAC tokens are
   * refused. When set, `algorithms` must list the HMAC algorithms to accept, and no key set is used.
   *
   * @remarks Security: a shared secret lets every holder mint tokens. Prefer asymmetric keys.
   */
  readonly secret?: string | Uint8Array
  /** Accepted clock skew when checking `exp`, `nbf` and `iat`, in seconds. Default: `30`. */
  readonly clockTolerance?: number
  /**
   * Maximum age of a token, from its `iat`, in seconds. When set, `iat` is required.
   * Default: none (only `exp` limits the lifetime).
   */
  readonly maxTokenAge?: number
  /**
   * Claims that must be present (own members of the payload, not `null`) in every token, beyond
   * `iss`, `aud` and `exp`. Default: none.
   */
  readonly requiredClaims?: readonly string[]
  /**
   * Accept access tokens that carry a `nonce` claim. OpenID Connect puts `nonce` in ID tokens
   * (OIDC Core §2), so by default a token with one is refused as an ID token; a few providers copy
   * the authentication request's nonce into access tokens too. `at_hash`, `c_hash`, `s_hash` and
   * Keycloak's `typ: 'ID'` claim are refused whatever this says. Default: `false`.
   */
  readonly allowNonce?: boolean
  /**
   * Strict RFC 9068 mode: `typ` must be `at+jwt` and `iss`, `exp`, `aud`, `sub`, `client_id`,
   * `iat` and `jti` must be present. Default: `false` (a present `typ` must still be an
   * access-token type: `at+jwt`, `application/at+jwt` or `JWT`).
   */
  readonly strict?: boolean
  /**
   * Claims holding granted scopes. A string value is split on spaces; an array of strings is used
   * as is. Default: `['scope', 'scp']`. Auth0's RBAC uses `['permissions']`.
   */
  readonly scopeClaims?: readonly string[]
  /** The `realm` of `WWW-Authenticate` challenges. Default: the first configured audience. */
  readonly realm?: string
  /** Largest accepted token, in characters, checked before any decoding. Default: `8192`. */
  readonly maxTokenLength?: number
  /**
   * Accept tokens in an `application/x-www-form-urlencoded` body parameter `access_token`
   * (RFC 6750 §2.2). Default: `false`.
   */
  readonly allowFormBody?: boolean
  /**
   * Accept tokens in the `access_token` URL query parameter (RFC 6750 §2.3). Default: `false`.
   *
   * @remarks Security: URLs end up in logs and `Referer` headers.
   */
  readonly allowQuery?: boolean
  /**
   * Allow `http://` issuer, discovery and JWKS URLs on hosts other than loopback.
   * Default: `false` (only `https://`, or `http://` on 127.0.0.0/8, `[::1]` and `localhost`).
   *
   * @remarks Security: keys fetched over plain HTTP can be replaced by anyone on the path.
   */
  readonly allowInsecureHttp?: boolean
  /** Timeout of each discovery or JWKS request, headers and body, in seconds. Default: `5`. */
  readonly fetchTimeout?: number
  /** Largest accepted discovery or JWKS response body, in bytes. Default: `262144` (256 KiB). */
  readonly maxResponseSize?: number
  /**
   * How long a fetched key set is used before it is refreshed, in seconds: the JWKS response's
   * `Cache-Control: max-age` if it is shorter, bounded below by `keySetMinAge`, less up to 10%
   * jitter. Cached keys keep serving while the refresh runs. Default: `600`.
   */
  readonly keySetMaxAge?: number
  /**
   * The shortest key-set age honoured from `Cache-Control: max-age`, in seconds, so an issuer
   * answering `max-age=0` is not fetched on every request. Default: `60`.
   */
  readonly keySetMinAge?: number
  /**
   * How long keys older than `keySetMaxAge` are still used while refreshing them fails, in
   * seconds; past it, requests fail closed with 503. Default: `21600` (6 hours).
   */
  readonly staleIfError?: number
  /**
   * Minimum time between two refetches caused by a token whose `kid` is not in the key set,
   * in seconds. The initial load does not start this cooldown. Default: `30`.
   */
  readonly unknownKeyCooldown?: number
  /** The `Retry-After` sent with a 503 when keys cannot be obtained, in seconds. Default: `10`. */
  readonly retryAfter?: number
  /**
   * The verified-token cache: a repeated token skips signature verification (its time claims and
   * key are re-checked on every hit; route policies always run). `false` turns it off.
   * Default: `{ maxEntries: 10000 }`.
   */
  readonly tokenCache?: false | { readonly maxEntries?: number }
  /** The current time in milliseconds since the epoch, injectable for tests. Default: `Date.now`. */
  readonly clock?: () => number
  /**
   * The `fetch` used for discovery and JWKS requests. Default: the global `fetch`.
   * Redirects are never followed, whatever this function does by default.
   */
  readonly fetch?: typeof globalThis.fetch
}

/** Every option of {@link AccessTokenValidatorOptions}; the compiler keeps it complete. */
const OPTION_NAMES: Readonly<Record<keyof AccessTokenValidatorOptions, true>> = {
  issuer: true,
  audience: true,
  jwksUri: true,
  algorithms: true,
  secret: true,
  clockTolerance: true,
  maxTokenAge: true,
  requiredClaims: true,
  allowNonce: true,
  strict: true,
  scopeClaims: true,
  realm: true,
  maxTokenLength: true,
  allowFormBody: true,
  allowQuery: true,
  allowInsecureHttp: true,
  fetchTimeout: true,
  maxResponseSize: true,
  keySetMaxAge: true,
  keySetMinAge: true,
  staleIfError: true,
  unknownKeyCooldown: true,
  retryAfter: true,
  tokenCache: true,
  clock: true,
  fetch: true,
}

/** The names of every validator option, for adapters that accept them beside their own. */
export const VALIDATOR_OPTION_NAMES: ReadonlySet<string> = new Set(Object.keys(OPTION_NAMES))

/** Options after defaults and checks; internal. */
export interface ResolvedOptions {
  readonly issuer: string
  readonly audiences: readonly string[]
  readonly jwksUri: string | undefined
  readonly algorithms: ReadonlySet<string>
  readonly secret: KeyObject | undefined
  readonly clockTolerance: number
  readonly maxTokenAge: number | undefined
  readonly requiredClaims: readonly string[]
  readonly allowNonce: boolean
  readonly strict: boolean
  readonly scopeClaims: readonly string[]
  readonly realm: string
  readonly maxTokenLength: number
  readonly allowFormBody: boolean
  readonly allowQuery: boolean
  readonly allowInsecureHttp: boolean
  /** In milliseconds. */
  readonly fetchTimeout: number
  readonly maxResponseSize: number
  readonly keySetMaxAge: number
  readonly keySetMinAge: number
  readonly staleIfError: number
  readonly unknownKeyCooldown: number
  readonly retryAfter: number
  /** Entries of the verified-token cache; 0 when it is off. */
  readonly tokenCacheSize: number
  readonly clock: () => number
  readonly fetch: typeof globalThis.fetch
}

function fail(message: string): never {
  throw new TypeError(`bearer-guard: ${message}`)
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

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(`"${name}" must be a finite non-negative number`)
  }
  return value
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = nonNegative(name, value, fallback)
  if (v === 0) fail(`"${name}" must be greater than 0`)
  return v
}

function stringList(name: string, value: unknown, fallback: readonly string[]): readonly string[] {
  if (value === undefined) return fallback
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.some((v) => typeof v !== 'string' || v === '')) {
    fail(`"${name}" must be a non-empty string or an array of non-empty strings`)
  }
  return Object.freeze([...(list as string[])])
}

function tokenCacheSize(value: AccessTokenValidatorOptions['tokenCache']): number {
  if (value === false) return 0
  if (value === undefined) return 10_000
  if (typeof value !== 'object') fail('"tokenCache" must be false or { maxEntries }')
  const size = positive('tokenCache.maxEntries', value.maxEntries, 10_000)
  if (!Number.isInteger(size)) fail('"tokenCache.maxEntries" must be an integer')
  return size
}

/** Checks options once, at construction, and fills in defaults. */
export function resolveOptions(options: AccessTokenValidatorOptions): ResolvedOptions {
  if (typeof options !== 'object' || (options as unknown) === null)
    fail('options must be an object')
  assertKnownOptions(options, VALIDATOR_OPTION_NAMES, 'createAccessTokenValidator()')
  const { issuer } = options
  if (typeof issuer !== 'string' || issuer === '') fail('"issuer" is required')
  const allowInsecureHttp = options.allowInsecureHttp === true
  assertSecureUrl('issuer', issuer, allowInsecureHttp)
  assertIssuerIdentifier(issuer)
  if (options.jwksUri !== undefined) assertSecureUrl('jwksUri', options.jwksUri, allowInsecureHttp)

  const audiences = stringList('audience', options.audience, [])
  if (audiences.length === 0) fail('"audience" is required')

  let secret: KeyObject | undefined
  if (options.secret !== undefined) {
    const bytes =
      typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : options.secret
    if (!(bytes instanceof Uint8Array) || bytes.byteLength < 32) {
      fail('"secret" must be at least 32 bytes')
    }
    secret = createSecretKey(bytes)
  }

  const algorithms = stringList(
    'algorithms',
    options.algorithms,
    secret === undefined ? ASYMMETRIC_ALGORITHMS : HMAC_ALGORITHMS,
  )
  for (const alg of algorithms) {
    if (!isSupportedAlgorithm(alg)) fail(`algorithm "${alg}" is not supported`)
    const hmac = (HMAC_ALGORITHMS as readonly string[]).includes(alg)
    if (hmac && secret === undefined) fail(`algorithm "${alg}" requires "secret"`)
    if (!hmac && secret !== undefined) {
      fail(`algorithm "${alg}" cannot be combined with "secret"; use one validator per key kind`)
    }
  }

  const scopeClaims = stringList('scopeClaims', options.scopeClaims, ['scope', 'scp'])
  const requiredClaims = stringList('requiredClaims', options.requiredClaims, [])
  if (options.realm !== undefined && typeof options.realm !== 'string')
    fail('"realm" must be a string')
  if (options.clock !== undefined && typeof options.clock !== 'function') {
    fail('"clock" must be a function returning milliseconds')
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    fail('"fetch" must be a function')
  }

  return {
    issuer,
    audiences,
    jwksUri: options.jwksUri,
    algorithms: new Set(algorithms),
    secret,
    clockTolerance: nonNegative('clockTolerance', options.clockTolerance, 30),
    maxTokenAge:
      options.maxTokenAge === undefined
        ? undefined
        : positive('maxTokenAge', options.maxTokenAge, 0),
    requiredClaims,
    allowNonce: options.allowNonce === true,
    strict: options.strict === true,
    scopeClaims,
    realm: options.realm ?? (audiences[0] as string),
    maxTokenLength: positive('maxTokenLength', options.maxTokenLength, 8192),
    allowFormBody: options.allowFormBody === true,
    allowQuery: options.allowQuery === true,
    allowInsecureHttp,
    fetchTimeout: positive('fetchTimeout', options.fetchTimeout, 5) * 1000,
    maxResponseSize: positive('maxResponseSize', options.maxResponseSize, 262_144),
    keySetMaxAge: positive('keySetMaxAge', options.keySetMaxAge, 600),
    keySetMinAge: nonNegative('keySetMinAge', options.keySetMinAge, 60),
    staleIfError: nonNegative('staleIfError', options.staleIfError, 21_600),
    unknownKeyCooldown: nonNegative('unknownKeyCooldown', options.unknownKeyCooldown, 30),
    retryAfter: positive('retryAfter', options.retryAfter, 10),
    tokenCacheSize: tokenCacheSize(options.tokenCache),
    clock: options.clock ?? Date.now,
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
  }
}
