/**
 * Optional authentication: `guard.optional` in front of a route declared before `app.use(guard)`
 * lets anonymous callers through, while a token, if sent, must still be valid (CONTRACT.md
 * `GET /catalog`).
 */
import { createRequire } from 'node:module'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import type { ErrorRequestHandler, RequestHandler } from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearerChallenge } from '../../../test/support/www-authenticate.js'
import { bearerGuard, getAuth, isBearerGuardError, requireScopes } from '../src/index.js'
import { bearer, frameworks, listen, type Running } from './support.js'

// The `cors` middleware (installed with @nestjs/platform-express; no typings here).
const cors = createRequire(import.meta.url)('cors') as (options: {
  origin: string
}) => RequestHandler

const audience = 'https://api.example.com'
const origin = 'https://app.example.com'

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

describe.each(frameworks)('$name: guard.optional', ({ express }) => {
  let api: Running
  // What reached the error handler, for the misconfiguration case.
  const errors: unknown[] = []
  beforeAll(async () => {
    const app = express()
    const guard = bearerGuard({ issuer: issuer.issuer, audience, logger: false })
    app.get('/catalog', guard.optional, (req, res) => {
      res.json({ sub: req.auth?.claims.sub ?? null, auth: typeof req.auth })
    })
    app.options('/catalog', guard.optional, (req, res) => {
      res
        .status(204)
        .set('x-auth', typeof req.auth)
        .end()
    })
    // A route helper after guard.optional: it needs a verified token.
    app.get('/offers', guard.optional, requireScopes('offers:read'), (req, res) => {
      res.json({ sub: getAuth(req).claims.sub })
    })
    app.use(guard)
    app.get('/me', (req, res) => {
      res.json({ sub: getAuth(req).claims.sub })
    })
    const handler: ErrorRequestHandler = (err, _req, res, _next) => {
      errors.push(err)
      res.status(500).json({ error: 'server_error' })
    }
    app.use(handler)
    api = await listen(app)
  })
  afterAll(() => api.close())

  it.each([
    ['no Authorization header', {}],
    ['another scheme', { headers: { authorization: 'Basic dXNlcjpwYXNz' } }],
  ])('lets an anonymous caller through (%s), req.auth undefined', async (_what, init) => {
    const response = await api.request('/catalog', init)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ sub: null, auth: 'undefined' })
    expect(response.headers.get('www-authenticate')).toBeNull()
  })

  it('sets req.auth for a valid token', async () => {
    const response = await api.request('/catalog', bearer(await issuer.mint()))
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ sub: 'user-123', auth: 'object' })
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
    expect(response.headers.get('x-auth')).toBe('undefined')
    expect(response.headers.get('www-authenticate')).toBeNull()
  })

  it('leaves the routes after app.use(guard) guarded', async () => {
    expect((await api.request('/me')).status).toBe(401)
  })

  describe('with a route helper after it', () => {
    it('applies the helper to a token that is sent: 403 without the scope, 200 with it', async () => {
      const lacking = await refusal(await api.request('/offers', bearer(await issuer.mint())))
      expect(lacking.status).toBe(403)
      expect(lacking.challenge).toMatchObject({
        error: 'insufficient_scope',
        scope: 'offers:read',
      })
      const granted = await api.request(
        '/offers',
        bearer(await issuer.mint({ scope: 'offers:read' })),
      )
      expect(granted.status).toBe(200)
    })

    it('answers an anonymous caller 401 without an error attribute, as the guard would (RFC 6750 §3.1)', async () => {
      errors.length = 0
      const response = await refusal(await api.request('/offers'))
      expect(response.status).toBe(401)
      expect(response.challenge).toEqual({ realm: audience })
      expect(errors).toHaveLength(0)
    })
  })
})

describe.each(frameworks)("$name: guard.optional with errors: 'next'", ({ express }) => {
  let api: Running
  const errors: unknown[] = []
  beforeAll(async () => {
    const app = express()
    const guard = bearerGuard({ issuer: issuer.issuer, audience, errors: 'next', logger: false })
    app.get('/catalog', guard.optional, (req, res) => {
      res.json({ sub: req.auth?.claims.sub ?? null })
    })
    app.use(guard)
    const handler: ErrorRequestHandler = (err, _req, res, next) => {
      errors.push(err)
      if (!isBearerGuardError(err)) {
        next(err)
        return
      }
      res
        .status(err.status)
        .set(err.headers)
        .json({ code: err.code, ...err.body })
    }
    app.use(handler)
    api = await listen(app)
  })
  afterAll(() => api.close())

  it("hands a bad token's refusal to the error handler", async () => {
    errors.length = 0
    const response = await api.request('/catalog', bearer('not-a-jwt'))
    expect(response.status).toBe(401)
    expect(await response.json()).toMatchObject({
      error: 'invalid_token',
      code: expect.any(String),
    })
    expect(errors).toHaveLength(1)
  })

  it('lets an anonymous caller through without calling it', async () => {
    errors.length = 0
    const response = await api.request('/catalog')
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ sub: null })
    expect(errors).toEqual([])
  })
})

describe.each(frameworks)('$name: guard.optional and cors()', ({ express }) => {
  let api: Running
  beforeAll(async () => {
    const app = express()
    const guard = bearerGuard({ issuer: issuer.issuer, audience, logger: false })
    app.use(cors({ origin }))
    app.get('/catalog', guard.optional, (req, res) => {
      res.json({ sub: req.auth?.claims.sub ?? null })
    })
    app.use(guard)
    api = await listen(app)
  })
  afterAll(() => api.close())

  it('answers the preflight with cors(), and the anonymous request with 200', async () => {
    const preflight = await api.request('/catalog', {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'GET' },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin)
    const response = await api.request('/catalog', { headers: { origin } })
    expect(response.status).toBe(200)
    expect(response.headers.get('access-control-allow-origin')).toBe(origin)
  })
})
