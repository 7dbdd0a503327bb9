import { randomBytes } from 'node:crypto'
import { CompactSign, compactVerify, createLocalJWKSet } from 'jose'
import type { ClientAuthContext } from './client-auth.js'
import { createClient } from './clients.js'
import { assertFault } from './faults.js'
import { addClient, resolveIssuerOptions } from './issuer-options.js'
import type { TestIssuerOptions } from './issuer-options.js'
import { generateTestKey } from './keys.js'
import type { TestKey } from './keys.js'
import { handleIntrospectionRequest } from './introspection-endpoint.js'
import type { IntrospectionContext } from './introspection-endpoint.js'
import { confirmation, defaultClaims, mergeMembers, mintToken } from './mint.js'
import { buildShape } from './providers/index.js'
import type { ShapeOptions } from './providers/shape.js'
import { json, startServer } from './server.js'
import type { Reply, Route } from './server.js'
import type { TestIssuer } from './test-issuer.js'
import { handleTokenRequest } from './token-endpoint.js'
import type { TokenEndpointContext } from './token-endpoint.js'

export type { RotateOptions, TestIssuer } from './test-issuer.js'

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
  const {
    algorithm,
    path,
    discovery,
    audience,
    tokenLifetime,
    port,
    clock,
    signedIntrospection,
    ...resolved
  } = resolveIssuerOptions(options)
  const clients = new Map(resolved.clients.map((client) => [client.clientId, client]))

  let activeKey = await generateTestKey(algorithm, { jwkMembers: resolved.jwkMembers })
  const published = new Map<string, TestKey>([[activeKey.kid, activeKey]])

  // The origin is only known once listening; routes read it through this variable.
  let origin = ''
  const base = (): string => origin + path
  const issuerId = (): string => resolved.issuer ?? base()
  const authMethods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt']
  const metadata = (): Record<string, unknown> => ({
    issuer: issuerId(),
    jwks_uri: `${base()}/jwks`,
    token_endpoint: `${base()}/token`,
    introspection_endpoint: `${base()}/introspect`,
    response_types_supported: ['token'],
    grant_types_supported: ['client_credentials'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...new Set([...published.values()].map((k) => k.alg))],
    token_endpoint_auth_methods_supported: authMethods,
    introspection_endpoint_auth_methods_supported: authMethods,
    // RFC 9701 §7: the algorithms of signed introspection responses, when they are served.
    ...(signedIntrospection ? { introspection_signing_alg_values_supported: [activeKey.alg] } : {}),
  })
  // Client assertions (RFC 7523) are used once, at either endpoint.
  const seenAssertions = new Map<string, number>()
  const clientAuth = (endpoint: string): ClientAuthContext => ({
    clients,
    get realm() {
      return issuerId()
    },
    // RFC 7523 §3 item 3: the issuer identifier, or the URL of the endpoint the assertion is for.
    get assertionAudiences() {
      return [issuerId(), `${base()}/${endpoint}`]
    },
    seenAssertions,
    clock,
  })
  const tokenContext: TokenEndpointContext = {
    clientAuth: clientAuth('token'),
    tokenLifetime,
    // Signed by the key active at request time, like `mint`.
    mint: (claims) =>
      mintToken({ issuer: issuerId(), audience, tokenLifetime, clock, activeKey }, claims),
  }
  // Opaque tokens issued (RFC 7662: only the issuer knows what they mean), and revoked tokens.
  const opaque = new Map<string, Readonly<Record<string, unknown>>>()
  const revoked = new Set<string>()
  const introspectionContext: IntrospectionContext = {
    clientAuth: clientAuth('introspect'),
    clock,
    issuer: issuerId,
    async lookUp(token) {
      const known = opaque.get(token)
      if (known !== undefined || token.split('.').length !== 3) return known
      // A JWT this issuer signed with a key it still publishes.
      try {
        const keys = createLocalJWKSet({ keys: [...published.values()].map((k) => k.publicJwk) })
        const { payload } = await compactVerify(token, keys)
        const claims: unknown = JSON.parse(new TextDecoder().decode(payload))
        return typeof claims === 'object' && claims !== null && !Array.isArray(claims)
          ? (claims as Record<string, unknown>)
          : undefined
      } catch {
        return undefined
      }
    },
    isRevoked: (token) => revoked.has(token),
    signResponse: signedIntrospection
      ? (payload) =>
          new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
            .setProtectedHeader({
              alg: activeKey.alg,
              kid: activeKey.kid,
              typ: 'token-introspection+jwt',
            })
            .sign(activeKey.privateKey)
      : undefined,
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
    if (pathname === `${path}/introspect`) {
      return {
        endpoint: 'introspection',
        handle: (request) => handleIntrospectionRequest(introspectionContext, request),
      }
    }
    return { endpoint: 'other', reply: () => json(404, { error: 'not_found' }) }
  }

  const server = await startServer(port, route)
  origin = server.url
  const issuer = issuerId()
  const served = base()

  return {
    issuer,
    url: server.url,
    jwksUri: `${served}/jwks`,
    tokenEndpoint: `${served}/token`,
    introspectionEndpoint: `${served}/introspect`,
    discoveryUrls: Object.freeze({
      openid: `${served}/.well-known/openid-configuration`,
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
    mintOpaque(claims, opaqueOptions = {}) {
      if (typeof opaqueOptions !== 'object' || (opaqueOptions as unknown) === null) {
        throw new TypeError('mintOpaque(): options must be an object')
      }
      const bound = confirmation(opaqueOptions)
      const context = { issuer, audience, tokenLifetime, clock, activeKey }
      // RFC 9449 §6.2: a DPoP-bound token's introspection says `token_type: 'DPoP'`.
      const tokenType = opaqueOptions.dpop === undefined ? 'Bearer' : 'DPoP'
      const token = randomBytes(32).toString('base64url')
      opaque.set(
        token,
        Object.freeze(
          mergeMembers({ ...defaultClaims(context), token_type: tokenType, ...bound }, claims),
        ),
      )
      return token
    },
    revoke(token) {
      if (typeof token !== 'string' || token === '') {
        throw new TypeError('revoke(): token must be a non-empty string')
      }
      revoked.add(token)
    },
    async mintShaped(provider, kind, shapeOptions) {
      const given: ShapeOptions = shapeOptions ?? {}
      const key = given.key ?? activeKey
      // Times from the issuer's clock, and the signing key for header members such as x5t.
      const shape = buildShape(
        provider,
        kind,
        { ...given, now: given.now ?? clock(), key },
        'mintShaped()',
      )
      return await mintToken({ issuer, audience, tokenLifetime, clock, activeKey }, shape.claims, {
        header: shape.header,
        key,
      })
    },
    async rotate(rotateOptions = {}) {
      const next = await generateTestKey(rotateOptions.algorithm ?? algorithm, {
        jwkMembers: rotateOptions.jwkMembers,
      })
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
      if (!['discovery', 'jwks', 'introspection', 'all'].includes(endpoint)) {
        throw new TypeError(
          'fail(): endpoint must be "discovery", "jwks", "introspection" or "all"',
        )
      }
      assertFault(fault)
      server.setFault(endpoint, fault)
    },
    close() {
      return server.close()
    },
  }
}
