/**
 * Optional authentication: `config: { auth: 'optional' }` lets anonymous callers through, while a
 * token, if sent, must still be valid (CONTRACT.md `GET /catalog`).
 */
import cors from '@fastify/cors'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearerGuard, getAuth, isBearerGuardError } from '../src/index.js'
import { audience, bearer, createApp, listen, refusal, type Running } from './support.js'

const origin = 'https://app.example.com'

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer()
})
afterAll(async () => {
  await issuer.close()
})

/** The routes every scenario declares: an optional one, its OPTIONS route, a guarded one. */
function routes(app: FastifyInstance): void {
  app.get('/catalog', { config: { auth: 'optional' } }, (request) => ({
    sub: request.auth?.claims.sub ?? null,
    auth: request.auth === null ? null : 'set',
  }))
  app.options('/catalog', { config: { auth: 'optional' } }, (request, reply) =>
    reply
      .code(204)
      .header('x-auth', request.auth === null ? 'none' : 'set')
      .send(),
  )
  app.get('/me', { config: { auth: true } }, (request) => ({ sub: getAuth(request).claims.sub }))
}

describe.each([
  ["protect: 'all' (default), onRequest", {}],
  ["protect: 'none'", { protect: 'none' }],
  ['hook: preHandler', { hook: 'preHandler' }],
] as const)("config.auth: 'optional' with %s", (_name, extra) => {
  let api: Running
  beforeAll(async () => {
    const app = createApp()
    await app.register(bearerGuard, { issuer: issuer.issuer, audience, ...extra })
    routes(app)
    api = await listen(app)
  })
  afterAll(() => api.close())

  it.each([
    ['no Authorization header', {}],
    ['another scheme', { headers: { authorization: 'Basic dXNlcjpwYXNz' } }],
  ])('lets an anonymous caller through (%s), request.auth null', async (_what, init) => {
    const response = await api.request('/catalog', init)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ sub: null, auth: null })
    expect(response.headers.get('www-authenticate')).toBeNull()
  })

  it('sets request.auth for a valid token', async () => {
    const response = await api.request('/catalog', bearer(await issuer.mint()))
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ sub: 'user-123', auth: 'set' })
  })

  it('refuses a bad token with 401 invalid_token', async () => {
    const forged = await issuer.mint({}, { key: await issuer.generateKey() })
    const expired = await issuer.mint({ iat: 1_000, exp: 2_000 })
    for (const token of ['not-a-jwt', forged, expired]) {
      const { status, challenge, body } = await refusal(
        await api.request('/catalog', bearer(token)),
      )
      expect(status).toBe(401)
      expect(challenge).toMatchObject({ realm: audience, error: 'invalid_token' })
      expect(body).toEqual({ error: 'invalid_token', error_description: expect.any(String) })
    }
  })

  it('refuses a malformed Authorization header with 400 invalid_request', async () => {
    for (const authorization of ['Bearer', 'Bearer a b', 'Bearer ab@c']) {
      const { status, challenge } = await refusal(
        await api.request('/catalog', { headers: { authorization } }),
      )
      expect(status, authorization).toBe(400)
      expect(challenge).toMatchObject({ realm: audience, error: 'invalid_request' })
    }
  })

  it('lets a CORS preflight through to the OPTIONS route, without verifying anything', async () => {
    const response = await api.request('/catalog', {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'GET' },
    })
    expect(response.status).toBe(204)
    expect(response.headers.get('x-auth')).toBe('none')
    expect(response.headers.get('www-authenticate')).toBeNull()
  })

  it('leaves a route with config.auth: true guarded', async () => {
    expect((await api.request('/me')).status).toBe(401)
  })
})

describe("config.auth: 'optional' with errors: 'throw'", () => {
  let api: Running
  const errors: unknown[] = []
  beforeAll(async () => {
    const app = createApp()
    app.setErrorHandler((error, _request, reply) => {
      errors.push(error)
      if (!isBearerGuardError(error)) return reply.send(error)
      return reply.code(error.status).headers(error.headers).send(error.body)
    })
    await app.register(bearerGuard, { issuer: issuer.issuer, audience, errors: 'throw' })
    routes(app)
    api = await listen(app)
  })
  afterAll(() => api.close())

  it("throws a bad token's refusal to the error handler", async () => {
    errors.length = 0
    const { status, body } = await refusal(await api.request('/catalog', bearer('not-a-jwt')))
    expect(status).toBe(401)
    expect(body.error).toBe('invalid_token')
    expect(errors).toHaveLength(1)
  })

  it('lets an anonymous caller through without calling it', async () => {
    errors.length = 0
    const response = await api.request('/catalog')
    expect(response.status).toBe(200)
    expect(errors).toEqual([])
  })
})

describe("config.auth: 'optional' and @fastify/cors", () => {
  it('answers the preflight with @fastify/cors, and the anonymous request with 200', async () => {
    const app = createApp()
    await app.register(bearerGuard, { issuer: issuer.issuer, audience })
    await app.register(cors, { origin })
    app.get('/catalog', { config: { auth: 'optional' } }, (request) => ({
      sub: request.auth?.claims.sub ?? null,
    }))
    try {
      const preflight = await app.inject({
        method: 'OPTIONS',
        url: '/catalog',
        headers: { origin, 'access-control-request-method': 'GET' },
      })
      expect(preflight.statusCode).toBe(204)
      expect(preflight.headers['access-control-allow-origin']).toBe(origin)
      const response = await app.inject({ url: '/catalog', headers: { origin } })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ sub: null })
    } finally {
      await app.close()
    }
  })
})

describe("config.auth: 'optional' carries no policy", () => {
  it('refuses a policy with an optional member at ready(), naming the route', async () => {
    const app = createApp()
    await app.register(bearerGuard, { issuer: issuer.issuer, audience })
    // An async plugin, so the throw of the route declaration becomes the plugin's rejection.
    // eslint-disable-next-line @typescript-eslint/require-await
    void app.register(async (child) => {
      child.get(
        '/offers',
        // 'optional' is a value of config.auth, not a member of a policy (the route config's type
        // does not catch the extra member: the check at definition does).
        { config: { auth: { optional: true, allOf: ['offers:read'] } } },
        () => ({}),
      )
    })
    const error: unknown = await app.ready().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toMatch(/GET \/offers/)
    expect((error as Error).message).toMatch(/no member 'optional'/)
    await app.close()
  })
})
