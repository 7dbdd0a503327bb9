import {
  BearerGuard,
  BearerGuardModule,
  BearerGuardReadiness,
  isBearerGuardError,
} from '@bearer-guard/nestjs'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import type { LoggerService } from '@nestjs/common'
import { APP_GUARD } from '@nestjs/core'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { ContractController } from './app.fixture.js'
import { PLATFORMS, call, startApp } from './support.js'

const AUDIENCE = 'https://api.example.com'
const DAY = 86_400

/** A Nest logger that keeps what it is given, by level. */
function recordingLogger() {
  const warnings: { message: unknown; context: unknown }[] = []
  const logger: LoggerService = {
    log: () => undefined,
    error: () => undefined,
    warn: (message: unknown, context?: unknown) => {
      warnings.push({ message, context })
    },
  }
  return { logger, warnings }
}

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

describe.each(PLATFORMS)('on platform-%s', (platform) => {
  it("logs key-set failures with Nest's Logger (context BearerGuard), once per episode", async () => {
    let now = Date.now()
    const { logger, warnings } = recordingLogger()
    const server = await startApp(
      platform,
      {
        imports: [
          BearerGuardModule.forRoot({
            issuer: issuer.issuer,
            audience: AUDIENCE,
            clock: () => now,
            staleIfError: 0,
          }),
        ],
        controllers: [ContractController],
        providers: [{ provide: APP_GUARD, useClass: BearerGuard }],
      },
      { logger },
    )
    try {
      const token = await issuer.mint({ exp: Math.floor(Date.now() / 1000) + DAY })
      issuer.fail('all', { kind: 'status', status: 500 })
      expect((await call(`${server.url}/me`, { token })).status).toBe(503)
      now += 60_000 // past the back-off: the second request fetches, and fails, again
      expect((await call(`${server.url}/me`, { token })).status).toBe(503)
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toEqual({
        message: expect.stringMatching(/^bearer-guard: cannot obtain the signing keys of issuer '/),
        context: 'BearerGuard',
      })

      // Recovery ends the episode, and the next failure starts a new one: a second line.
      issuer.fail('all', null)
      now += 60_000
      expect((await call(`${server.url}/me`, { token })).status).toBe(200)
      issuer.fail('jwks', { kind: 'reset' })
      now += 3_600_000 // past keySetMaxAge (and staleIfError 0): keys must be fetched again
      expect((await call(`${server.url}/me`, { token })).status).toBe(503)
      expect((await call(`${server.url}/me`, { token })).status).toBe(503)
      expect(warnings).toHaveLength(2)
      for (const { message } of warnings) {
        for (const part of token.split('.')) expect(String(message)).not.toContain(part)
      }
    } finally {
      await server.close()
    }
  })

  it('provides BearerGuardReadiness: resolves when the keys load, rejects with the 503 error', async () => {
    const failing = await createTestIssuer()
    const server = await startApp(platform, {
      imports: [
        BearerGuardModule.forRootAsync({
          useFactory: () => ({ issuer: failing.issuer, audience: AUDIENCE, retryAfter: 7 }),
        }),
      ],
    })
    try {
      const readiness = server.app.get(BearerGuardReadiness)
      failing.fail('all', { kind: 'status', status: 500 })
      const error: unknown = await readiness.ready().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isBearerGuardError(error)).toBe(true)
      expect(error).toMatchObject({ status: 503, headers: { 'Retry-After': '7' } })
      failing.fail('all', null)
      await vi.waitFor(() => readiness.ready(), { timeout: 5_000, interval: 250 })
      failing.resetCounts()
      await readiness.ready()
      expect(failing.requests.jwks).toBe(0) // loaded already
    } finally {
      await server.close()
      await failing.close()
    }
  })
})
