import { createAccessTokenValidator, type AccessTokenValidator } from '@bearer-guard/core'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import type { ErrorRequestHandler } from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearerChallenge } from '../../../test/support/www-authenticate.js'
import {
  bearerGuard,
  getAuth,
  isBearerGuardError,
  requireAnyScope,
  requireClaims,
  requirePolicy,
  requireScopes,
} from '../src/index.js'
import { bearer, frameworks, listen, type Running } from './support.js'

const audience = 'https://api.example.com'

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer()
})
afterAll(async () => {
  await issuer.close()
})

/** Reads a refusal: its status, parsed Bearer challenge and JSON body. */
async function refusal(response: Response) {
  return {
    status: response.status,
    challenge: bearerChallenge(response.headers.get('www-authenticate')).params,
    body: (await response.json()) as Record<string, unknown>,
  }
}

describe.each(frameworks)('$name', ({ express }) => {
  describe("errors: 'respond' (default)", () => {
    let api: Running
    beforeAll(async () => {
      const app = express()
      app.get('/public', (_req, res) => res.json({ public: true }))
      app.use(bearerGuard({ issuer: issuer.issuer, audience }))
      app.get('/me', (req, res) => {
        const auth = getAuth(req)
        res.json({ sub: auth.claims.sub, scopes: [...auth.scopes], same: auth === req.auth })
      })
      app.get('/orders', requireScopes('orders:read'), (_req, res) => res.json([]))
      app.delete('/orders/:id', requireScopes('orders:write', 'orders:admin'), (_req, res) => {
        res.status(204).end()
      })
      app.get('/reports', requireAnyScope('reports:read', 'admin'), (_req, res) => res.json([]))
      app.get(
        '/acme',
        requireClaims((claims) => claims.tenant_id === 'acme', 'This API serves tenant acme only'),
        (_req, res) => res.json({ tenant: 'acme' }),
      )
      app.get('/mixed', requirePolicy({ allOf: ['a'], anyOf: ['b', 'c'] }), (_req, res) => {
        res.json({ ok: true })
      })
      api = await listen(app)
    })
    afterAll(() => api.close())

    it('leaves routes mounted before it unguarded', async () => {
      const response = await api.request('/public')
      expect(response.status).toBe(200)
    })

    it('sets req.auth and calls next() for a valid token', async () => {
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
      expect(body).not.toHaveProperty('error')
      expect(body.error_description).toEqual(expect.any(String))
    })

    it('does not accept a token from the query unless enabled', async () => {
      const token = await issuer.mint()
      const { status, challenge } = await refusal(await api.request(`/me?access_token=${token}`))
      expect(status).toBe(401)
      expect(challenge).not.toHaveProperty('error')
    })

    it('answers 400 invalid_request for a malformed Authorization header', async () => {
      const { status, challenge, body } = await refusal(
        await api.request('/me', { headers: { authorization: 'Bearer' } }),
      )
      expect(status).toBe(400)
      expect(challenge).toMatchObject({ realm: audience, error: 'invalid_request' })
      expect(body).toEqual({ error: 'invalid_request', error_description: expect.any(String) })
    })

    it('answers 401 invalid_token for a bad token', async () => {
      const forged = await issuer.mint({}, { key: await issuer.generateKey() })
      for (const token of ['abc.def.ghi', forged]) {
        const { status, challenge, body } = await refusal(await api.request('/me', bearer(token)))
        expect(status).toBe(401)
        expect(challenge).toMatchObject({ realm: audience, error: 'invalid_token' })
        expect(challenge.error_description).toBe(body.error_description)
        expect(body.error).toBe('invalid_token')
      }
    })

    it.each([
      ['/orders', 'GET', 'orders:read'],
      ['/orders/1', 'DELETE', 'orders:write orders:admin'],
      ['/reports', 'GET', 'reports:read admin'],
      ['/mixed', 'GET', 'a b c'],
    ])('answers 403 insufficient_scope naming the scopes %s needs', async (path, method, scope) => {
      const token = await issuer.mint({ scope: 'orders:write profile' })
      const response = await api.request(path, { ...bearer(token), method })
      const { status, challenge, body } = await refusal(response)
      expect(status).toBe(403)
      expect(challenge).toMatchObject({ realm: audience, error: 'insufficient_scope', scope })
      expect(body.error).toBe('insufficient_scope')
    })

    it('passes the route helpers when the token grants what they need', async () => {
      const token = await issuer.mint({
        scope: 'orders:read orders:write orders:admin admin a c',
        tenant_id: 'acme',
      })
      const paths: [string, string, number][] = [
        ['/orders', 'GET', 200],
        ['/orders/1', 'DELETE', 204],
        ['/reports', 'GET', 200],
        ['/acme', 'GET', 200],
        ['/mixed', 'GET', 200],
      ]
      for (const [path, method, expected] of paths) {
        const response = await api.request(path, { ...bearer(token), method })
        expect(response.status, `${method} ${path}`).toBe(expected)
      }
    })

    it('refuses a claims policy with its description', async () => {
      const token = await issuer.mint({ tenant_id: 'globex' })
      const { status, challenge, body } = await refusal(await api.request('/acme', bearer(token)))
      expect(status).toBe(403)
      expect(challenge).toMatchObject({ error: 'insufficient_scope' })
      expect(challenge).not.toHaveProperty('scope')
      expect(body.error_description).toBe('This API serves tenant acme only')
    })
  })

  describe('when the issuer keys cannot be obtained', () => {
    let failing: TestIssuer
    let api: Running
    beforeAll(async () => {
      failing = await createTestIssuer()
      failing.fail('all', { kind: 'status', status: 500 })
      const app = express()
      // Its log line is tested in key-set-failures.test.ts.
      app.use(bearerGuard({ issuer: failing.issuer, audience, retryAfter: 7, logger: false }))
      app.get('/me', (_req, res) => res.json({}))
      api = await listen(app)
    })
    afterAll(async () => {
      await api.close()
      await failing.close()
    })

    it('answers 503 with Retry-After and accepts no token', async () => {
      const response = await api.request('/me', bearer(await failing.mint()))
      expect(response.status).toBe(503)
      expect(response.headers.get('retry-after')).toBe('7')
      expect(bearerChallenge(response.headers.get('www-authenticate')).params).not.toHaveProperty(
        'error',
      )
      expect(await response.json()).toMatchObject({ error_description: expect.any(String) })
    })
  })

  describe("errors: 'next'", () => {
    let api: Running
    const seen: unknown[] = []
    beforeAll(async () => {
      const app = express()
      app.use(bearerGuard({ issuer: issuer.issuer, audience, errors: 'next' }))
      app.get('/orders', requireScopes('orders:read'), (_req, res) => res.json([]))
      const handler: ErrorRequestHandler = (err, _req, res, next) => {
        seen.push(err)
        if (!isBearerGuardError(err)) {
          next(err)
          return
        }
        res.status(err.status).set(err.headers).json({ problem: err.code })
      }
      app.use(handler)
      api = await listen(app)
    })
    afterAll(() => api.close())

    it("hands the guard's refusals to the app's error handler", async () => {
      const response = await api.request('/orders', bearer('not-a-jwt'))
      expect(response.status).toBe(401)
      expect(await response.json()).toEqual({ problem: 'ERR_TOKEN_MALFORMED' })
      expect(bearerChallenge(response.headers.get('www-authenticate')).params.error).toBe(
        'invalid_token',
      )
      expect(isBearerGuardError(seen.at(-1))).toBe(true)
    })

    it("hands the route helpers' refusals to the app's error handler too", async () => {
      const response = await api.request('/orders', bearer(await issuer.mint()))
      expect(response.status).toBe(403)
      expect(await response.json()).toEqual({ problem: 'ERR_INSUFFICIENT_SCOPE' })
    })
  })

  describe("errors: 'next' with Express's default error handler", () => {
    let api: Running
    beforeAll(async () => {
      const app = express()
      app.set('env', 'test') // no stack traces in the response or the log
      app.use(bearerGuard({ issuer: issuer.issuer, audience, errors: 'next' }))
      app.get('/me', (_req, res) => res.json({}))
      api = await listen(app)
    })
    afterAll(() => api.close())

    it('renders the status and WWW-Authenticate the error carries', async () => {
      const response = await api.request('/me')
      expect(response.status).toBe(401)
      expect(bearerChallenge(response.headers.get('www-authenticate')).params).toEqual({
        realm: audience,
      })
    })
  })

  describe('on a router', () => {
    let api: Running
    beforeAll(async () => {
      const router = express.Router()
      router.use(bearerGuard({ issuer: issuer.issuer, audience }))
      router.get('/orders', requireScopes('orders:read'), (_req, res) => res.json([]))
      const app = express()
      app.use('/api', router)
      app.get('/health', (_req, res) => res.json({ status: 'ok' }))
      api = await listen(app)
    })
    afterAll(() => api.close())

    it('guards only the routes of that router', async () => {
      expect((await api.request('/health')).status).toBe(200)
      expect((await api.request('/api/orders')).status).toBe(401)
      const token = await issuer.mint({ scope: 'orders:read' })
      expect((await api.request('/api/orders', bearer(token))).status).toBe(200)
    })
  })

  describe('misconfiguration', () => {
    it('fails loudly when a route helper runs without the guard', async () => {
      const seen: unknown[] = []
      const app = express()
      app.get('/orders', requireScopes('orders:read'), (_req, res) => res.json([]))
      const handler: ErrorRequestHandler = (err, _req, res, _next) => {
        seen.push(err)
        res.status(500).json({})
      }
      app.use(handler)
      const api = await listen(app)
      try {
        expect((await api.request('/orders', bearer(await issuer.mint()))).status).toBe(500)
        expect(seen).toHaveLength(1)
        expect(String(seen[0])).toMatch(/mount bearerGuard\(\) before this route/)
      } finally {
        await api.close()
      }
    })

    it('passes errors that are not refusals to next(), whatever the mode', async () => {
      const boom = new Error('boom')
      // A validator without core's synchronous primitive: the adapter falls back to the promise.
      const validator = {
        realm: audience,
        allowFormBody: false,
        verify: () => Promise.reject(boom),
        verifyRequest: () => Promise.reject(boom),
        ready: () => Promise.resolve(),
      } as unknown as AccessTokenValidator
      const seen: unknown[] = []
      const app = express()
      app.use(bearerGuard({ validator }))
      app.get('/me', (_req, res) => res.json({}))
      const handler: ErrorRequestHandler = (err, _req, res, _next) => {
        seen.push(err)
        res.status(500).json({})
      }
      app.use(handler)
      const api = await listen(app)
      try {
        expect((await api.request('/me')).status).toBe(500)
        expect(seen).toEqual([boom])
      } finally {
        await api.close()
      }
    })
  })
})

describe('a prebuilt validator', () => {
  it('is used as is and can be shared between guards', async () => {
    const validator = createAccessTokenValidator({ issuer: issuer.issuer, audience })
    const app = frameworks[0].express()
    app.use('/a', bearerGuard({ validator }))
    app.use('/b', bearerGuard({ validator, errors: 'next' }))
    app.get(['/a', '/b'], (req, res) => res.json({ sub: getAuth(req).claims.sub }))
    const api = await listen(app)
    try {
      const token = await issuer.mint()
      expect(await (await api.request('/a', bearer(token))).json()).toEqual({ sub: 'user-123' })
      expect(await (await api.request('/b', bearer(token))).json()).toEqual({ sub: 'user-123' })
    } finally {
      await api.close()
    }
  })
})

describe('stacked guards', () => {
  it('refuse in the mode of the last guard that verified the request', async () => {
    const validator = createAccessTokenValidator({ issuer: issuer.issuer, audience })
    const seen: unknown[] = []
    const app = frameworks[0].express()
    app.use(bearerGuard({ validator, errors: 'next' }))
    app.get('/respond', bearerGuard({ validator }), requireScopes('admin'), (_req, res) =>
      res.json({}),
    )
    app.get('/next', requireScopes('admin'), (_req, res) => res.json({}))
    const handler: ErrorRequestHandler = (err, _req, res, _next) => {
      seen.push(err)
      res.status(599).json({})
    }
    app.use(handler)
    const api = await listen(app)
    try {
      const token = await issuer.mint({ scope: 'orders:read' })
      // The route's own guard ('respond') comes after the app-wide one ('next'): answered here.
      const respond = await api.request('/respond', bearer(token))
      expect(respond.status).toBe(403)
      expect(respond.headers.get('www-authenticate')).toContain('insufficient_scope')
      expect(seen).toHaveLength(0)
      // Only the app-wide guard ('next'): the refusal goes to the error handler.
      expect((await api.request('/next', bearer(token))).status).toBe(599)
      expect(seen).toHaveLength(1)
    } finally {
      await api.close()
    }
  })
})

describe('checks at definition time', () => {
  it('bearerGuard() lets the TypeError of bad validator options propagate', () => {
    expect(() => bearerGuard({ issuer: 'http://auth.example.com', audience })).toThrow(TypeError)
    expect(() => bearerGuard({ issuer: issuer.issuer, audience: [] })).toThrow(TypeError)
  })

  it('bearerGuard() refuses bad adapter options', () => {
    // @ts-expect-error -- not an ErrorMode
    expect(() => bearerGuard({ issuer: issuer.issuer, audience, errors: 'throw' })).toThrow(
      TypeError,
    )
    // @ts-expect-error -- not a validator
    expect(() => bearerGuard({ validator: {} })).toThrow(TypeError)
    // @ts-expect-error -- no options
    expect(() => bearerGuard()).toThrow('options must be an object')
    // @ts-expect-error -- no options
    expect(() => bearerGuard(null)).toThrow('options must be an object')
  })

  it.each([
    [{ clockTolerence: 60 }, "no option 'clockTolerence'; did you mean 'clockTolerance'?"],
    [{ error: 'next' }, "no option 'error'; did you mean 'errors'?"],
    [{ loger: false }, "no option 'loger'; did you mean 'logger'?"],
    [{ hook: 'onRequest' }, "no option 'hook'"], // the Fastify adapter's
  ])('bearerGuard() refuses an unknown option, naming the closest: %o', (extra, message) => {
    let error: unknown
    try {
      bearerGuard({ issuer: issuer.issuer, audience, ...extra })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toMatch(/^bearer-guard: bearerGuard\(\) has /)
    expect((error as Error).message).toContain(message)
  })

  it('bearerGuard() refuses a misspelt required option by its name', () => {
    // @ts-expect-error -- `audiance` is not an option (and `audience` is missing)
    expect(() => bearerGuard({ issuer: issuer.issuer, audiance: audience })).toThrow(
      /has no option 'audiance'; did you mean 'audience'\?/,
    )
  })

  it('bearerGuard() refuses unknown options next to a prebuilt validator', () => {
    const validator = createAccessTokenValidator({ issuer: issuer.issuer, audience })
    // @ts-expect-error -- not an option
    expect(() => bearerGuard({ validator, erors: 'next' })).toThrow(/did you mean 'errors'/)
  })

  it('bearerGuard() refuses a logger without warn()', () => {
    // @ts-expect-error -- not a logger
    expect(() => bearerGuard({ issuer: issuer.issuer, audience, logger: true })).toThrow(
      /"logger" must have a warn\(message\) method, or be false/,
    )
    // @ts-expect-error -- not a logger
    expect(() => bearerGuard({ issuer: issuer.issuer, audience, logger: {} })).toThrow(TypeError)
  })

  it('route helpers throw a TypeError for a bad policy', () => {
    expect(() => requireScopes()).toThrow(TypeError)
    expect(() => requireScopes('orders:read', 'two words')).toThrow(TypeError)
    expect(() => requireScopes('')).toThrow(TypeError)
    expect(() => requireAnyScope()).toThrow(TypeError)
    expect(() => requireAnyScope('a"b')).toThrow(TypeError)
    expect(() => requirePolicy({})).toThrow(TypeError)
    // @ts-expect-error -- not a predicate
    expect(() => requireClaims('tenant_id')).toThrow(TypeError)
  })
})
