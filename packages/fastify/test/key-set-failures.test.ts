import { createAccessTokenValidator, isBearerGuardError } from '@bearer-guard/core'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { bearerGuard, getAuth } from '../src/index.js'
import { audience, bearer, createApp, listen } from './support.js'

const DAY = 86_400

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer()
})
afterAll(async () => {
  await issuer.close()
})
afterEach(() => {
  issuer.fail('all', null)
})

/** A Fastify app whose (pino) log lines at warn and above are kept, parsed. */
function loggingApp(): { app: FastifyInstance; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const app = Fastify({
    logger: {
      level: 'warn',
      stream: {
        write: (line: string) => {
          lines.push(JSON.parse(line) as Record<string, unknown>)
        },
      },
    },
  })
  return { app, lines }
}

/** A token that stays valid however far the tests move the validator's clock. */
const longLived = () => issuer.mint({ exp: Math.floor(Date.now() / 1000) + DAY })

describe('key-set failures', () => {
  it("are logged with the instance's log.warn once per failure episode, without token content", async () => {
    let now = Date.now()
    const { app, lines } = loggingApp()
    await app.register(bearerGuard, {
      issuer: issuer.issuer,
      audience,
      clock: () => now,
      staleIfError: 0,
    })
    app.get('/me', (request) => ({ sub: getAuth(request).claims.sub }))
    const api = await listen(app)
    try {
      const token = await longLived()
      issuer.fail('all', { kind: 'status', status: 500 })
      expect((await api.request('/me', bearer(token))).status).toBe(503)
      now += 60_000 // past the back-off: the second request fetches, and fails, again
      expect((await api.request('/me', bearer(token))).status).toBe(503)
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatchObject({
        level: 40, // warn
        issuer: issuer.issuer,
        msg: expect.stringMatching(/^bearer-guard: cannot obtain the signing keys of issuer '/),
      })
      expect(lines[0]?.msg).toMatch(/requests get 503/)

      // Recovery ends the episode…
      issuer.fail('all', null)
      now += 60_000
      expect((await api.request('/me', bearer(token))).status).toBe(200)
      expect(lines).toHaveLength(1)

      // …and the next failure starts a new one: a second line.
      issuer.fail('jwks', { kind: 'reset' })
      now += 3_600_000 // past keySetMaxAge (and staleIfError 0): keys must be fetched again
      expect((await api.request('/me', bearer(token))).status).toBe(503)
      expect((await api.request('/me', bearer(token))).status).toBe(503)
      expect(lines).toHaveLength(2)

      for (const line of lines) {
        for (const part of token.split('.')) expect(JSON.stringify(line)).not.toContain(part)
      }
    } finally {
      await api.close()
    }
  })

  it('are no longer logged once the instance is closed', async () => {
    const failing = await createTestIssuer()
    failing.fail('all', { kind: 'status', status: 500 })
    const validator = createAccessTokenValidator({ issuer: failing.issuer, audience })
    const { app, lines } = loggingApp()
    await app.register(bearerGuard, { validator })
    await app.ready()
    await app.close()
    try {
      await expect(validator.ready()).rejects.toThrow()
      expect(lines).toEqual([])
    } finally {
      await failing.close()
    }
  })
})

describe('app.bearerGuard.ready()', () => {
  it('resolves once the keys are loaded, and the guard then uses them', async () => {
    const app = createApp()
    await app.register(bearerGuard, { issuer: issuer.issuer, audience })
    app.get('/me', (request) => ({ sub: getAuth(request).claims.sub }))
    try {
      issuer.resetCounts()
      await expect(app.bearerGuard.ready()).resolves.toBeUndefined()
      expect(issuer.requests.jwks).toBe(1)
      const token = await issuer.mint()
      const response = await app.inject({
        url: '/me',
        headers: { authorization: `Bearer ${token}` },
      })
      expect(response.statusCode).toBe(200)
      expect(issuer.requests.jwks).toBe(1)
    } finally {
      await app.close()
    }
  })

  it("rejects with the 503 error when the keys can't be obtained", async () => {
    const failing = await createTestIssuer()
    failing.fail('all', { kind: 'status', status: 500 })
    const app = createApp()
    await app.register(bearerGuard, { issuer: failing.issuer, audience, retryAfter: 7 })
    try {
      const error: unknown = await app.bearerGuard.ready().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isBearerGuardError(error)).toBe(true)
      expect(error).toMatchObject({ status: 503, headers: { 'Retry-After': '7' } })
      failing.fail('all', null)
      await vi.waitFor(() => app.bearerGuard.ready(), { timeout: 5_000, interval: 250 })
    } finally {
      await app.close()
      await failing.close()
    }
  })

  it('is decorated on the context the plugin is registered in, and its children', async () => {
    const app = createApp()
    let child: FastifyInstance | undefined
    await app.register(
      async (instance) => {
        await instance.register(bearerGuard, { issuer: issuer.issuer, audience })
        child = instance
      },
      { prefix: '/api' },
    )
    try {
      expect(app.hasDecorator('bearerGuard')).toBe(false)
      expect(child?.hasDecorator('bearerGuard')).toBe(true)
    } finally {
      await app.close()
    }
  })
})
