/**
 * RFC 9728 protected resource metadata (`guard.metadata`) and step-up (RFC 9470) through the
 * Express adapter, on Express 4 and 5: the document at the §3.1 path, its scopes collected from
 * the route helpers of the app, its routers and the apps it is mounted in, and the challenges that
 * point to it.
 */
import { createAccessTokenValidator } from '@bearer-guard/core'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearerChallenge } from '../../../test/support/www-authenticate.js'
import { bearerGuard, requireAnyScope, requirePolicy, requireScopes } from '../src/index.js'
import { bearer, frameworks, listen, type Running } from './support.js'

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

describe.each(frameworks)('$name', ({ express }) => {
  let api: Running
  beforeAll(async () => {
    const app = express()
    const guard = bearerGuard({
      issuer: issuer.issuer,
      resource,
      metadata: { scopes: ['extra:scope'] },
      dpop: { origin: 'https://api.example.com' },
      logger: false,
    })
    app.get('/health', (_req, res) => res.json({ status: 'ok' }))
    app.use(guard.metadata)
    app.use(guard)
    app.get('/orders', requireScopes('orders:read'), (_req, res) => res.json([]))
    app.get('/reports', requireAnyScope('reports:read', 'admin'), (_req, res) => res.json([]))
    app.get(
      '/admin/audit',
      requirePolicy({ allOf: ['admin'], acr: [MFA], maxAge: 300 }),
      (_req, res) => res.json([]),
    )
    const router = express.Router()
    router.delete('/items/:id', requireScopes('items:write', 'items:admin'), (_req, res) => {
      res.status(204).end()
    })
    app.use('/v1', router)
    api = await listen(app)
  })
  afterAll(() => api.close())

  describe('the document (RFC 9728 §3)', () => {
    it('is served at the well-known path with the resource path inserted (§3.1)', async () => {
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
      })
      // DPoP is enabled: its proof algorithms are announced.
      expect(document.dpop_signing_alg_values_supported).toEqual(
        expect.arrayContaining(['ES256', 'RS256']),
      )
    })

    it('lists every scope a route helper can ask for, from routers too, plus metadata.scopes', async () => {
      const document = (await (await api.request(metadataPath)).json()) as {
        scopes_supported: string[]
      }
      expect(document.scopes_supported).toEqual([
        'admin',
        'extra:scope',
        'items:admin',
        'items:write',
        'orders:read',
        'reports:read',
      ])
    })

    it('ignores a query, answers HEAD without a body, and leaves other paths alone', async () => {
      expect((await api.request(`${metadataPath}?x=1`)).status).toBe(200)
      const head = await api.request(metadataPath, { method: 'HEAD' })
      expect(head.status).toBe(200)
      expect(await head.text()).toBe('')
      // Not the document's path: the guard after it answers.
      expect((await api.request('/.well-known/oauth-protected-resource')).status).toBe(401)
      expect((await api.request(`${metadataPath}/more`)).status).toBe(401)
      expect((await api.request('/health')).status).toBe(200)
    })

    it('answers a CORS preflight for it, and passes other methods on', async () => {
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
      expect(preflight.headers.get('access-control-allow-headers')).toBe('*')
      expect((await api.request(metadataPath, { method: 'POST' })).status).toBe(401)
    })
  })

  describe('challenges point to the document (RFC 9728 §5.1)', () => {
    const url = `https://api.example.com${metadataPath}`

    it('on a 401 and on a 403', async () => {
      const missing = await api.request('/orders')
      expect(missing.status).toBe(401)
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
  })

  describe('step-up through requirePolicy() (RFC 9470)', () => {
    it('accepts a recent multi-factor authentication', async () => {
      const token = await issuer.mint({ scope: 'admin', acr: MFA, auth_time: now() - 10 })
      expect((await api.request('/admin/audit', bearer(token))).status).toBe(200)
    })

    it.each([
      ['no acr', { auth_time: 0 }],
      ['another acr', { acr: 'urn:example:password' }],
    ])(
      'refuses %s: 401 insufficient_user_authentication with acr_values (§3)',
      async (_, claims) => {
        const token = await issuer.mint({ scope: 'admin', auth_time: now() - 10, ...claims })
        const response = await api.request('/admin/audit', bearer(token))
        expect(response.status).toBe(401)
        const challenge = bearerChallenge(response.headers.get('www-authenticate')).params
        expect(challenge).toMatchObject({
          error: 'insufficient_user_authentication',
          acr_values: MFA,
          resource_metadata: `https://api.example.com${metadataPath}`,
        })
        expect(challenge.max_age).toBeUndefined()
        expect(await response.json()).toMatchObject({ error: 'insufficient_user_authentication' })
      },
    )

    it('refuses an authentication older than maxAge: 401 with max_age (§3)', async () => {
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

    it('checks the scope first: 403 insufficient_scope without admin', async () => {
      const token = await issuer.mint({ scope: 'orders:read', acr: MFA, auth_time: now() })
      expect((await api.request('/admin/audit', bearer(token))).status).toBe(403)
    })
  })

  it('describes the apps it is mounted in too, with a prebuilt validator', async () => {
    const validator = createAccessTokenValidator({
      issuer: issuer.issuer,
      resource: 'https://api.example.com',
      resourceMetadataUrl: 'https://api.example.com/.well-known/oauth-protected-resource',
    })
    const guard = bearerGuard({ validator, logger: false })
    const top = express()
    const inner = express() // serves the document
    const other = express() // mounted at /other: Express keeps no link to it from `top`
    inner.use(guard.metadata)
    inner.use(guard)
    inner.get('/audit', requireScopes('admin'), (_req, res) => res.json([]))
    other.get('/x', guard, requireScopes('other:scope'), (_req, res) => res.json([]))
    top.get('/orders', guard, requireScopes('orders:read'), (_req, res) => res.json([]))
    top.use('/other', other)
    top.use(inner)
    const running = await listen(top)
    try {
      const response = await running.request('/.well-known/oauth-protected-resource')
      expect(await response.json()).toEqual({
        resource: 'https://api.example.com',
        authorization_servers: [issuer.issuer],
        bearer_methods_supported: ['header'],
        scopes_supported: ['admin', 'orders:read'],
      })
    } finally {
      await running.close()
    }
  })
})

describe('misconfiguration is refused at start-up', () => {
  it('guard.metadata without resource', () => {
    const guard = bearerGuard({ issuer: 'https://auth.example.com/', audience: 'https://api' })
    expect(() => guard.metadata).toThrow(/guard\.metadata .*"resource"/)
  })

  it('the metadata option without resource', () => {
    expect(() =>
      bearerGuard({
        issuer: 'https://auth.example.com/',
        audience: 'https://api',
        metadata: { scopes: ['a'] },
      }),
    ).toThrow(/"metadata" needs "resource"/)
  })

  it.each([
    [{ scope: ['a'] }, /'scope'; did you mean 'scopes'\?/],
    [{ scopes: 'a b' }, /"metadata.scopes" must be an array of scope tokens/],
    [{ scopes: ['a b'] }, /"metadata.scopes" must be an array of scope tokens/],
    [{ scopes: ['a"'] }, /"metadata.scopes" must be an array of scope tokens/],
    [['a'], /"metadata" must be an object/],
  ])('a malformed metadata option: %j', (metadata, message) => {
    expect(() =>
      bearerGuard({
        issuer: 'https://auth.example.com/',
        resource: 'https://api.example.com',
        metadata: metadata as never,
      }),
    ).toThrow(message)
  })

  it('a step-up policy with a malformed acr or maxAge, when the route is defined', () => {
    expect(() => requirePolicy({ acr: [] })).toThrow(TypeError)
    expect(() => requirePolicy({ maxAge: -1 })).toThrow(TypeError)
    expect(() => requirePolicy({ maxAge: 1.5 })).toThrow(TypeError)
  })
})
