/**
 * RFC 9728 protected resource metadata served by BearerGuardModule, and step-up (RFC 9470) with
 * `@RequirePolicy`, on platform-express and platform-fastify: the document at the §3.1 path
 * (outside the global prefix), its scopes collected from every controller's policy decorators,
 * the challenges that point to it, and the opt-out.
 */
import {
  BearerGuard,
  BearerGuardModule,
  Public,
  RequireAnyScope,
  RequirePolicy,
  RequireScopes,
} from '@bearer-guard/nestjs'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { Controller, Get } from '@nestjs/common'
import { APP_GUARD } from '@nestjs/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearerChallenge } from '../../../test/support/www-authenticate.js'
import { AdminController } from './app.fixture.js'
import { PLATFORMS, call, startApp, type RunningApp } from './support.js'

const RESOURCE = 'https://api.example.com/p'
const METADATA_PATH = '/.well-known/oauth-protected-resource/p'
const MFA = 'urn:example:mfa'

@Controller()
class ResourceController {
  @Public()
  @Get('health')
  @RequireScopes('never:enforced')
  health() {
    return { status: 'ok' }
  }

  @Get('orders')
  @RequireScopes('orders:read')
  orders() {
    return []
  }

  @Get('reports')
  @RequireAnyScope('reports:read', 'admin')
  reports() {
    return []
  }

  @Get('admin/audit')
  @RequireScopes('admin')
  @RequirePolicy({ acr: [MFA], maxAge: 300 })
  audit() {
    return []
  }
}

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: RESOURCE })
})
afterAll(async () => {
  await issuer.close()
})

const now = (): number => Math.floor(Date.now() / 1000)

describe.each(PLATFORMS)('on platform-%s', (platform) => {
  describe('with resource, a global guard and a global prefix', () => {
    let server: RunningApp
    beforeAll(async () => {
      server = await startApp(
        platform,
        {
          imports: [
            BearerGuardModule.forRoot({
              issuer: issuer.issuer,
              resource: RESOURCE,
              dpop: { origin: 'https://api.example.com' },
              metadata: { scopes: ['extra:scope'] },
            }),
          ],
          controllers: [ResourceController, AdminController],
          providers: [{ provide: APP_GUARD, useClass: BearerGuard }],
        },
        { configure: (app) => app.setGlobalPrefix('api') },
      )
    })
    afterAll(() => server.close())

    it('serves the document at the well-known path, outside the prefix (§3.1)', async () => {
      const response = await fetch(`${server.url}${METADATA_PATH}`)
      expect(response.status).toBe(200)
      // §3.2: a JSON object with the application/json content type.
      expect(response.headers.get('content-type')).toMatch(/^application\/json\b/)
      expect(response.headers.get('access-control-allow-origin')).toBe('*')
      const document = (await response.json()) as Record<string, unknown>
      expect(document).toMatchObject({
        resource: RESOURCE,
        authorization_servers: [issuer.issuer],
        bearer_methods_supported: ['header'],
        // From the decorators of every controller, class-level ones too (AdminController), but
        // not those of a @Public() route, which enforces none.
        scopes_supported: ['admin', 'extra:scope', 'orders:read', 'reports:read', 'stats:read'],
      })
      expect(document.dpop_signing_alg_values_supported).toEqual(
        expect.arrayContaining(['ES256', 'RS256']),
      )
    })

    it('answers HEAD and a CORS preflight', async () => {
      const head = await fetch(`${server.url}${METADATA_PATH}`, { method: 'HEAD' })
      expect(head.status).toBe(200)
      expect(await head.text()).toBe('')
      const preflight = await fetch(`${server.url}${METADATA_PATH}`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.example.com',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'mcp-protocol-version',
        },
      })
      expect(preflight.status).toBe(204)
      expect(preflight.headers.get('access-control-allow-origin')).toBe('*')
    })

    it('points every 401 and 403 challenge to the document (RFC 9728 §5.1)', async () => {
      const url = `https://api.example.com${METADATA_PATH}`
      const missing = await call(`${server.url}/api/orders`)
      expect(missing.status).toBe(401)
      expect(bearerChallenge(missing.headers.get('www-authenticate')).params).toMatchObject({
        resource_metadata: url,
      })
      const token = await issuer.mint({ scope: 'reports:read' })
      const forbidden = await call(`${server.url}/api/orders`, { token })
      expect(forbidden.status).toBe(403)
      expect(bearerChallenge(forbidden.headers.get('www-authenticate')).params).toMatchObject({
        error: 'insufficient_scope',
        resource_metadata: url,
      })
    })

    describe('step-up with @RequirePolicy (RFC 9470)', () => {
      it('accepts a recent multi-factor authentication', async () => {
        const token = await issuer.mint({ scope: 'admin', acr: MFA, auth_time: now() - 10 })
        expect((await call(`${server.url}/api/admin/audit`, { token })).status).toBe(200)
      })

      it('refuses another acr: 401 insufficient_user_authentication with acr_values (§3)', async () => {
        const token = await issuer.mint({
          scope: 'admin',
          acr: 'urn:example:pwd',
          auth_time: now(),
        })
        const reply = await call(`${server.url}/api/admin/audit`, { token })
        expect(reply.status).toBe(401)
        expect(bearerChallenge(reply.headers.get('www-authenticate')).params).toMatchObject({
          error: 'insufficient_user_authentication',
          acr_values: MFA,
        })
        expect(reply.body).toMatchObject({ error: 'insufficient_user_authentication' })
      })

      it('refuses an old or unknown auth_time: 401 with max_age (§3)', async () => {
        for (const claims of [{ auth_time: now() - 301 }, {}]) {
          const token = await issuer.mint({ scope: 'admin', acr: MFA, ...claims })
          const reply = await call(`${server.url}/api/admin/audit`, { token })
          expect(reply.status).toBe(401)
          expect(bearerChallenge(reply.headers.get('www-authenticate')).params).toMatchObject({
            error: 'insufficient_user_authentication',
            max_age: '300',
          })
        }
      })

      it('checks the scopes too: 403 without admin', async () => {
        const token = await issuer.mint({ scope: 'orders:read', acr: MFA, auth_time: now() })
        expect((await call(`${server.url}/api/admin/audit`, { token })).status).toBe(403)
      })
    })
  })

  it('serves nothing with metadata: false (forRootAsync), nor without resource', async () => {
    for (const options of [
      { issuer: issuer.issuer, resource: RESOURCE, metadata: false as const },
      { issuer: issuer.issuer, audience: RESOURCE },
    ]) {
      const server = await startApp(platform, {
        imports: [BearerGuardModule.forRootAsync({ useFactory: () => options })],
        controllers: [ResourceController],
      })
      try {
        expect((await fetch(`${server.url}${METADATA_PATH}`)).status).toBe(404)
        expect((await fetch(`${server.url}/.well-known/oauth-protected-resource`)).status).toBe(404)
      } finally {
        await server.close()
      }
    }
  })
})

describe('misconfiguration fails the start-up', () => {
  it.each([
    [{ audience: RESOURCE, metadata: { scopes: ['a'] } }, /"metadata" needs "resource"/],
    [{ resource: RESOURCE, metadata: { scope: ['a'] } }, /'scope'; did you mean 'scopes'\?/],
    [{ resource: RESOURCE, metadata: { scopes: ['a b'] } }, /must be an array of scope tokens/],
    [{ resource: RESOURCE, metadata: true }, /"metadata" must be false or an object/],
    [{ resource: RESOURCE, metdata: {} }, /no option 'metdata'; did you mean 'metadata'\?/],
  ])('%j', async (options, message) => {
    await expect(
      startApp('express', {
        imports: [BearerGuardModule.forRoot({ issuer: issuer.issuer, ...options } as never)],
      }),
    ).rejects.toThrow(message)
  })
})
