import { createAccessTokenValidator } from '@bearer-guard/core'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearerChallenge } from '../../../test/support/www-authenticate.js'
import defaultExport, {
  bearerGuard,
  getAuth,
  isBearerGuardError,
  type BearerGuardOptions,
} from '../src/index.js'
import { audience, bearer, createApp, listen, refusal, type Running } from './support.js'

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer()
})
afterAll(async () => {
  await issuer.close()
})

describe("protect: 'all', errors: 'respond' (defaults)", () => {
  let api: Running
  const seenByRouteHook: unknown[] = []
  beforeAll(async () => {
    const app = createApp()
    await app.register(bearerGuard, { issuer: issuer.issuer, audience })
    app.get('/health', { config: { auth: false } }, (request) => ({
      status: 'ok',
      auth: request.auth,
    }))
    app.get('/me', (request) => {
      const auth = getAuth(request)
      return { sub: auth.claims.sub, scopes: [...auth.scopes], same: auth === request.auth }
    })
    app.get('/orders', { config: { auth: { allOf: ['orders:read'] } } }, () => [])
    app.delete(
      '/orders/:id',
      { config: { auth: { allOf: ['orders:write', 'orders:admin'] } } },
      async (_request, reply) => reply.code(204).send(),
    )
    app.get('/reports', { config: { auth: { anyOf: ['reports:read', 'admin'] } } }, () => [])
    app.get(
      '/acme',
      {
        config: {
          auth: {
            claims: (claims) => claims.tenant_id === 'acme',
            description: 'This API serves tenant acme only',
          },
        },
      },
      () => ({ tenant: 'acme' }),
    )
    app.get(
      '/hooked',
      {
        onRequest: (request, _reply, done) => {
          seenByRouteHook.push(request.auth?.claims.sub)
          done()
        },
      },
      () => ({ ok: true }),
    )
    api = await listen(app)
  })
  afterAll(() => api.close())

  it('serves opted-out routes without a token, with request.auth null', async () => {
    const response = await api.request('/health')
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ status: 'ok', auth: null })
  })

  it('ignores even a bad token on opted-out routes', async () => {
    const response = await api.request('/health', bearer('not-a-jwt'))
    expect(response.status).toBe(200)
  })

  it('sets request.auth for a valid token', async () => {
    const token = await issuer.mint({ scope: 'orders:read profile' })
    const response = await api.request('/me', bearer(token))
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      sub: 'user-123',
      scopes: ['orders:read', 'profile'],
      same: true,
    })
  })

  it('answers 401 without an error attribute when no credentials are sent', async () => {
    const { status, challenge, body } = await refusal(await api.request('/me'))
    expect(status).toBe(401)
    expect(challenge).toEqual({ realm: audience })
    expect(body).toEqual({ error_description: expect.any(String) })
  })

  it('treats another scheme as no credentials', async () => {
    const response = await api.request('/me', { headers: { authorization: 'Basic dXNlcjpwdw==' } })
    const { status, challenge, body } = await refusal(response)
    expect(status).toBe(401)
    expect(challenge.error).toBeUndefined()
    expect(body.error).toBeUndefined()
  })

  it('answers 400 invalid_request for a malformed Authorization header', async () => {
    const response = await api.request('/me', { headers: { authorization: 'Bearer ' } })
    const { status, challenge, body } = await refusal(response)
    expect(status).toBe(400)
    expect(challenge).toMatchObject({ realm: audience, error: 'invalid_request' })
    expect(challenge.error_description).toBeTruthy()
    expect(body).toEqual({ error: 'invalid_request', error_description: expect.any(String) })
  })

  it.each([
    ['a token that is not a JWT', () => Promise.resolve('not.a.jwt')],
    ['an expired token', () => issuer.mint({ exp: Math.floor(Date.now() / 1000) - 3600 })],
    ['a token for another audience', () => issuer.mint({ aud: 'https://other.example.com' })],
    [
      'a token signed by a foreign key',
      async () => issuer.mint({}, { key: await issuer.generateKey() }),
    ],
  ])('answers 401 invalid_token for %s', async (_name, token) => {
    const { status, challenge, body } = await refusal(
      await api.request('/me', bearer(await token())),
    )
    expect(status).toBe(401)
    expect(challenge).toMatchObject({ realm: audience, error: 'invalid_token' })
    expect(body).toEqual({ error: 'invalid_token', error_description: expect.any(String) })
  })

  it('answers 403 insufficient_scope naming every scope an allOf route needs', async () => {
    const token = await issuer.mint({ scope: 'orders:write' })
    const response = await api.request('/orders/1', bearer(token, { method: 'DELETE' }))
    const { status, challenge, body } = await refusal(response)
    expect(status).toBe(403)
    expect(challenge).toMatchObject({
      realm: audience,
      error: 'insufficient_scope',
      scope: 'orders:write orders:admin',
    })
    expect(body).toEqual({ error: 'insufficient_scope', error_description: expect.any(String) })
  })

  it('passes allOf routes when every scope is granted (scp array too)', async () => {
    const token = await issuer.mint({ scp: ['orders:write', 'orders:admin'] })
    const response = await api.request('/orders/1', bearer(token, { method: 'DELETE' }))
    expect(response.status).toBe(204)
  })

  it('passes anyOf routes with any one scope, and names them all when refusing', async () => {
    const admin = await issuer.mint({ scope: 'admin' })
    expect((await api.request('/reports', bearer(admin))).status).toBe(200)
    const none = await issuer.mint({ scope: 'orders:read' })
    const { status, challenge } = await refusal(await api.request('/reports', bearer(none)))
    expect(status).toBe(403)
    expect(challenge.scope).toBe('reports:read admin')
  })

  it('enforces claims policies with their description', async () => {
    const acme = await issuer.mint({ tenant_id: 'acme' })
    expect((await api.request('/acme', bearer(acme))).status).toBe(200)
    const other = await issuer.mint({ tenant_id: 'globex' })
    const { status, challenge, body } = await refusal(await api.request('/acme', bearer(other)))
    expect(status).toBe(403)
    expect(challenge.error).toBe('insufficient_scope')
    expect(body.error_description).toBe('This API serves tenant acme only')
  })

  it("runs before the route's own hooks, which see request.auth", async () => {
    seenByRouteHook.length = 0
    expect((await api.request('/hooked')).status).toBe(401)
    expect(seenByRouteHook).toEqual([])
    const token = await issuer.mint()
    expect((await api.request('/hooked', bearer(token))).status).toBe(200)
    expect(seenByRouteHook).toEqual(['user-123'])
  })

  it('guards the HEAD routes Fastify adds for GET routes', async () => {
    expect((await api.request('/orders', { method: 'HEAD' })).status).toBe(401)
    const token = await issuer.mint({ scope: 'orders:read' })
    expect((await api.request('/orders', bearer(token, { method: 'HEAD' }))).status).toBe(200)
  })

  it('does not accept a token from the URL query unless enabled', async () => {
    const token = await issuer.mint()
    const response = await api.request(`/me?access_token=${token}`)
    const { status, challenge } = await refusal(response)
    expect(status).toBe(401)
    expect(challenge.error).toBeUndefined()
  })

  it('leaves unknown routes to Fastify (404)', async () => {
    expect((await api.request('/nowhere')).status).toBe(404)
  })
})

describe('key set unavailable', () => {
  let failing: TestIssuer
  let api: Running
  beforeAll(async () => {
    failing = await createTestIssuer()
    const app = createApp() // logging off; the log line is tested in key-set-failures.test.ts
    await app.register(bearerGuard, { issuer: failing.issuer, audience, retryAfter: 7 })
    app.get('/me', () => ({ ok: true }))
    api = await listen(app)
    failing.fail('all', { kind: 'status', status: 500 })
  })
  afterAll(async () => {
    await api.close()
    await failing.close()
  })

  it('answers 503 with Retry-After and accepts no token', async () => {
    const token = await failing.mint()
    const response = await api.request('/me', bearer(token))
    expect(response.status).toBe(503)
    expect(response.headers.get('retry-after')).toBe('7')
    bearerChallenge(response.headers.get('www-authenticate'))
    expect(await response.json()).toEqual({
      error: 'temporarily_unavailable',
      error_description: expect.any(String),
    })
  })
})

describe("protect: 'none'", () => {
  let api: Running
  beforeAll(async () => {
    const app = createApp()
    await app.register(bearerGuard, { issuer: issuer.issuer, audience, protect: 'none' })
    app.get('/open', (request) => ({ auth: request.auth }))
    app.get('/me', { config: { auth: true } }, (request) => ({ sub: getAuth(request).claims.sub }))
    app.get('/orders', { config: { auth: { allOf: ['orders:read'] } } }, () => [])
    api = await listen(app)
  })
  afterAll(() => api.close())

  it('leaves routes without config.auth public', async () => {
    const response = await api.request('/open')
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ auth: null })
  })

  it('guards routes with config.auth: true', async () => {
    expect((await api.request('/me')).status).toBe(401)
    const token = await issuer.mint()
    const response = await api.request('/me', bearer(token))
    expect(await response.json()).toEqual({ sub: 'user-123' })
  })

  it('guards routes with a policy', async () => {
    const token = await issuer.mint({ scope: 'profile' })
    expect((await api.request('/orders', bearer(token))).status).toBe(403)
  })
})

describe("errors: 'throw'", () => {
  it("hands refusals to the context's setErrorHandler", async () => {
    const app = createApp()
    const seen: string[] = []
    app.setErrorHandler((error, request, reply) => {
      if (isBearerGuardError(error)) {
        seen.push(`${error.code} ${String(request.auth?.claims.sub)}`)
        return reply
          .code(error.status)
          .headers(error.headers)
          .send({ ...error.body, handledBy: 'app' })
      }
      return reply.code(500).send({ unexpected: true })
    })
    await app.register(bearerGuard, { issuer: issuer.issuer, audience, errors: 'throw' })
    app.get('/orders', { config: { auth: { allOf: ['orders:read'] } } }, () => [])
    const api = await listen(app)
    try {
      const missing = await refusal(await api.request('/orders'))
      expect(missing).toMatchObject({ status: 401, body: { handledBy: 'app' } })
      const token = await issuer.mint({ scope: 'profile' })
      const forbidden = await refusal(await api.request('/orders', bearer(token)))
      expect(forbidden.status).toBe(403)
      expect(forbidden.challenge.scope).toBe('orders:read')
      expect(forbidden.body).toMatchObject({ error: 'insufficient_scope', handledBy: 'app' })
      expect(seen).toEqual(['ERR_MISSING_CREDENTIALS undefined', 'ERR_INSUFFICIENT_SCOPE user-123'])
    } finally {
      await api.close()
    }
  })

  it("keeps status and headers with Fastify's default error handler", async () => {
    const app = createApp()
    await app.register(bearerGuard, { issuer: issuer.issuer, audience, errors: 'throw' })
    app.get('/me', () => ({}))
    const response = await app.inject({ url: '/me', headers: { authorization: 'Bearer a.b' } })
    expect(response.statusCode).toBe(401)
    expect(bearerChallenge(response.headers['www-authenticate'] as string).params.error).toBe(
      'invalid_token',
    )
    await app.close()
  })
})

describe('encapsulation', () => {
  let api: Running
  beforeAll(async () => {
    const app = createApp()
    app.get('/', (request) => ({ root: true, decorated: 'auth' in request }))
    await app.register(
      async (child) => {
        await child.register(bearerGuard, { issuer: issuer.issuer, audience })
        child.get('/me', (request) => ({ sub: getAuth(request).claims.sub }))
        child.register((grandchild, _opts, done) => {
          grandchild.get('/nested', { config: { auth: { allOf: ['nested'] } } }, () => ({}))
          done()
        })
      },
      { prefix: '/api' },
    )
    app.get('/after', () => ({ root: true }))
    api = await listen(app)
  })
  afterAll(() => api.close())

  it('guards the routes of the context it is registered in, and of its children', async () => {
    expect((await api.request('/api/me')).status).toBe(401)
    expect((await api.request('/api/nested')).status).toBe(401)
    const token = await issuer.mint({ scope: 'nested' })
    expect(await (await api.request('/api/me', bearer(token))).json()).toEqual({ sub: 'user-123' })
    expect((await api.request('/api/nested', bearer(token))).status).toBe(200)
  })

  it('leaves the parent context alone, request.auth included', async () => {
    const root = await api.request('/')
    expect(root.status).toBe(200)
    expect(await root.json()).toEqual({ root: true, decorated: false })
    expect((await api.request('/after')).status).toBe(200)
  })
})

describe('form-body tokens (allowFormBody)', () => {
  it('verifies in preHandler, once the body is parsed', async () => {
    const app = createApp()
    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_request, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(body as string)))
      },
    )
    await app.register(bearerGuard, { issuer: issuer.issuer, audience, allowFormBody: true })
    app.post('/orders', { config: { auth: { allOf: ['orders:write'] } } }, (request, reply) =>
      reply.code(201).send({ sub: getAuth(request).claims.sub }),
    )
    const api = await listen(app)
    try {
      const token = await issuer.mint({ scope: 'orders:write' })
      const response = await api.request('/orders', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ access_token: token, item: 'tea' }).toString(),
      })
      expect(response.status).toBe(201)
      expect(await response.json()).toEqual({ sub: 'user-123' })
      const { status, challenge } = await refusal(
        await api.request('/orders', {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'item=tea',
        }),
      )
      expect(status).toBe(401)
      expect(challenge.error).toBeUndefined()
    } finally {
      await api.close()
    }
  })
})

describe('a prebuilt validator', () => {
  it('is used as is, and may be shared', async () => {
    const validator = createAccessTokenValidator({ issuer: issuer.issuer, audience })
    const app = createApp()
    await app.register(bearerGuard, { validator })
    app.get('/me', (request) => ({ sub: getAuth(request).claims.sub }))
    const token = await issuer.mint()
    const response = await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })
    expect(response.json()).toEqual({ sub: 'user-123' })
    await app.close()
  })
})

describe('checks at start-up', () => {
  async function registerError(options: unknown): Promise<unknown> {
    const app = createApp()
    void app.register(bearerGuard, options as BearerGuardOptions)
    try {
      await app.ready()
      return undefined
    } catch (error) {
      return error
    } finally {
      await app.close()
    }
  }

  it.each([
    // Fastify hands a plugin `{}` when registered without options.
    ['no options', undefined, /"issuer" is required/],
    ['options that are not an object', 'https://auth.example.com/', /options object/],
    ['no audience (from core)', { issuer: 'https://auth.example.com/' }, /"audience" is required/],
    ['an insecure issuer (from core)', { issuer: 'http://auth.example.com/', audience }, /issuer/],
    ['a bad errors mode', { issuer: 'https://a.example/', audience, errors: 'next' }, /"errors"/],
    ['a bad protect', { issuer: 'https://a.example/', audience, protect: 'some' }, /"protect"/],
    ['a bad hook', { issuer: 'https://a.example/', audience, hook: 'onSend' }, /"hook"/],
    [
      'form-body tokens at onRequest',
      { issuer: 'https://a.example/', audience, allowFormBody: true, hook: 'onRequest' },
      /preHandler/,
    ],
    ['a validator that is not one', { validator: {} }, /"validator"/],
    [
      'a misspelt plugin option',
      { issuer: 'https://a.example/', audience, protcet: 'none' },
      /^bearer-guard: the bearerGuard plugin has no option 'protcet'; did you mean 'protect'\?$/,
    ],
    [
      'a misspelt validator option',
      { issuer: 'https://a.example/', audience, clockTolerence: 60 },
      /has no option 'clockTolerence'; did you mean 'clockTolerance'\?/,
    ],
    [
      'a misspelt required option',
      { issuer: 'https://a.example/', audiance: audience },
      /has no option 'audiance'; did you mean 'audience'\?/,
    ],
    [
      "the Express adapter's logger option",
      { issuer: 'https://a.example/', audience, logger: false },
      /has no option 'logger'/,
    ],
    [
      'an unknown option next to a prebuilt validator',
      {
        validator: createAccessTokenValidator({ issuer: 'https://a.example/', audience }),
        hooks: 'preHandler',
      },
      /has no option 'hooks'; did you mean 'hook'\?/,
    ],
    [
      'a validator and validator options',
      {
        validator: createAccessTokenValidator({ issuer: 'https://a.example/', audience }),
        audience,
      },
      /not both/,
    ],
  ])('rejects %s with a TypeError', async (_name, options, message) => {
    const error = await registerError(options)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toMatch(message)
  })

  it.each([
    ['an empty policy', {}, /needs "allOf", "anyOf", "acr", "maxAge", "dpop" or "claims"/],
    ['an empty scope list', { allOf: [] }, /allOf/],
    ['a scope with a space', { anyOf: ['orders read'] }, /anyOf/],
    ['a non-function claims', { claims: 'tenant' }, /claims/],
    ['a string', 'orders:read', /must be true, false, 'optional' or a policy/],
    ['null', null, /must be true, false, 'optional' or a policy/],
  ])('rejects a route with %s at ready()', async (_name, auth, message) => {
    const app = createApp()
    await app.register(bearerGuard, { issuer: issuer.issuer, audience })
    // An async plugin, so the throw of the route declaration becomes the plugin's rejection.
    // eslint-disable-next-line @typescript-eslint/require-await
    void app.register(async (child) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- deliberately bad config
      child.get('/bad', { config: { auth: auth as any } }, () => ({}))
    })
    const error: unknown = await app.ready().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toMatch(/GET \/bad/)
    expect((error as Error).message).toMatch(message)
    await app.close()
  })

  it('refuses a second registration in the same context or a child', async () => {
    const app = createApp()
    await app.register(bearerGuard, { issuer: issuer.issuer, audience })
    app.register(async (child) => {
      await child.register(bearerGuard, { issuer: issuer.issuer, audience })
    })
    await expect(app.ready()).rejects.toThrow(/already decorated/)
    await app.close()
  })

  it('refuses (500) rather than serves a route declared before the plugin loaded', async () => {
    const app = createApp()
    // No `await`: the route below is declared before the plugin has run.
    void app.register(bearerGuard, { issuer: issuer.issuer, audience })
    app.get('/early', () => ({ served: true }))
    app.get('/early-public', { config: { auth: false } }, () => ({ served: true }))
    const response = await app.inject({ url: '/early' })
    expect(response.statusCode).toBe(500)
    expect(response.body).not.toContain('served')
    expect((await app.inject({ url: '/early-public' })).statusCode).toBe(200)
    await app.close()
  })

  it('exports the plugin as default too, with fastify-plugin metadata', () => {
    expect(defaultExport).toBe(bearerGuard)
    const meta = (bearerGuard as unknown as Record<symbol, unknown>)[Symbol.for('plugin-meta')]
    expect(meta).toMatchObject({ fastify: '5.x', name: '@bearer-guard/fastify' })
  })
})
