import cors from '@fastify/cors'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearerGuard } from '../src/index.js'
import { audience, createApp } from './support.js'

const origin = 'https://app.example.com'

/** A CORS preflight as browsers send it: no credentials. */
const preflight = (url: string, method = 'GET') =>
  ({
    method: 'OPTIONS',
    url,
    headers: { origin, 'access-control-request-method': method },
  }) as const

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer()
})
afterAll(async () => {
  await issuer.close()
})

describe('CORS preflights', () => {
  it.each([
    ["after the guard, in @fastify/cors's default onRequest hook", 'after', 'onRequest'],
    ['after the guard, in preHandler', 'after', 'preHandler'],
    ['before the guard, in preHandler', 'before', 'preHandler'],
  ] as const)('reach @fastify/cors registered %s', async (_name, order, hook) => {
    const app = createApp()
    const guard = async () => {
      await app.register(bearerGuard, { issuer: issuer.issuer, audience })
    }
    if (order === 'after') await guard()
    await app.register(cors, { origin, hook })
    if (order === 'before') await guard()
    app.get('/orders', { config: { auth: { allOf: ['orders:read'] } } }, () => [])
    app.delete('/orders/:id', { config: { auth: { allOf: ['orders:write'] } } }, () => ({}))
    try {
      for (const [url, method] of [
        ['/orders', 'GET'],
        ['/orders/1', 'DELETE'],
      ] as const) {
        const response = await app.inject(preflight(url, method))
        expect(response.statusCode, `${method} ${url}`).toBe(204)
        expect(response.headers['access-control-allow-origin']).toBe(origin)
        expect(response.headers['www-authenticate']).toBeUndefined()
      }
      // The actual request stays guarded.
      expect((await app.inject({ url: '/orders', headers: { origin } })).statusCode).toBe(401)
    } finally {
      await app.close()
    }
  })

  it('reach a guarded OPTIONS route without a token; other OPTIONS requests are guarded', async () => {
    const app = createApp()
    await app.register(bearerGuard, { issuer: issuer.issuer, audience })
    app.options('/orders', (request, reply) =>
      reply
        .code(204)
        .header('x-auth', request.auth === null ? 'none' : 'set')
        .send(),
    )
    try {
      const response = await app.inject(preflight('/orders'))
      expect(response.statusCode).toBe(204)
      expect(response.headers['x-auth']).toBe('none')
      const withToken = await app.inject({
        ...preflight('/orders'),
        headers: { ...preflight('/orders').headers, authorization: 'Bearer not-a-jwt' },
      })
      expect(withToken.statusCode).toBe(401)
      const noOrigin = await app.inject({
        method: 'OPTIONS',
        url: '/orders',
        headers: { 'access-control-request-method': 'GET' },
      })
      expect(noOrigin.statusCode).toBe(401)
    } finally {
      await app.close()
    }
  })

  it('are left to Fastify (404) when nothing answers them, never 401', async () => {
    const app = createApp()
    await app.register(bearerGuard, { issuer: issuer.issuer, audience })
    app.get('/orders', () => [])
    try {
      expect((await app.inject(preflight('/orders'))).statusCode).toBe(404)
    } finally {
      await app.close()
    }
  })
})
