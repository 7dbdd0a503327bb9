/**
 * RFC 9728 protected resource metadata served by the plugin, and step-up (RFC 9470) in
 * `config.auth`: the document at the §3.1 path, its scopes collected from every route's policy
 * (child contexts included), the challenges that point to it, and the opt-out.
 */
import { createAccessTokenValidator } from '@bearer-guard/core'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearerChallenge } from '../../../test/support/www-authenticate.js'
import { bearerGuard } from '../src/index.js'
import { bearer, createApp, listen, type Running } from './support.js'

const resource = 'https://api.example.com/p'
const metadataPath = '/.well-known/oauth-protected-resource/p'
const MFA = 'urn:example:mfa'

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: resource })
})
afterAll(async () => {
  await issuer.close()
})

const now = (): number => Math.floor(Date.now() / 1000)

describe('with resource', () => {
  let api: Running
  beforeAll(async () => {
    const app = createApp()
    await app.register(bearerGuard, {
      issuer: issuer.issuer,
      resource,
      dpop: { origin: 'https://api.example.com' },
      metadata: { scopes: ['extra:scope'] },
    })
    app.get('/health', { config: { auth: false } }, () => ({ status: 'ok' }))
    app.get('/orders', { config: { auth: { allOf: ['orders:read'] } } }, () => [])
    app.get('/reports', { config: { auth: { anyOf: ['reports:read', 'admin'] } } }, () => [])
    app.get(
      '/admin/audit',
      { config: { auth: { allOf: ['admin'], acr: [MFA], maxAge: 300 } } },
      () => [],
    )
    // A child context declared after the plugin: its routes are guarded and counted too.
    await app.register(
      (child, _options, done) => {
        child.delete('/items/:id', { config: { auth: { allOf: ['items:write'] } } }, () => null)
        done()
      },
      { prefix: '/v1' },
    )
    api = await listen(app)
  })
  afterAll(() => api.close())

  it('serves the document at the well-known path with the resource path inserted (§3.1)', async () => {
    const response = await api.request(metadataPath)
    expect(response.status).toBe(200)
    // §3.2: a JSON object with the application/json content type.
    expect(response.headers.get('content-type')).toMatch(/^application\/json\b/)
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    const document = (await response.json()) as Record<string, unknown>
    expect(document).toMatchObject({
      resource,
      authorization_servers: [issuer.issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: ['admin', 'extra:scope', 'items:write', 'orders:read', 'reports:read'],
    })
    expect(document.dpop_signing_alg_values_supported).toEqual(
      expect.arrayContaining(['ES256', 'RS256']),
    )
  })

  it('answers HEAD and a CORS preflight; other paths stay guarded', async () => {
    const head = await api.request(metadataPath, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
    const preflight = await api.request(metadataPath, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'mcp-protocol-version',
      },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*')
    expect((await api.request('/.well-known/oauth-protected-resource')).status).toBe(404)
    expect((await api.request('/orders')).status).toBe(401)
  })

  it('points every 401 and 403 challenge to the document (RFC 9728 §5.1)', async () => {
    const url = `https://api.example.com${metadataPath}`
    const missing = await api.request('/orders')
    expect(bearerChallenge(missing.headers.get('www-authenticate')).params).toMatchObject({
      resource_metadata: url,
    })
    const token = await issuer.mint({ scope: 'reports:read' })
    const forbidden = await api.request('/orders', bearer(token))
    expect(forbidden.status).toBe(403)
    expect(bearerChallenge(forbidden.headers.get('www-authenticate')).params).toMatchObject({
      error: 'insufficient_scope',
      resource_metadata: url,
    })
  })

  describe('step-up in config.auth (RFC 9470)', () => {
    it('accepts a recent multi-factor authentication', async () => {
      const token = await issuer.mint({ scope: 'admin', acr: MFA, auth_time: now() - 10 })
      expect((await api.request('/admin/audit', bearer(token))).status).toBe(200)
    })

    it('refuses another acr: 401 insufficient_user_authentication with acr_values (§3)', async () => {
      const token = await issuer.mint({ scope: 'admin', acr: 'urn:example:pwd', auth_time: now() })
      const response = await api.request('/admin/audit', bearer(token))
      expect(response.status).toBe(401)
      expect(bearerChallenge(response.headers.get('www-authenticate')).params).toMatchObject({
        error: 'insufficient_user_authentication',
        acr_values: MFA,
      })
      expect(await response.json()).toMatchObject({ error: 'insufficient_user_authentication' })
    })

    it('refuses an old or unknown auth_time: 401 with max_age (§3)', async () => {
      for (const claims of [{ auth_time: now() - 301 }, {}]) {
        const token = await issuer.mint({ scope: 'admin', acr: MFA, ...claims })
        const response = await api.request('/admin/audit', bearer(token))
        expect(response.status).toBe(401)
        expect(bearerChallenge(response.headers.get('www-authenticate')).params).toMatchObject({
          error: 'insufficient_user_authentication',
          max_age: '300',
        })
      }
    })
  })
})

describe('where the document is not served', () => {
  it('metadata: false', async () => {
    const app = createApp()
    await app.register(bearerGuard, { issuer: issuer.issuer, resource, metadata: false })
    const response = await app.inject({ method: 'GET', url: metadataPath })
    // No route: the 404 handler answers (the guard never ran on it).
    expect(response.statusCode).toBe(404)
    await app.close()
  })

  it('without resource, and the metadata option then throws', async () => {
    const plain = createApp()
    await plain.register(bearerGuard, { issuer: issuer.issuer, audience: resource })
    expect((await plain.inject({ url: '/.well-known/oauth-protected-resource' })).statusCode).toBe(
      404,
    )
    await plain.close()
    const app = createApp()
    await expect(
      app.register(bearerGuard, {
        issuer: issuer.issuer,
        audience: resource,
        metadata: { scopes: ['a'] },
      }),
    ).rejects.toThrow(/"metadata" needs "resource"/)
  })

  it.each([
    [{ scope: ['a'] }, /'scope'; did you mean 'scopes'\?/],
    [{ scopes: ['a b'] }, /"metadata.scopes" must be an array of scope tokens/],
    [true, /"metadata" must be false or an object/],
  ])('a malformed metadata option: %j', async (metadata, message) => {
    const app = createApp()
    await expect(
      app.register(bearerGuard, { issuer: issuer.issuer, resource, metadata: metadata as never }),
    ).rejects.toThrow(message)
  })

  it('inside a prefixed context: the route goes under the prefix, or the start-up fails', async () => {
    const validator = createAccessTokenValidator({
      issuer: issuer.issuer,
      resource: 'https://api.example.com/api',
      resourceMetadataUrl: 'https://api.example.com/api/.well-known/oauth-protected-resource',
    })
    const app = createApp()
    await app.register(
      async (api) => {
        await api.register(bearerGuard, { validator })
        api.get('/orders', { config: { auth: { allOf: ['orders:read'] } } }, () => [])
      },
      { prefix: '/api' },
    )
    const response = await app.inject({ url: '/api/.well-known/oauth-protected-resource' })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({ scopes_supported: ['orders:read'] })
    await app.close()

    const misplaced = createApp()
    await expect(
      misplaced.register(
        async (api) => {
          await api.register(bearerGuard, { issuer: issuer.issuer, resource })
        },
        { prefix: '/api' },
      ),
    ).rejects.toThrow(/must be served at \/\.well-known\/oauth-protected-resource\/p/)
  })
})
