import type { TestAlgorithm } from './algorithms.js'
import { createClient } from './clients.js'
import type { TestClient, TestClientOptions } from './clients.js'
import { assertFault } from './faults.js'
import type { Fault, FaultEndpoint } from './faults.js'
import { addClient, resolveIssuerOptions } from './issuer-options.js'
import type { TestIssuerOptions } from './issuer-options.js'
import { generateTestKey } from './keys.js'
import type { GenerateKeyOptions, TestKey } from './keys.js'
import { mintToken } from './mint.js'
import type { MintOptions } from './mint.js'
import { json, startServer } from './server.js'
import type { Reply, RequestCounts, Route } from './server.js'
import { handleTokenRequest } from './token-endpoint.js'
import type { TokenEndpointContext } from './token-endpoint.js'

/** Options of {@link TestIssuer.rotate}. */
export interface RotateOptions {
  /** Algorithm of the new key. Default: the issuer's `algorithm` option. */
  readonly algorithm?: TestAlgorithm
  /** Keep the previous active key in the JWKS. Default `true`. */
  readonly keepOld?: boolean
}

/**
 * A running in-process OAuth 2.0 authorization server: discovery, JWKS, a token endpoint and token
 * minting.
 */
export interface TestIssuer {
  /** The issuer identifier (`iss` of minted tokens): `url + path`. */
  readonly issuer: string
  /** The server's origin, `http://127.0.0.1:PORT`. */
  readonly url: string
  /** The JWKS URL, `issuer + '/jwks'`. */
  readonly jwksUri: string
  /**
   * The token endpoint, `issuer + '/token'` (the discovery documents' `token_endpoint`): the
   * `client_credentials` grant (RFC 6749 §4.4) for the registered clients, authenticated by
   * `client_secret_basic` or `client_secret_post`, with `scope` and RFC 8707 `resource`.
   */
  readonly tokenEndpoint: string
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
   * `undefined` is removed. No `scope` unless given.
   *
   * @throws TypeError when the header `alg` is not one the signing key (or secret) can produce.
   */
  mint(claims?: Readonly<Record<string, unknown>>, options?: MintOptions): Promise<string>
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
  /** Publishes `key` in the JWKS (replacing a published key with the same `kid`). */
  publishKey(key: TestKey): void
  /** Removes the key with this `kid` from the JWKS (the active key stays active if removed). */
  unpublishKey(kid: string): void
  /** Live counters of the HTTP requests received since start or `resetCounts`. */
  readonly requests: RequestCounts
  /** Sets the request counters to zero. */
  resetCounts(): void
  /**
   * Makes `endpoint` fail with `fault` from now on; `null` restores normal service. `'all'` sets
   * both discovery (every served discovery URL) and JWKS.
   */
  fail(endpoint: FaultEndpoint, fault: Fault | null): void
  /** Stops the server, destroying every connection (hanging ones included). Idempotent. */
  close(): Promise<void>
}

/**
 * Starts a real OAuth 2.0 issuer on 127.0.0.1: discovery documents (OpenID Connect and RFC 8414),
 * a JWKS, a `client_credentials` token endpoint, token minting, key rotation, request counters
 * and fault injection.
 *
 * Close it when done (`afterAll(() => issuer.close())`).
 *
 * @throws TypeError when an option is invalid or unknown.
 *
 * @example
 * ```ts
 * import { createTestIssuer } from '@bearer-guard/testing'
 * import { createAccessTokenValidator } from '@bearer-guard/core'
 *
 * const issuer = await createTestIssuer({ algorithm: 'ES256' })
 * const validator = createAccessTokenValidator({
 *   issuer: issuer.issuer,
 *   audience: 'https://api.example.com',
 * })
 * const token = await issuer.mint({ scope: 'orders:read' })
 * const { claims } = await validator.verify(token)
 * await issuer.close()
 * ```
 * @example Getting a token the way a service does (client credentials, RFC 6749 §4.4)
 * ```ts
 * const issuer = await createTestIssuer({
 *   clients: [{ clientId: 'billing', clientSecret: 's3cret', scope: 'orders:read' }],
 * })
 * const response = await fetch(issuer.tokenEndpoint, {
 *   method: 'POST',
 *   headers: { authorization: `Basic ${btoa('billing:s3cret')}` },
 *   body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read' }),
 * })
 * const { access_token } = (await response.json()) as { access_token: string }
 * ```
 */
export async function createTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const { algorithm, path, discovery, audience, tokenLifetime, port, clock, ...resolved } =
    resolveIssuerOptions(options)
  const clients = new Map(resolved.clients.map((client) => [client.clientId, client]))

  let activeKey = await generateTestKey(algorithm)
  const published = new Map<string, TestKey>([[activeKey.kid, activeKey]])

  // The origin is only known once listening; routes read it through this variable.
  let origin = ''
  const issuerId = (): string => origin + path
  const metadata = (): Record<string, unknown> => ({
    issuer: issuerId(),
    jwks_uri: `${issuerId()}/jwks`,
    token_endpoint: `${issuerId()}/token`,
    response_types_supported: ['token'],
    grant_types_supported: ['client_credentials'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...new Set([...published.values()].map((k) => k.alg))],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
  })
  const tokenContext: TokenEndpointContext = {
    get realm() {
      return issuerId()
    },
    clients,
    tokenLifetime,
    // Signed by the key active at request time, like `mint`.
    mint: (claims) =>
      mintToken({ issuer: issuerId(), audience, tokenLifetime, clock, activeKey }, claims),
  }
  const servesOpenid = discovery === 'openid' || discovery === 'both'
  const servesOauth = discovery === 'oauth' || discovery === 'both'

  const route = (pathname: string): Route => {
    if (
      (servesOpenid && pathname === `${path}/.well-known/openid-configuration`) ||
      (servesOauth && pathname === `/.well-known/oauth-authorization-server${path}`)
    ) {
      return { endpoint: 'discovery', reply: () => json(200, metadata()) }
    }
    if (pathname === `${path}/jwks`) {
      const jwks = (): Reply =>
        json(
          200,
          { keys: [...published.values()].map((key) => key.publicJwk) },
          { 'cache-control': 'max-age=300' },
        )
      return { endpoint: 'jwks', reply: jwks }
    }
    if (pathname === `${path}/token`) {
      return { endpoint: 'token', handle: (request) => handleTokenRequest(tokenContext, request) }
    }
    return { endpoint: 'other', reply: () => json(404, { error: 'not_found' }) }
  }

  const server = await startServer(port, route)
  origin = server.url
  const issuer = issuerId()

  return {
    issuer,
    url: server.url,
    jwksUri: `${issuer}/jwks`,
    tokenEndpoint: `${issuer}/token`,
    discoveryUrls: Object.freeze({
      openid: `${issuer}/.well-known/openid-configuration`,
      oauth: `${server.url}/.well-known/oauth-authorization-server${path}`,
    }),
    get activeKey() {
      return activeKey
    },
    get keys() {
      return Object.freeze([...published.values()])
    },
    mint(claims, mintOptions) {
      return mintToken({ issuer, audience, tokenLifetime, clock, activeKey }, claims, mintOptions)
    },
    async rotate(rotateOptions = {}) {
      const next = await generateTestKey(rotateOptions.algorithm ?? algorithm)
      if (rotateOptions.keepOld === false) published.delete(activeKey.kid)
      published.set(next.kid, next)
      activeKey = next
      return next
    },
    generateKey(keyAlgorithm = algorithm, keyOptions) {
      return generateTestKey(keyAlgorithm, keyOptions)
    },
    registerClient(clientOptions) {
      const client = createClient(clientOptions, audience, 'registerClient()')
      addClient(clients, client, 'registerClient()')
      return client
    },
    publishKey(key) {
      published.set(key.kid, key)
    },
    unpublishKey(kid) {
      published.delete(kid)
    },
    requests: server.counts,
    resetCounts() {
      server.resetCounts()
    },
    fail(endpoint, fault) {
      if (!['discovery', 'jwks', 'all'].includes(endpoint)) {
        throw new TypeError('fail(): endpoint must be "discovery", "jwks" or "all"')
      }
      assertFault(fault)
      server.setFault(endpoint, fault)
    },
    close() {
      return server.close()
    },
  }
}
