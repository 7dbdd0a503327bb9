import type { TestAlgorithm } from './algorithms.js'
import type { TestClient, TestClientOptions } from './clients.js'
import type { Fault, FaultEndpoint } from './faults.js'
import type { GenerateKeyOptions, TestKey } from './keys.js'
import type { MintOptions, OpaqueTokenOptions } from './mint.js'
import type { ShapeKind, ShapeOptionsOf } from './providers/index.js'
import type { ProviderName } from './providers/shape.js'
import type { RequestCounts } from './server.js'

/** Options of `TestIssuer.rotate`. */
export interface RotateOptions {
  /** Algorithm of the new key. Default: the issuer's `algorithm` option. */
  readonly algorithm?: TestAlgorithm
  /** Keep the previous active key in the JWKS. Default `true`. */
  readonly keepOld?: boolean
  /**
   * Extra members of the new key's published JWK (see `GenerateKeyOptions.jwkMembers`). Default:
   * none.
   */
  readonly jwkMembers?: Readonly<Record<string, unknown>>
}

/**
 * A running in-process OAuth 2.0 authorization server: discovery, JWKS, a token endpoint and token
 * minting.
 */
export interface TestIssuer {
  /**
   * The issuer identifier: `iss` of minted tokens and `issuer` of the discovery documents. The
   * `issuer` option, or `url + path`.
   */
  readonly issuer: string
  /** The server's origin, `http://127.0.0.1:PORT`. */
  readonly url: string
  /** The JWKS URL, `url + path + '/jwks'` (the discovery documents' `jwks_uri`). */
  readonly jwksUri: string
  /**
   * The token endpoint, `url + path + '/token'` (the discovery documents' `token_endpoint`): the
   * `client_credentials` grant (RFC 6749 §4.4) for the registered clients, authenticated by
   * `client_secret_basic`, `client_secret_post` or `private_key_jwt` (RFC 7523 §2.2), with `scope`
   * and RFC 8707 `resource`.
   */
  readonly tokenEndpoint: string
  /**
   * The introspection endpoint, `url + path + '/introspect'` (the discovery documents'
   * `introspection_endpoint`), RFC 7662: a registered client, authenticated by
   * `client_secret_basic`, `client_secret_post` or `private_key_jwt`, POSTs `token`; the answer is
   * `{ active: true, …claims }` for a token of this issuer (opaque, or a JWT signed by a published
   * key) that is neither revoked nor expired, else `{ active: false }`. RFC 9701 signed answers
   * with the `signedIntrospection` option. Faults: `fail('introspection', …)`.
   */
  readonly introspectionEndpoint: string
  /**
   * The discovery document URLs. Both are listed whatever the `discovery` option; only the
   * enabled ones are served (the others answer 404).
   */
  readonly discoveryUrls: { readonly openid: string; readonly oauth: string }
  /** The key `mint` signs with by default. */
  readonly activeKey: TestKey
  /** The keys currently published in the JWKS, in publication order (a snapshot). */
  readonly keys: readonly TestKey[]
  /**
   * Signs an RFC 9068 access token. Default header `{ alg, kid, typ: 'at+jwt' }`; default claims
   * `iss`, `sub: 'user-123'`, `aud`, `client_id: 'test-client'`, `iat` (now), `exp` (now +
   * `tokenLifetime`) and a random `jti`. `claims` are merged over the defaults; a claim given as
   * `undefined` is removed. No `scope` unless given. `options.dpop` (a `DpopKey`) and
   * `options.certificate` (a `TestCertificate`) bind the token with a `cnf` claim: `{ jkt }`
   * (RFC 9449 §6.1) and `{ 'x5t#S256' }` (RFC 8705 §3.1).
   *
   * @throws TypeError when the header `alg` is not one the signing key (or secret) can produce.
   */
  mint(claims?: Readonly<Record<string, unknown>>, options?: MintOptions): Promise<string>
  /**
   * Issues an opaque access token: 32 random bytes, base64url, never a JWT. Only this issuer knows
   * what it means: its introspection endpoint answers with its claims, the defaults of `mint`
   * (`iss`, `sub`, `aud`, `client_id`, `iat`, `exp`, `jti`) plus `token_type` (`'Bearer'`, or
   * `'DPoP'` when bound to a DPoP key, RFC 9449 §6.2), with `claims` merged over them (`undefined`
   * removes one). `options.dpop` and `options.certificate` add `cnf` as for `mint`.
   *
   * @example
   * ```ts
   * const token = issuer.mintOpaque({ scope: 'orders:read' })
   * issuer.revoke(token) // introspection now answers { active: false }
   * ```
   */
  mintOpaque(claims?: Readonly<Record<string, unknown>>, options?: OpaqueTokenOptions): string
  /**
   * Revokes a token (opaque, or a JWT of this issuer): from now on the introspection endpoint
   * answers `{ active: false }` for it. Nothing else changes (a JWT still verifies locally).
   */
  revoke(token: string): void
  /**
   * Signs a token in a real provider's header and claim shape: `providers[provider][kind]`
   * (see `providers`) built with `options`, its times taken from the issuer's clock, signed
   * with `options.key` or the active key. The shape's `iss` is the provider's (e.g. the
   * `userPoolId` option of Cognito), not this issuer's: create the issuer with the same
   * `issuer` for a validator to accept it.
   *
   * @throws TypeError for an unknown provider, kind or option, or a key that cannot sign.
   * @example
   * ```ts
   * const issuer = await createTestIssuer({ issuer: 'https://example-tenant.us.auth0.com/' })
   * const token = await issuer.mintShaped('auth0', 'accessToken', {
   *   audience: 'https://api.example.com',
   * })
   * const idToken = await issuer.mintShaped('auth0', 'idToken') // an API must refuse this one
   * ```
   */
  mintShaped<P extends ProviderName, K extends ShapeKind<P>>(
    provider: P,
    kind: K,
    options?: ShapeOptionsOf<P, K>,
  ): Promise<string>
  /**
   * Generates a new key, publishes it and makes it the active key. The previous active key stays
   * published unless `keepOld` is `false`.
   */
  rotate(options?: RotateOptions): Promise<TestKey>
  /**
   * Generates a key that is NOT published (a "foreign" key for forgery and unknown-`kid` tests).
   * Default algorithm: the issuer's `algorithm` option.
   */
  generateKey(algorithm?: TestAlgorithm, options?: GenerateKeyOptions): Promise<TestKey>
  /**
   * Registers a client of the token endpoint, from now on; returns it with its defaults applied.
   *
   * @throws TypeError when an option is invalid or unknown, or a client with this `clientId`
   *   exists.
   * @example
   * ```ts
   * const client = issuer.registerClient({
   *   clientId: 'billing',
   *   clientSecret: 's3cret',
   *   scope: 'orders:read orders:write',
   * })
   * ```
   */
  registerClient(options: TestClientOptions): TestClient
  /**
   * Publishes `key` in the JWKS (replacing a published key with the same `kid`), as its
   * `publicJwk` (with any `jwkMembers` it was generated with).
   */
  publishKey(key: TestKey): void
  /** Removes the key with this `kid` from the JWKS (the active key stays active if removed). */
  unpublishKey(kid: string): void
  /** Live counters of the HTTP requests received since start or `resetCounts`. */
  readonly requests: RequestCounts
  /** Sets the request counters to zero. */
  resetCounts(): void
  /**
   * Makes `endpoint` fail with `fault` from now on; `null` restores normal service. `'all'` sets
   * both discovery (every served discovery URL) and JWKS; `'introspection'` the introspection
   * endpoint (a fault answers after the request's body was read).
   */
  fail(endpoint: FaultEndpoint, fault: Fault | null): void
  /** Stops the server, destroying every connection (hanging ones included). Idempotent. */
  close(): Promise<void>
}
