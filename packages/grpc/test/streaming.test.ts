/**
 * Streaming calls are verified once, at their start; a stream that outlives its token is ended
 * with UNAUTHENTICATED when core stops accepting the token: at `exp` plus `clockTolerance`.
 */
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearerChallenge } from '../../../test/support/www-authenticate.js'
import { bearerGuard, serviceAccess } from '../src/index.js'
import {
  Shop,
  bearer,
  catalogService,
  collect,
  duplex,
  serverStream,
  shopService,
  startServer,
  type Running,
} from './support.js'

const AUDIENCE = 'https://api.example.com'

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE })
})
afterAll(async () => {
  await issuer.close()
})

async function serverWithTolerance(clockTolerance: number): Promise<Running> {
  const guard = bearerGuard({
    issuer: issuer.issuer,
    audience: AUDIENCE,
    clockTolerance,
    logger: false,
    services: [
      serviceAccess(shopService, 'authenticated'),
      serviceAccess(catalogService, 'public'),
    ],
  })
  return startServer({ interceptors: [guard] })
}

/** A token whose `exp` is 2 s ahead (at a whole second, as `exp` is). */
async function shortLived(): Promise<{ token: string; expiresAt: number }> {
  const exp = Math.floor(Date.now() / 1000) + 2
  return { token: await issuer.mint({ exp }), expiresAt: exp * 1000 }
}

describe('a server stream that outlives its token', () => {
  it('is ended with UNAUTHENTICATED invalid_token at exp (clockTolerance 0)', async () => {
    const api = await serverWithTolerance(0)
    try {
      const { token, expiresAt } = await shortLived()
      const outcome = await collect(
        serverStream(api.client(Shop), 'Tick', bearer(token), { count: 0, interval_ms: 100 }),
      )
      expect(outcome.status.code).toBe(status.UNAUTHENTICATED)
      expect(outcome.status.details).toBe('The access token expired')
      const challenge = bearerChallenge(
        outcome.status.metadata.get('www-authenticate')[0] as string,
      )
      expect(challenge.params).toMatchObject({
        error: 'invalid_token',
        error_description: 'The access token expired',
      })
      // Messages flowed until then; the end came at exp, not before, and promptly after.
      expect(outcome.messages.length).toBeGreaterThan(3)
      expect(Math.max(...outcome.arrivals)).toBeLessThan(expiresAt + 50)
      expect(outcome.endedAt).toBeGreaterThanOrEqual(expiresAt)
      expect(outcome.endedAt).toBeLessThan(expiresAt + 1_500)
      // The handler learns it, to stop its work.
      expect(api.handled.cancelled.has('Tick')).toBe(true)
    } finally {
      await api.close()
    }
  })

  it('lives on through the clock tolerance, as a new call would be accepted', async () => {
    const api = await serverWithTolerance(1)
    try {
      const { token, expiresAt } = await shortLived()
      const outcome = await collect(
        serverStream(api.client(Shop), 'Tick', bearer(token), { count: 0, interval_ms: 100 }),
      )
      expect(outcome.status.code).toBe(status.UNAUTHENTICATED)
      expect(outcome.endedAt).toBeGreaterThanOrEqual(expiresAt + 1_000)
      expect(outcome.endedAt).toBeLessThan(expiresAt + 2_500)
      expect(outcome.arrivals.some((at) => at > expiresAt + 500)).toBe(true)
    } finally {
      await api.close()
    }
  })

  it('that ends by itself before exp ends with OK', async () => {
    const api = await serverWithTolerance(0)
    try {
      const token = await issuer.mint({ exp: Math.floor(Date.now() / 1000) + 3600 })
      const outcome = await collect(
        serverStream(api.client(Shop), 'Tick', bearer(token), { count: 3, interval_ms: 10 }),
      )
      expect(outcome.status.code).toBe(status.OK)
      expect(outcome.messages).toHaveLength(3)
    } finally {
      await api.close()
    }
  })
})

describe('a bidirectional stream that outlives its token', () => {
  it('is ended with UNAUTHENTICATED, and its handler sees the cancellation', async () => {
    const api = await serverWithTolerance(0)
    try {
      const { token, expiresAt } = await shortLived()
      const call = duplex(api.client(Shop), 'Chat', bearer(token))
      const done = collect(call)
      const timer = setInterval(() => {
        call.write({ id: 'ping', sub: '', scopes: [] })
      }, 100)
      const outcome = await done
      clearInterval(timer)
      expect(outcome.status.code).toBe(status.UNAUTHENTICATED)
      expect(outcome.messages.length).toBeGreaterThan(3)
      expect(outcome.endedAt).toBeGreaterThanOrEqual(expiresAt)
      expect(outcome.endedAt).toBeLessThan(expiresAt + 1_500)
      expect(api.handled.cancelled.has('Chat')).toBe(true)
    } finally {
      await api.close()
    }
  })
})
