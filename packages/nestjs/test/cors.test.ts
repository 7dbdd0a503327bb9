import { BearerGuard, BearerGuardModule, type BearerGuardRequest } from '@bearer-guard/nestjs'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { Controller, Get, HttpCode, Options, Req } from '@nestjs/common'
import { APP_GUARD } from '@nestjs/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ContractController } from './app.fixture.js'
import { PLATFORMS, startApp, type RunningApp } from './support.js'

const AUDIENCE = 'https://api.example.com'
const ORIGIN = 'https://app.example.com'

/** A CORS preflight as browsers send it: no credentials. */
function preflight(url: string, method = 'GET', extra: Record<string, string> = {}) {
  return fetch(url, {
    method: 'OPTIONS',
    headers: { origin: ORIGIN, 'access-control-request-method': method, ...extra },
  })
}

/** A guarded controller with its own OPTIONS route. */
@Controller('preflight')
class PreflightController {
  @Options()
  @HttpCode(204)
  options(@Req() request: BearerGuardRequest) {
    return { auth: request.auth ?? null }
  }

  @Get()
  get() {
    return []
  }
}

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer()
})
afterAll(async () => {
  await issuer.close()
})

describe.each(PLATFORMS)('on platform-%s: CORS preflights', (platform) => {
  const root = () => ({
    imports: [BearerGuardModule.forRoot({ issuer: issuer.issuer, audience: AUDIENCE })],
    controllers: [ContractController, PreflightController],
    providers: [{ provide: APP_GUARD, useClass: BearerGuard }],
  })

  describe('with enableCors()', () => {
    let server: RunningApp
    beforeAll(async () => {
      server = await startApp(platform, root(), {
        configure: (app) => {
          app.enableCors({ origin: ORIGIN })
        },
      })
    })
    afterAll(() => server.close())

    it('are answered by the CORS handler under a global guard', async () => {
      for (const [path, method] of [
        ['/orders', 'GET'],
        ['/orders/1', 'DELETE'],
        ['/me', 'GET'],
      ] as const) {
        const response = await preflight(`${server.url}${path}`, method)
        expect(response.status, `${method} ${path}`).toBe(204)
        expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN)
        expect(response.headers.get('www-authenticate')).toBeNull()
      }
      expect((await fetch(`${server.url}/orders`, { headers: { origin: ORIGIN } })).status).toBe(
        401,
      )
    })
  })

  describe('with enableCors({ preflightContinue: true })', () => {
    let server: RunningApp
    beforeAll(async () => {
      server = await startApp(platform, root(), {
        configure: (app) => {
          app.enableCors({ origin: ORIGIN, preflightContinue: true })
        },
      })
    })
    afterAll(() => server.close())

    it('reach an @Options() route through the guard, without a token', async () => {
      const response = await preflight(`${server.url}/preflight`)
      expect(response.status).toBe(204)
      expect(response.headers.get('www-authenticate')).toBeNull()
    })
  })

  describe('without CORS', () => {
    let server: RunningApp
    beforeAll(async () => {
      server = await startApp(platform, root())
    })
    afterAll(() => server.close())

    it('reach an @Options() route through the guard, without a token', async () => {
      const response = await preflight(`${server.url}/preflight`)
      expect(response.status).toBe(204)
    })

    it('are never refused by the guard where no OPTIONS route exists', async () => {
      const response = await preflight(`${server.url}/orders`)
      expect([401, 400, 403]).not.toContain(response.status)
      expect(response.headers.get('www-authenticate')).toBeNull()
    })

    it('do not cover an OPTIONS request with credentials, or without Origin', async () => {
      const withToken = await preflight(`${server.url}/preflight`, 'GET', {
        authorization: 'Bearer not-a-jwt',
      })
      expect(withToken.status).toBe(401)
      const noOrigin = await fetch(`${server.url}/preflight`, {
        method: 'OPTIONS',
        headers: { 'access-control-request-method': 'GET' },
      })
      expect(noOrigin.status).toBe(401)
    })
  })
})
