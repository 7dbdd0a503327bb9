import { assertTestAlgorithm } from './algorithms.js'
import type { TestAlgorithm } from './algorithms.js'
import { assertFault } from './faults.js'
import type { Fault, FaultEndpoint } from './faults.js'
import { generateTestKey } from './keys.js'
import type { GenerateKeyOptions, TestKey } from './keys.js'
import { mintToken } from './mint.js'
import type { MintOptions } from './mint.js'
import { startServer } from './server.js'
import type { Reply, RequestCounts, Route } from './server.js'

/** Options of {@link createTestIssuer}. All are optional. */
export interface TestIssuerOptions {
  /** Algorithm of the first key and the default of `rotate` and `generateKey`. Default `'RS256'`. */
  readonly algorithm?: TestAlgorithm
  /**
   * Issuer path: `'/tenant-a'` gives the issuer `http://127.0.0.1:PORT/tenant-a`. Must start with
   * `/` and not end with `/`. Default `''` (the issuer is `http://127.0.0.1:PORT`, no trailing
   * slash).
   */
  readonly path?: string
  /**
   * Which discovery documents are served: OpenID Connect (`issuer + '/.well-known/openid-configuration'`),
   * RFC 8414 OAuth (`origin + '/.well-known/oauth-authorization-server' + path`), both or none.
   * Default `'both'`.
   */
  readonly discovery?: 'openid' | 'oauth' | 'both' | 'none'
  /** `aud` of minted tokens. Default `'https://api.example.com'`. */
  readonly audience?: string | readonly string[]
  /** Lifetime of minted tokens (`exp - iat`), in seconds. Default `300`. */
  readonly tokenLifetime?: number
  /** TCP port, always on 127.0.0.1. Default `0` (a free port chosen by the system). */
  readonly port?: number
  /** The current time in milliseconds since the epoch, for `iat` and `exp`. Default `Date.now`. */
  readonly clock?: () => number
}

/** Options of {@link TestIssuer.rotate}. */
export interface RotateOptions {
  /** Algorithm of the new key. Default: the issuer's `algorithm` option. */
  readonly algorithm?: TestAlgorithm
  /** Keep the previous active key in the JWKS. Default `true`. */
  readonly keepOld?: boolean
}

/** A running in-process OAuth 2.0 authorization server: discovery, JWKS and token minting. */
export interface TestIssuer {
  /** The issuer identifier (`iss` of minted tokens): `url + path`. */
  readonly issuer: string
  /** The server's origin, `http://127.0.0.1:PORT`. */
  readonly url: string
  /** The JWKS URL, `issuer + '/jwks'`. */
  readonly jwksUri: string
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

function optionError(message: string): never {
  throw new TypeError(`createTestIssuer(): ${message}`)
}

function json(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(value),
  }
}

/**
 * Starts a real OAuth 2.0 issuer on 127.0.0.1: discovery documents (OpenID Connect and RFC 8414),
 * a JWKS, token minting, key rotation, request counters and fault injection.
 *
 * Close it when done (`afterAll(() => issuer.close())`).
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
 */
export async function createTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const algorithm = options.algorithm ?? 'RS256'
  assertTestAlgorithm('createTestIssuer(): algorithm', algorithm)
  const path = options.path ?? ''
  if (typeof path !== 'string' || (path !== '' && (!path.startsWith('/') || path.endsWith('/')))) {
    optionError('path must be "" or start with "/" and not end with "/"')
  }
  if (/[?#\s]/.test(path)) optionError('path must not contain "?", "#" or white space')
  const discovery = options.discovery ?? 'both'
  if (!['openid', 'oauth', 'both', 'none'].includes(discovery)) {
    optionError('discovery must be "openid", "oauth", "both" or "none"')
  }
  const audience = options.audience ?? 'https://api.example.com'
  const audiences: readonly unknown[] = typeof audience === 'string' ? [audience] : audience
  if (
    !Array.isArray(audiences) ||
    audiences.length === 0 ||
    audiences.some((entry) => typeof entry !== 'string' || entry === '')
  ) {
    optionError('audience must be a non-empty string or an array of them')
  }
  const tokenLifetime = options.tokenLifetime ?? 300
  if (typeof tokenLifetime !== 'number' || !Number.isFinite(tokenLifetime)) {
    optionError('tokenLifetime must be a finite number of seconds')
  }
  const port = options.port ?? 0
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    optionError('port must be an integer from 0 to 65535')
  }
  const clock = options.clock ?? Date.now
  if (typeof clock !== 'function') optionError('clock must be a function returning milliseconds')

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
    token_endpoint_auth_methods_supported: ['client_secret_basic'],
  })
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
    return { endpoint: 'other', reply: () => json(404, { error: 'not_found' }) }
  }

  const server = await startServer(port, route)
  origin = server.url
  const issuer = issuerId()

  return {
    issuer,
    url: server.url,
    jwksUri: `${issuer}/jwks`,
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
