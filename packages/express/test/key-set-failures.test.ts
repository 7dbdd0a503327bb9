import { createAccessTokenValidator, isBearerGuardError } from '@bearer-guard/core'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { bearerGuard, getAuth } from '../src/index.js'
import { bearer, frameworks, listen, type Running } from './support.js'

const audience = 'https://api.example.com'
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
  vi.restoreAllMocks()
})

/** A token that stays valid however far the tests move the validator's clock. */
const longLived = () => issuer.mint({ exp: Math.floor(Date.now() / 1000) + DAY })

describe.each(frameworks)('$name: key-set failures', ({ express }) => {
  it('are logged through `logger` once per failure episode, without token content', async () => {
    let now = Date.now()
    const lines: string[] = []
    const app = express()
    app.use(
      bearerGuard({
        issuer: issuer.issuer,
        audience,
        clock: () => now,
        staleIfError: 0,
        logger: { warn: (message) => lines.push(message) },
      }),
    )
    app.get('/me', (req, res) => res.json({ sub: getAuth(req).claims.sub }))
    const api = await listen(app)
    try {
      const token = await longLived()
      issuer.fail('all', { kind: 'status', status: 500 })
      expect((await api.request('/me', bearer(token))).status).toBe(503)
      now += 60_000 // past the back-off: the second request fetches, and fails, again
      expect((await api.request('/me', bearer(token))).status).toBe(503)
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(/^bearer-guard: cannot obtain the signing keys of issuer '/)
      expect(lines[0]).toContain(issuer.issuer)
      expect(lines[0]).toMatch(/requests get 503/)

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
        expect(line).not.toMatch(/\n/)
        for (const part of token.split('.')) expect(line).not.toContain(part)
      }
    } finally {
      await api.close()
    }
  })

  it('go to console.warn by default, and nowhere with logger: false', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const failing = await createTestIssuer()
    failing.fail('all', { kind: 'status', status: 404 })
    try {
      const silent = bearerGuard({ issuer: failing.issuer, audience, logger: false })
      await expect(silent.ready()).rejects.toThrow()
      expect(warn).not.toHaveBeenCalled()

      const guard = bearerGuard({ issuer: failing.issuer, audience })
      await expect(guard.ready()).rejects.toThrow()
      expect(warn).toHaveBeenCalledTimes(1)
      expect(warn.mock.calls[0]?.[0]).toMatch(/cannot obtain the signing keys/)
    } finally {
      await failing.close()
    }
  })
})

describe('key-set failures of a validator shared by several guards', () => {
  it('are logged once, not once per guard', async () => {
    const lines: string[] = []
    const logger = { warn: (message: string) => lines.push(message) }
    const failing = await createTestIssuer()
    failing.fail('all', { kind: 'status', status: 500 })
    try {
      const first = bearerGuard({ issuer: failing.issuer, audience, logger })
      const validator = createAccessTokenValidator({ issuer: failing.issuer, audience })
      const a = bearerGuard({ validator, logger })
      const b = bearerGuard({ validator, logger, errors: 'next' })
      await expect(first.ready()).rejects.toThrow()
      await expect(a.ready()).rejects.toThrow()
      await expect(b.ready()).rejects.toThrow()
      expect(lines).toHaveLength(2) // one per validator
    } finally {
      await failing.close()
    }
  })
})

describe('ready()', () => {
  it('resolves once the keys are loaded, and the guard then uses them', async () => {
    const app = frameworks[0].express()
    const guard = bearerGuard({ issuer: issuer.issuer, audience, logger: false })
    app.use(guard)
    app.get('/me', (req, res) => res.json({ sub: getAuth(req).claims.sub }))
    let api: Running | undefined
    try {
      issuer.resetCounts()
      await expect(guard.ready()).resolves.toBeUndefined()
      expect(issuer.requests.jwks).toBe(1)
      api = await listen(app)
      expect((await api.request('/me', bearer(await issuer.mint()))).status).toBe(200)
      expect(issuer.requests.jwks).toBe(1)
    } finally {
      await api?.close()
    }
  })

  it("rejects with the 503 error when the keys can't be obtained", async () => {
    const failing = await createTestIssuer()
    failing.fail('all', { kind: 'status', status: 500 })
    try {
      const guard = bearerGuard({ issuer: failing.issuer, audience, retryAfter: 7, logger: false })
      const error: unknown = await guard.ready().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isBearerGuardError(error)).toBe(true)
      expect(error).toMatchObject({ status: 503, headers: { 'Retry-After': '7' } })
      // Not stuck: once the issuer recovers (and the back-off has passed), it resolves.
      failing.fail('all', null)
      await vi.waitFor(() => guard.ready(), { timeout: 5_000, interval: 250 })
    } finally {
      await failing.close()
    }
  })
})
