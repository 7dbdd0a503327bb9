/**
 * DPoP (RFC 9449) through `BearerGuard`, on both platforms: refusals carry the DPoP challenge and
 * the nonce to retry with (`error.headers`), and a verified request's response carries the fresh
 * nonce core hands out when the step rolls (§8.2), on guarded and `@OptionalAuth()` routes alike.
 */
import {
  Auth,
  BearerGuard,
  BearerGuardModule,
  OptionalAuth,
  RequireScopes,
  type VerifiedAccessToken,
} from '@bearer-guard/nestjs'
import {
  createTestIssuer,
  generateDpopKey,
  type DpopKey,
  type TestIssuer,
} from '@bearer-guard/testing'
import { Controller, Get } from '@nestjs/common'
import { APP_GUARD } from '@nestjs/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dpopHeaders, steppedClock } from '../../../test/support/dpop.js'
import { parseWwwAuthenticate } from '../../../test/support/www-authenticate.js'
import { PLATFORMS, startApp, type RunningApp } from './support.js'

const AUDIENCE = 'https://api.example.com'
const ORIGIN = 'https://api.example.com'
const STEP = 300

@Controller()
class DpopController {
  @Get('orders')
  @RequireScopes('orders:read')
  orders() {
    return []
  }

  @OptionalAuth()
  @Get('catalog')
  catalog(@Auth() auth: VerifiedAccessToken | undefined) {
    return { sub: auth?.claims.sub ?? null }
  }
}

let issuer: TestIssuer
let key: DpopKey
beforeAll(async () => {
  issuer = await createTestIssuer({ tokenLifetime: 3600 })
  key = await generateDpopKey()
})
afterAll(async () => {
  await issuer.close()
})

describe.each(PLATFORMS)('on platform-%s', (platform) => {
  const clock = steppedClock(STEP)
  let server: RunningApp
  beforeAll(async () => {
    server = await startApp(platform, {
      imports: [
        BearerGuardModule.forRoot({
          issuer: issuer.issuer,
          audience: AUDIENCE,
          dpop: { origin: ORIGIN, nonce: { secret: 'n'.repeat(32), step: STEP } },
          clock: clock.now,
        }),
      ],
      controllers: [DpopController],
      providers: [{ provide: APP_GUARD, useClass: BearerGuard }],
    })
  })
  afterAll(() => server.close())

  const send = async (path: string, token: string, nonce?: string) =>
    fetch(server.url + path, {
      headers: await dpopHeaders(key, token, {
        origin: ORIGIN,
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
