import { createRequire } from 'node:module'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import type { RequestHandler } from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearerGuard, requireScopes } from '../src/index.js'
import { frameworks, listen, type Running } from './support.js'

// The `cors` middleware (installed with @nestjs/platform-express; no typings here): its default
// export is this factory.
const cors = createRequire(import.meta.url)('cors') as (options: {
  origin: string
}) => RequestHandler

const audience = 'https://api.example.com'
const origin = 'https://app.example.com'

/** A CORS preflight as browsers send it: no credentials. */
function preflight(method = 'GET'): RequestInit {
  return {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method },
  }
}

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer()
})
afterAll(async () => {
  await issuer.close()
})

describe.each(frameworks)('$name: CORS preflights', ({ express }) => {
  describe('with cors() after the guard', () => {
    let api: Running
    beforeAll(async () => {
      const app = express()
      app.use(bearerGuard({ issuer: issuer.issuer, audience, logger: false }))
      app.use(cors({ origin }))
      app.get('/orders', requireScopes('orders:read'), (_req, res) => res.json([]))
      app.delete('/orders/:id', requireScopes('orders:write'), (_req, res) => res.end())
      api = await listen(app)
    })
    afterAll(() => api.close())

    it('reach cors(), which answers them', async () => {
      for (const [path, method] of [
        ['/orders', 'GET'],
        ['/orders/1', 'DELETE'],
      ] as const) {
        const response = await api.request(path, preflight(method))
        expect(response.status, `${method} ${path}`).toBe(204)
        expect(response.headers.get('access-control-allow-origin')).toBe(origin)
        expect(response.headers.get('www-authenticate')).toBeNull()
      }
    })

    it('leave the actual request guarded', async () => {
      const response = await api.request('/orders', { headers: { origin } })
      expect(response.status).toBe(401)
    })
  })

  describe('without a CORS handler', () => {
    let api: Running
    const reached: unknown[] = []
    beforeAll(async () => {
      const app = express()
      app.use(bearerGuard({ issuer: issuer.issuer, audience, logger: false }))
      app.options('/orders', requireScopes('orders:read'), (req, res) => {
        reached.push(req.auth)
        res.status(204).end()
      })
      app.get('/orders', (_req, res) => res.json([]))
      api = await listen(app)
    })
    afterAll(() => api.close())

    it('pass the guard and the route helpers to the OPTIONS route', async () => {
      reached.length = 0
      expect((await api.request('/orders', preflight())).status).toBe(204)
      expect(reached).toEqual([undefined])
    })

    it('are left to Express when no OPTIONS route matches (never 401)', async () => {
      const response = await api.request('/elsewhere', preflight())
      expect(response.status).toBe(404)
    })

    it('do not cover an OPTIONS request with credentials, or without Origin', async () => {
      reached.length = 0
      const withToken = await api.request('/orders', {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          authorization: 'Bearer not-a-jwt',
        },
      })
      expect(withToken.status).toBe(401)
      const plain = await api.request('/orders', {
        method: 'OPTIONS',
        headers: { 'access-control-request-method': 'GET' },
      })
      expect(plain.status).toBe(401)
      expect(reached).toEqual([])
    })
  })
})
