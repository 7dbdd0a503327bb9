/**
 * When the issuer's keys cannot be obtained (and none are cached), no token is accepted: calls
 * end with UNAVAILABLE and a `retry-after` trailer, and the operator reads one line per failure
 * episode through `logger`.
 */
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { status } from '@grpc/grpc-js'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { bearerGuard, serviceAccess } from '../src/index.js'
import {
  Shop,
  bearer,
  catalogService,
  leaksNoToken,
  shopService,
  startServer,
  trailer,
  unary,
  visibleText,
} from './support.js'

const AUDIENCE = 'https://api.example.com'

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE })
})
afterAll(async () => {
  await issuer.close()
})
afterEach(() => {
  issuer.fail('all', null)
})

describe('keys unobtainable', () => {
  it('UNAVAILABLE with retry-after, one log line per episode, recovery once keys are back', async () => {
    let now = Date.now()
    const lines: string[] = []
    const guard = bearerGuard({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      clock: () => now,
      staleIfError: 0,
      logger: { warn: (line) => lines.push(line) },
      services: [
        serviceAccess(shopService, 'authenticated'),
        serviceAccess(catalogService, 'public'),
      ],
    })
    const api = await startServer({ interceptors: [guard] })
    try {
      const shop = api.client(Shop)
      const token = await issuer.mint({ exp: Math.floor(Date.now() / 1000) + 86_400 })
      issuer.fail('all', { kind: 'status', status: 500 })

      const { error } = await unary(shop, 'Get', bearer(token))
      expect(error?.code).toBe(status.UNAVAILABLE)
      expect(Number(trailer(error, 'retry-after'))).toBeGreaterThanOrEqual(1)
      expect(trailer(error, 'www-authenticate')).toMatch(/^Bearer /)
      expect(leaksNoToken(visibleText(error), token)).toBe(true)
      expect(api.handled.calls.get('Get')).toBeUndefined()

      now += 60_000 // past the back-off: the next call fetches, and fails, again
      expect((await unary(shop, 'Get', bearer(token))).error?.code).toBe(status.UNAVAILABLE)
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(/^bearer-guard: cannot obtain the signing keys of issuer '/)
      expect(leaksNoToken(lines[0] ?? '', token)).toBe(true)

      issuer.fail('all', null)
      now += 60_000
      const recovered = await unary(shop, 'Get', bearer(token))
      expect(recovered.error).toBeUndefined()
      expect(lines).toHaveLength(1)
    } finally {
      await api.close()
    }
  })

  it('ready() rejects while the keys cannot be obtained, and resolves once they can', async () => {
    const guard = bearerGuard({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      logger: false,
      services: [serviceAccess(shopService, 'authenticated')],
    })
    issuer.fail('all', { kind: 'status', status: 503 })
    await expect(guard.ready()).rejects.toMatchObject({ code: 'ERR_KEYSET_UNAVAILABLE' })
    issuer.fail('all', null)
    await expect(guard.ready()).resolves.toBeUndefined()
  })
})
