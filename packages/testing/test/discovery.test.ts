import { afterEach, describe, expect, it } from 'vitest'
import { createTestIssuer } from '../src/index.js'
import type { TestIssuer } from '../src/index.js'

const started: TestIssuer[] = []
async function start(...args: Parameters<typeof createTestIssuer>): Promise<TestIssuer> {
  const issuer = await createTestIssuer(...args)
  started.push(issuer)
  return issuer
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((issuer) => issuer.close()))
})

describe('discovery', () => {
  it('serves both documents with the exact issuer and JWKS URL', async () => {
    const issuer = await start()
    expect(issuer.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(issuer.issuer).toBe(issuer.url)
    expect(issuer.jwksUri).toBe(`${issuer.url}/jwks`)
    expect(issuer.discoveryUrls).toEqual({
      openid: `${issuer.url}/.well-known/openid-configuration`,
      oauth: `${issuer.url}/.well-known/oauth-authorization-server`,
    })
    for (const url of [issuer.discoveryUrls.openid, issuer.discoveryUrls.oauth]) {
      const response = await fetch(url)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('application/json')
      const document = (await response.json()) as Record<string, unknown>
      expect(document).toMatchObject({
        issuer: issuer.issuer,
        jwks_uri: issuer.jwksUri,
        token_endpoint: `${issuer.issuer}/token`,
        response_types_supported: ['token'],
        grant_types_supported: ['client_credentials'],
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: [
          'client_secret_basic',
          'client_secret_post',
          'private_key_jwt',
        ],
        introspection_endpoint: `${issuer.issuer}/introspect`,
      })
      // RFC 9701 §7: no signed introspection responses unless asked for.
      expect(document).not.toHaveProperty('introspection_signing_alg_values_supported')
    }
    expect(issuer.requests).toEqual({ discovery: 2, jwks: 0, token: 0, introspection: 0, other: 0 })
  })

  it('advertises the token endpoint it serves, its client authentication methods and client_credentials', async () => {
    const issuer = await start({ path: '/tenant-a' })
    const document = (await (await fetch(issuer.discoveryUrls.oauth)).json()) as Record<
      string,
      unknown
    >
    expect(document.token_endpoint).toBe(`${issuer.issuer}/token`)
    expect(issuer.tokenEndpoint).toBe(document.token_endpoint)
    expect(document.token_endpoint_auth_methods_supported).toEqual([
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
    ])
    expect(document.grant_types_supported).toContain('client_credentials')
    // Served, not 404: with no client registered, a token request fails client authentication.
    const response = await fetch(issuer.tokenEndpoint, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    })
    expect(response.status).toBe(401)
    expect(await response.json()).toMatchObject({ error: 'invalid_client' })
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 0, token: 1, introspection: 0, other: 0 })
  })

  it('places a path issuer per OIDC (appended) and RFC 8414 (inserted)', async () => {
    const issuer = await start({ path: '/tenant-a' })
    expect(issuer.issuer).toBe(`${issuer.url}/tenant-a`)
    expect(issuer.jwksUri).toBe(`${issuer.url}/tenant-a/jwks`)
    expect(issuer.discoveryUrls.openid).toBe(
      `${issuer.url}/tenant-a/.well-known/openid-configuration`,
    )
    expect(issuer.discoveryUrls.oauth).toBe(
      `${issuer.url}/.well-known/oauth-authorization-server/tenant-a`,
    )
    for (const url of Object.values(issuer.discoveryUrls)) {
      const document = (await (await fetch(url)).json()) as Record<string, unknown>
      expect(document.issuer).toBe(issuer.issuer)
      expect(document.jwks_uri).toBe(issuer.jwksUri)
    }
    // The un-pathed locations are not this issuer's.
    expect((await fetch(`${issuer.url}/.well-known/openid-configuration`)).status).toBe(404)
    expect((await fetch(`${issuer.url}/jwks`)).status).toBe(404)
    expect(issuer.requests).toEqual({ discovery: 2, jwks: 0, token: 0, introspection: 0, other: 2 })
  })

  it.each([
    ['openid', 200, 404],
    ['oauth', 404, 200],
    ['none', 404, 404],
  ] as const)('discovery: %s serves only what is asked', async (discovery, openid, oauth) => {
    const issuer = await start({ discovery })
    expect((await fetch(issuer.discoveryUrls.openid)).status).toBe(openid)
    expect((await fetch(issuer.discoveryUrls.oauth)).status).toBe(oauth)
    const served = [openid, oauth].filter((status) => status === 200).length
    expect(issuer.requests).toEqual({
      discovery: served,
      jwks: 0,
      token: 0,
      introspection: 0,
      other: 2 - served,
    })
  })

  it('answers unknown paths 404 and counts them as other; query strings are ignored', async () => {
    const issuer = await start()
    const response = await fetch(`${issuer.url}/nope`)
    expect(response.status).toBe(404)
    expect(await response.json()).toEqual({ error: 'not_found' })
    expect((await fetch(`${issuer.jwksUri}?x=1`)).status).toBe(200)
    expect(issuer.requests).toEqual({ discovery: 0, jwks: 1, token: 0, introspection: 0, other: 1 })
  })
})

describe('JWKS', () => {
  it('publishes the active key with kid, alg and use, cacheable for 300 s', async () => {
    const issuer = await start({ algorithm: 'ES256' })
    const response = await fetch(issuer.jwksUri)
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('max-age=300')
    expect(response.headers.get('content-type')).toBe('application/json')
    const { keys } = (await response.json()) as { keys: Record<string, unknown>[] }
    expect(keys).toHaveLength(1)
    expect(keys[0]).toEqual({
      kty: 'EC',
      crv: 'P-256',
      x: expect.any(String),
      y: expect.any(String),
      kid: issuer.activeKey.kid,
      alg: 'ES256',
      use: 'sig',
    })
    expect(keys[0]).not.toHaveProperty('d')
  })

  it('counts requests live and resets the counters', async () => {
    const issuer = await start()
    const { requests } = issuer
    await fetch(issuer.jwksUri)
    await fetch(issuer.jwksUri)
    await fetch(issuer.discoveryUrls.openid)
    expect(requests).toEqual({ discovery: 1, jwks: 2, token: 0, introspection: 0, other: 0 })
    issuer.resetCounts()
    expect(issuer.requests).toEqual({ discovery: 0, jwks: 0, token: 0, introspection: 0, other: 0 })
    await fetch(issuer.jwksUri)
    expect(requests.jwks).toBe(1)
  })
})

describe('options', () => {
  it.each([
    [{ path: 'tenant' }, /path/],
    [{ path: '/tenant/' }, /path/],
    [{ path: '/a?b' }, /path/],
    [{ algorithm: 'HS256' }, /algorithm/],
    [{ discovery: 'all' }, /discovery/],
    [{ audience: '' }, /audience/],
    [{ audience: [] as string[] }, /audience/],
    [{ tokenLifetime: Number.NaN }, /tokenLifetime/],
    [{ port: 70000 }, /port/],
    [{ clock: 5 }, /clock/],
    [{ clients: {} }, /clients/],
    [{ tokenLifeTime: 60 }, /unknown option "tokenLifeTime"/],
    [null, /options must be an object/],
  ])('rejects %o with a TypeError', async (options, message) => {
    // Deliberately wrong types: these are the mistakes a JavaScript caller can make.
    await expect(createTestIssuer(options as never)).rejects.toThrow(message)
    await expect(createTestIssuer(options as never)).rejects.toBeInstanceOf(TypeError)
  })

  it('binds the requested port on 127.0.0.1', async () => {
    const first = await start()
    const port = Number(new URL(first.url).port)
    await first.close()
    const issuer = await start({ port })
    expect(issuer.url).toBe(`http://127.0.0.1:${port}`)
    expect((await fetch(issuer.jwksUri)).status).toBe(200)
  })
})
