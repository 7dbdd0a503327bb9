/**
 * DPoP (RFC 9449) through the Fastify plugin: refusals carry the DPoP challenge and the nonce to
 * retry with (`error.headers`), and a verified request's reply carries the fresh nonce core hands
 * out when the step rolls (§8.2), on guarded and optional routes alike.
 */
import {
  createTestIssuer,
  generateDpopKey,
  type DpopKey,
  type TestIssuer,
} from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dpopHeaders, steppedClock } from '../../../test/support/dpop.js'
import { parseWwwAuthenticate } from '../../../test/support/www-authenticate.js'
import { bearerGuard } from '../src/index.js'
import { audience, createApp, listen, type Running } from './support.js'

const origin = 'https://api.example.com'
const STEP = 300

let issuer: TestIssuer
let key: DpopKey
beforeAll(async () => {
  issuer = await createTestIssuer({ tokenLifetime: 3600 })
  key = await generateDpopKey()
})
afterAll(async () => {
  await issuer.close()
})

describe.each(['onRequest', 'preHandler'] as const)('hook: %s', (hook) => {
  const clock = steppedClock(STEP)
  let api: Running
  beforeAll(async () => {
    const app = createApp()
    await app.register(bearerGuard, {
      issuer: issuer.issuer,
      audience,
      hook,
      dpop: { origin, nonce: { secret: 'n'.repeat(32), step: STEP } },
      clock: clock.now,
    })
    app.get('/orders', { config: { auth: { allOf: ['orders:read'] } } }, () => [])
    app.get('/catalog', { config: { auth: 'optional' } }, (request) => ({
      sub: request.auth?.claims.sub ?? null,
    }))
    api = await listen(app)
  })
  afterAll(() => api.close())

  const send = async (path: string, token: string, nonce?: string) =>
    api.request(path, {
      headers: await dpopHeaders(key, token, {
        origin,
        path,
        nonce,
        iat: Math.floor(clock.now() / 1000),
      }),
    })

  it.each(['/orders', '/catalog'])(
    '%s: use_dpop_nonce with a nonce, then DPoP-Nonce on a 200 once the step rolled',
    async (path) => {
      const token = await issuer.mint({ scope: 'orders:read' }, { dpop: key })
      const refused = await send(path, token)
      expect(refused.status).toBe(401)
      const [challenge, ...others] = parseWwwAuthenticate(
        refused.headers.get('www-authenticate') ?? '',
      )
      expect(others).toEqual([])
      expect(challenge).toMatchObject({ scheme: 'DPoP', params: { error: 'use_dpop_nonce' } })
      expect(await refused.json()).toEqual({
        error: 'use_dpop_nonce',
        error_description: expect.any(String),
      })
      const nonce = refused.headers.get('dpop-nonce')
      if (nonce === null) throw new Error('no DPoP-Nonce')

      const current = await send(path, token, nonce)
      expect(current.status).toBe(200)
      expect(current.headers.get('dpop-nonce')).toBeNull()

      clock.advance(STEP * 1000)
      const rolled = await send(path, token, nonce)
      expect(rolled.status).toBe(200)
      const next = rolled.headers.get('dpop-nonce')
      expect(next).toEqual(expect.any(String))
      expect(next).not.toBe(nonce)
      expect((await send(path, token, next ?? '')).status).toBe(200)
    },
  )
})
