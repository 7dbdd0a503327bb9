import type { ClaimValue } from '../claims/rules.js'
import type { ScopeClaim, ScopeHierarchy } from '../claims/scopes.js'
import type { KeyRefetchCoordinator } from '../keys/coordinator.js'
import type { IntrospectionSettings } from './introspection.js'
import type { StaticKeys } from '../keys/static.js'
import type { ReplayStore } from '../stores/replay.js'
import type { RevocationStore } from '../stores/revocation.js'

/** A value or a promise of it: stages answer synchronously whenever nothing has to wait. */
export type MaybePromise<T> = T | Promise<T>

/**
 * Options that describe one issuer's tokens. Set at the top level of
 * {@link AccessTokenValidatorOptions} they apply to every issuer; set in an {@link IssuerOptions}
 * entry they apply to that issuer only.
 */
export interface IssuerRuleOptions {
  /**
   * This API's identifier(s): a token's `aud` (a string or an array) must contain one of them
   * (RFC 9068 §4, RFC 7519 §4.1.3). For a provider whose access tokens have no `aud`, name the
   * claim that identifies the audience instead: `{ claim: 'client_id', values: ['…'] }` (Amazon
   * Cognito). Required: a resource server that accepts any audience accepts tokens meant for other
   * APIs, so there is no way to turn this check off.
   */
  readonly audience?: string | readonly string[] | AudienceClaim
  /**
   * Allowed signature algorithms. Default: `RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512
   * EdDSA`. `none` is never allowed. HMAC (`HS256`…) requires `secret`.
   */
  readonly algorithms?: readonly string[]
  /**
   * Claims holding granted scopes or roles. A string value is split on spaces; an array of strings
   * is used as is. A claim is named by a string (top level) or by an array of member names for a
   * nested claim (`['realm_access', 'roles']`: Keycloak). Default: `['scope', 'scp']`.
   */
  readonly scopeClaims?: readonly ScopeClaim[]
  /**
   * Scopes that include others, as data: `{ admin: ['orders:*', 'reports:read'], 'orders:*':
   * ['orders:read', 'orders:write'] }`. A granted key also grants what it lists, transitively, so
   * every policy and `auth.scopes` honour it, and a 403 names the broader scopes that would also
   * do. Names are exact scope tokens, not patterns. Default: none (a scope grants only itself).
   */
  readonly scopeHierarchy?: ScopeHierarchy
  /**
   * Claims that must be present (own members of the payload, not `null`) in every token, beyond
   * `iss`, `aud` and `exp`. Default: none.
   */
  readonly requiredClaims?: readonly string[]
  /**
   * Claims that must have one of the given values, e.g. `{ token_use: 'access' }` (Cognito) or
   * `{ email_verified: true }`. Keys are top-level claim names. Default: none.
   */
  readonly requiredClaimValues?: Readonly<Record<string, ClaimValue | readonly ClaimValue[]>>
  /**
   * Accept access tokens that carry a `nonce` claim. OpenID Connect puts `nonce` in ID tokens
   * (OIDC Core §2), so by default a token with one is refused as an ID token; a few providers copy
   * the authentication request's nonce into access tokens too. `at_hash`, `c_hash`, `s_hash` and
   * Keycloak's `typ: 'ID'` claim are refused whatever this says. Default: `false`.
   */
  readonly allowNonce?: boolean
  /**
   * Do not refuse tokens by their ID-token claims (`nonce`, `at_hash`, `c_hash`, `s_hash`, …).
   * Only for an issuer whose access tokens are built as ID tokens (Dex issues its access tokens
   * with its ID-token code, `at_hash` included): then only the audience tells a token for this
   * API from an ID token for a client, so the audience must be this API's own identifier, never
   * a client's. Default: `false`.
   *
   * @remarks Security: this sets RFC 9068 §4's ID-token refusal aside for the issuer it is set on.
   */
  readonly allowIdTokenClaims?: boolean
  /**
   * Strict RFC 9068 mode: `typ` must be `at+jwt` and `iss`, `exp`, `aud`, `sub`, `client_id`,
   * `iat` and `jti` must be present. Default: `false` (a present `typ` must still be an
   * access-token type: `at+jwt`, `application/at+jwt` or `JWT`).
   */
  readonly strict?: boolean
  /**
   * Maximum age of a token, from its `iat`, in seconds. When set, `iat` is required.
   * Default: none (only `exp` limits the lifetime).
   */
  readonly maxTokenAge?: number
}

/** An audience held in a claim other than `aud` (see {@link IssuerRuleOptions.audience}). */
export interface AudienceClaim {
  /** The claim, e.g. `client_id`. Its value must be a string equal to one of `values`. */
  readonly claim: string
  /** The accepted values. */
  readonly values: readonly string[]
}

/** One accepted issuer and how its keys are found; every unset rule comes from the top level. */
export interface IssuerOptions extends IssuerRuleOptions {
  /**
   * The issuer identifier: a token's `iss` must equal it exactly, and so must the `issuer` of its
   * discovery document. A multi-tenant issuer holds `{tenantid}` in place of the tenant
   * (`https://login.microsoftonline.com/{tenantid}/v2.0`); it needs `tenants` and a `jwksUri`.
   */
  readonly issuer: string
  /**
   * For an issuer with `{tenantid}`: the tenant ids accepted, or `'any'` to accept every tenant
   * (then authorise by `tid` in your policies). The token's `tid` claim must equal the tenant in
   * its `iss`.
   */
  readonly tenants?: readonly string[] | 'any'
  /**
   * The issuer's JWKS URL. Default: taken from the discovery document
   * (`/.well-known/openid-configuration`, then RFC 8414 `/.well-known/oauth-authorization-server`).
   */
  readonly jwksUri?: string
  /**
   * Static verification keys instead of discovery: a PEM public key or certificate, a JWK, a JWKS,
   * or a `file:` URL of one. Default: none (keys are discovered).
   */
  readonly keys?: StaticKeys
  /**
   * A shared secret for HMAC-signed tokens (at least 32 bytes). Default: none, and HMAC tokens are
   * refused. When set, `algorithms` must list the HMAC algorithms to accept, and no key set is used.
   *
   * @remarks Security: a shared secret lets every holder mint tokens. Prefer asymmetric keys.
   */
  readonly secret?: string | Uint8Array
  /**
   * Opaque tokens verified by introspection at this issuer (RFC 7662; see
   * {@link IntrospectionSettings}). Default: none (a token that is not a JWT is refused).
   */
  readonly introspection?: IntrospectionSettings
}

/**
 * Finds the settings of issuers known only at run time (tenants in a database). It is asked only
 * about an `iss` no configured issuer matches; what it returns must be that issuer. Answers are
 * cached: validators per issuer in an LRU of `maxIssuers`, unknown issuers for `unknownTtl`.
 */
export interface IssuerResolver {
  /**
   * The settings of the issuer named `iss`, or `undefined` when it is not accepted. A rejection
   * answers the request with 503 (the lookup failed; the token may be good) and is not cached.
   *
   * @remarks Security: `iss` is unverified here; never fetch anything it names. Look it up among
   * the issuers your application allows.
   */
  readonly resolve: (iss: string) => MaybePromise<IssuerOptions | undefined>
  /** Most issuers whose validators (and key sets) are kept. Default: `1000`. */
  readonly maxIssuers?: number
  /** How long an unknown issuer's answer is remembered, in seconds. Default: `60`. */
  readonly unknownTtl?: number
}

/** Where bearer tokens may be found beyond the `Authorization` header (each opt-in). */
export interface TokenSources {
  /**
   * The name of a cookie holding the access token, for a backend-for-frontend. Default: none.
   *
   * @remarks Security: a cookie is sent by the browser on its own, so a route guarded this way is
   * open to cross-site request forgery unless the cookie is `SameSite` and your API checks the
   * origin of state-changing requests.
   */
  readonly cookie?: string
  /** The name of a request header holding the bare token (no scheme). Default: none. */
  readonly header?: string
}

/**
 * DPoP (RFC 9449): sender-constrained tokens. With it, `Authorization: DPoP <token>` and one
 * `DPoP` proof header are accepted beside `Bearer`; a DPoP-bound token (`cnf.jkt`) needs a fresh,
 * valid proof by its key on every request, cache hits included, each proof accepted once.
 */
export interface DpopSettings {
  /**
   * The origin clients use to reach this API, e.g. `https://api.example.com`: a proof's `htu`
   * must be it plus the request's path (RFC 9449 §4.3). Never taken from the request's `Host` or
   * `X-Forwarded-*`. Required.
   */
  readonly origin: string
  /** Refuse bearer tokens: only DPoP-bound (or certificate-bound) tokens are accepted. Default: `false`. */
  readonly required?: boolean
  /** Proof algorithms accepted, sent as the challenge's `algs`. Default: every asymmetric one. */
  readonly algorithms?: readonly string[]
  /** How long after its `iat` a proof is accepted, in seconds. Default: `60`. */
  readonly maxAge?: number
  /**
   * Server-provided nonces (RFC 9449 §8, §9): every proof must carry a current one, else
   * `use_dpop_nonce` with a `DPoP-Nonce` header. Stateless (an HMAC over a time step): give every
   * instance of a fleet the same `secret`. Default: `false`.
   */
  readonly nonce?: boolean | { readonly secret?: string | Uint8Array; readonly step?: number }
  /**
   * Where proofs' `jti`s are remembered so each is accepted once (RFC 9449 §11.1). Default: a
   * bounded in-process store; a fleet of instances shares one (`@bearer-guard/redis`).
   */
  readonly replayStore?: ReplayStore
}

/** Which issuers are accepted: a list, a resolver, or both (see {@link AccessTokenValidatorOptions}). */
export type IssuerSelectionOptions =
  | {
      /**
       * The accepted issuer(s): an issuer identifier, an {@link IssuerOptions} with its own
       * settings, or an array of them. Only tokens whose `iss` names one of them are verified,
       * each with that issuer's keys only; a token naming any other issuer is refused without a
       * request to anything it names. Required unless `issuerResolver` is given.
       */
      readonly issuer: string | IssuerOptions | readonly (string | IssuerOptions)[]
      /** Issuers known only at run time (see {@link IssuerResolver}). Default: none. */
      readonly issuerResolver?: IssuerResolver
    }
  | {
      readonly issuer?: string | IssuerOptions | readonly (string | IssuerOptions)[]
      readonly issuerResolver: IssuerResolver
    }

/**
 * Options of {@link createAccessTokenValidator}: an `issuer` (or several, or an `issuerResolver`)
 * and an `audience` (at the top level, or in each issuer's entry); every other default is the
 * secure one.
 */
export type AccessTokenValidatorOptions = IssuerSelectionOptions & ValidatorSettings

/** The options of {@link createAccessTokenValidator} beside the issuers. */
export interface ValidatorSettings extends IssuerRuleOptions {
  /** With a single issuer: its JWKS URL (see {@link IssuerOptions.jwksUri}). */
  readonly jwksUri?: string
  /** With a single issuer: static keys (see {@link IssuerOptions.keys}). */
  readonly keys?: StaticKeys
  /** With a single issuer: an HMAC secret (see {@link IssuerOptions.secret}). */
  readonly secret?: string | Uint8Array
  /** With a single issuer: token introspection (see {@link IssuerOptions.introspection}). */
  readonly introspection?: IntrospectionSettings
  /** Accepted clock skew when checking `exp`, `nbf` and `iat`, in seconds. Default: `30`. */
  readonly clockTolerance?: number
  /**
   * This API's resource identifier (RFC 8707, RFC 9728 §2): an `https` URL (or `http` on
   * loopback) without query or fragment. It is the default `audience`, and makes the API publish
   * RFC 9728 protected resource metadata: every 401 and 403 challenge then carries
   * `resource_metadata`, and adapters serve the document. Default: none.
   */
  readonly resource?: string
  /**
   * Where the RFC 9728 metadata document is served. Default: `/.well-known/oauth-protected-resource`
   * inserted between the host and the path of `resource` (RFC 9728 §3.1). Set it when clients
   * reach the API at another origin than the resource identifier's.
   */
  readonly resourceMetadataUrl?: string
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
  /** A cookie or a custom header that may carry the token (see {@link TokenSources}). Default: none. */
  readonly tokenSources?: TokenSources
  /**
   * Allow `http://` issuer, discovery and JWKS URLs on hosts other than loopback.
   * Default: `false` (only `https://`, or `http://` on 127.0.0.0/8, `[::1]` and `localhost`).
   *
   * @remarks Security: keys fetched over plain HTTP can be replaced by anyone on the path.
   */
  readonly allowInsecureHttp?: boolean
  /** DPoP, sender-constrained tokens (see {@link DpopSettings}). Default: off. */
  readonly dpop?: false | DpopSettings
  /**
   * Certificate-bound tokens (RFC 8705): a token with `cnf['x5t#S256']` always needs that client
   * certificate, read from the TLS connection; behind a TLS-terminating proxy, name the header
   * in which the proxy passes it (URL-encoded PEM). Default: the connection only.
   *
   * @remarks Security: name a header only when every request passes through the proxy, which
   * must overwrite it; otherwise clients could send any certificate.
   */
  readonly mtls?: { readonly certificateHeader?: string }
  /**
   * Consulted on every request, cache hits included: a revoked `jti`, or a subject revoked before
   * the token's `iat`, is refused with 401 (see `MemoryRevocationStore`). Default: none.
   */
  readonly revocation?: RevocationStore
  /** Timeout of each discovery or JWKS request, headers and body, in seconds. Default: `5`. */
  readonly fetchTimeout?: number
  /** Largest accepted discovery or JWKS response body, in bytes. Default: `262144` (256 KiB). */
  readonly maxResponseSize?: number
  /**
   * The longest time a fetched key set is used before it is refreshed, in seconds: the JWKS
   * response's `Cache-Control: max-age` is honoured up to this (so a key the issuer removes stops
   * verifying within it), less up to 10% jitter. Cached keys keep serving while the refresh runs.
   * Default: `86400` (1 day).
   */
  readonly keySetMaxAge?: number
  /**
   * The key set's age when its response has no `Cache-Control: max-age`, in seconds (at most
   * `keySetMaxAge`). Default: `600`.
   */
  readonly keySetDefaultAge?: number
  /**
   * The shortest key-set age honoured from `Cache-Control: max-age`, in seconds, so an issuer
   * answering `max-age=0` is not fetched on every request. Default: `60`.
   */
  readonly keySetMinAge?: number
  /**
   * How long keys older than their age are still used while refreshing them fails, in seconds;
   * past it, requests fail closed with 503. Default: `21600` (6 hours).
   */
  readonly staleIfError?: number
  /**
   * Minimum time between two refetches caused by a token whose `kid` is not in the key set,
   * in seconds. The initial load does not start this cooldown. Default: `30`.
   */
  readonly unknownKeyCooldown?: number
  /**
   * Shares unknown-`kid` refetches across the instances of a deployment, so that a flood of
   * made-up `kid`s costs the issuer one key-set fetch per `unknownKeyCooldown` for the whole
   * fleet, not one per instance (`@bearer-guard/redis`: `stores.keyRefetch`). Only `kid`s pass
   * through it, never keys. Default: none (each instance on its own).
   */
  readonly keyRefetchCoordinator?: KeyRefetchCoordinator
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
  issuerResolver: true,
  audience: true,
  algorithms: true,
  scopeClaims: true,
  scopeHierarchy: true,
  requiredClaims: true,
  requiredClaimValues: true,
  allowNonce: true,
  allowIdTokenClaims: true,
  strict: true,
  maxTokenAge: true,
  jwksUri: true,
  keys: true,
  secret: true,
  introspection: true,
  clockTolerance: true,
  realm: true,
  resource: true,
  resourceMetadataUrl: true,
  maxTokenLength: true,
  allowFormBody: true,
  allowQuery: true,
  tokenSources: true,
  dpop: true,
  mtls: true,
  revocation: true,
  allowInsecureHttp: true,
  fetchTimeout: true,
  maxResponseSize: true,
  keySetMaxAge: true,
  keySetMinAge: true,
  keySetDefaultAge: true,
  staleIfError: true,
  unknownKeyCooldown: true,
  keyRefetchCoordinator: true,
  retryAfter: true,
  tokenCache: true,
  clock: true,
  fetch: true,
}

/** The options of one {@link IssuerOptions} entry. */
const ISSUER_OPTION_NAMES_RECORD: Readonly<Record<keyof IssuerOptions, true>> = {
  issuer: true,
  tenants: true,
  jwksUri: true,
  keys: true,
  secret: true,
  introspection: true,
  audience: true,
  algorithms: true,
  scopeClaims: true,
  scopeHierarchy: true,
  requiredClaims: true,
  requiredClaimValues: true,
  allowNonce: true,
  allowIdTokenClaims: true,
  strict: true,
  maxTokenAge: true,
}

/** The names of every validator option, for adapters that accept them beside their own. */
export const VALIDATOR_OPTION_NAMES: ReadonlySet<string> = new Set(Object.keys(OPTION_NAMES))
/** The names of the options of an {@link IssuerOptions} entry. */
export const ISSUER_OPTION_NAMES: ReadonlySet<string> = new Set(
  Object.keys(ISSUER_OPTION_NAMES_RECORD),
)
