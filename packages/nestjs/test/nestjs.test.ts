import {
  BearerGuard,
  BearerGuardException,
  BearerGuardModule,
  type BearerGuardOptionsFactory,
} from '@bearer-guard/nestjs'
import { createAccessTokenValidator } from '@bearer-guard/core'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import {
  Catch,
  HttpException,
  Injectable,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common'
import { ConfigModule, ConfigService } from '@nestjs/config'
import { APP_FILTER, APP_GUARD, HttpAdapterHost } from '@nestjs/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AdminController, ContractController, OpenController } from './app.fixture.js'
import { PLATFORMS, call, startApp, type RunningApp } from './support.js'

const AUDIENCE = 'https://api.example.com'

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer()
})
afterAll(async () => {
  await issuer.close()
})

describe.each(PLATFORMS)('on platform-%s', (platform) => {
  describe('global guard (APP_GUARD) with forRoot', () => {
    let server: RunningApp
    beforeAll(async () => {
      server = await startApp(platform, {
        imports: [BearerGuardModule.forRoot({ issuer: issuer.issuer, audience: AUDIENCE })],
        controllers: [ContractController, AdminController, OpenController],
        providers: [{ provide: APP_GUARD, useClass: BearerGuard }],
      })
    })
    afterAll(() => server.close())

    it('lets @Public() routes through without a token', async () => {
      const reply = await call(`${server.url}/health`)
      expect(reply.status).toBe(200)
      expect(reply.body).toEqual({ status: 'ok' })
      expect(reply.headers.get('www-authenticate')).toBeNull()
    })

    it('answers 200 with the verified token from @Auth(), also on request.auth', async () => {
      const token = await issuer.mint({ scope: 'orders:read', scp: ['reports:read'] })
      const reply = await call(`${server.url}/me`, { token })
      expect(reply.status).toBe(200)
      expect(reply.body).toMatchObject({
        sub: 'user-123',
        client_id: 'test-client',
        scopes: ['orders:read', 'reports:read'],
        claims: { iss: issuer.issuer, aud: AUDIENCE, scope: 'orders:read' },
        sameAsRequestAuth: true,
      })
    })

    it('refuses a request without credentials: 401, no error attribute nor body error', async () => {
      for (const authorization of [undefined, 'Basic dXNlcjpwYXNz']) {
        const reply = await call(`${server.url}/me`, { authorization })
        expect(reply.status).toBe(401)
        const challenge = reply.challenge()
        expect(challenge.scheme).toBe('Bearer')
        expect(challenge.params).toEqual({ realm: AUDIENCE })
        expect(reply.body).toEqual({ error_description: expect.any(String) })
      }
    })

    it('refuses a malformed request with 400 invalid_request', async () => {
      for (const authorization of ['Bearer', 'Bearer   ', 'Bearer a b', 'Bearer ab@c']) {
        const reply = await call(`${server.url}/me`, { authorization })
        expect(reply.status, authorization).toBe(400)
        const { scheme, params } = reply.challenge()
        expect(scheme).toBe('Bearer')
        expect(params.realm).toBe(AUDIENCE)
        expect(params.error).toBe('invalid_request')
        expect(params.error_description).toBeTruthy()
        expect(reply.body).toEqual({
          error: 'invalid_request',
          error_description: params.error_description,
        })
      }
    })

    it('refuses bad tokens with 401 invalid_token', async () => {
      const foreign = await issuer.generateKey()
      const tokens = {
        garbage: 'abc.def.ghi',
        forged: await issuer.mint({}, { key: foreign }),
        expired: await issuer.mint({ exp: Math.floor(Date.now() / 1000) - 3600 }),
        audience: await issuer.mint({ aud: 'https://other.example.com' }),
        issuer: await issuer.mint({ iss: 'https://evil.example.com' }),
      }
      for (const [name, token] of Object.entries(tokens)) {
        const reply = await call(`${server.url}/me`, { token })
        expect(reply.status, name).toBe(401)
        const { params } = reply.challenge()
        expect(params.error, name).toBe('invalid_token')
        expect(params.realm).toBe(AUDIENCE)
        expect(reply.body).toEqual({
          error: 'invalid_token',
          error_description: params.error_description,
        })
        expect(JSON.stringify(reply.body)).not.toContain(token)
      }
    })

    it('enforces @RequireScopes (all of) with 403 and the needed scopes', async () => {
      const reader = await issuer.mint({ scope: 'orders:read orders:write' })
      const denied = await call(`${server.url}/orders/1`, { method: 'DELETE', token: reader })
      expect(denied.status).toBe(403)
      const { params } = denied.challenge()
      expect(params.error).toBe('insufficient_scope')
      expect(params.scope).toBe('orders:write orders:admin')
      expect(denied.body).toEqual({
        error: 'insufficient_scope',
        error_description: params.error_description,
      })

      const admin = await issuer.mint({ scope: 'orders:write orders:admin' })
      const deleted = await call(`${server.url}/orders/1`, { method: 'DELETE', token: admin })
      expect(deleted.status).toBe(204)
      expect(deleted.body).toBeUndefined()

      expect((await call(`${server.url}/orders`, { token: reader })).body).toEqual([{ id: '1' }])
      const created = await call(`${server.url}/orders`, {
        method: 'POST',
        token: admin,
        body: { item: 'tea' },
      })
      expect(created.status).toBe(201)
      expect(created.body).toEqual({ id: '2', body: { item: 'tea' } })
    })

    it('enforces @RequireAnyScope (any of)', async () => {
      const none = await issuer.mint({ scope: 'orders:read' })
      const denied = await call(`${server.url}/reports`, { token: none })
      expect(denied.status).toBe(403)
      expect(denied.challenge().params.scope).toBe('reports:read admin')
      for (const scope of ['reports:read', 'admin']) {
        const reply = await call(`${server.url}/reports`, { token: await issuer.mint({ scope }) })
        expect(reply.status, scope).toBe(200)
      }
    })

    it('enforces @RequireClaims with its description, and @RequirePolicy', async () => {
      const other = await call(`${server.url}/acme`, {
        token: await issuer.mint({ tenant_id: 'globex' }),
      })
      expect(other.status).toBe(403)
      expect(other.challenge().params.error).toBe('insufficient_scope')
      expect(other.body).toEqual({
        error: 'insufficient_scope',
        error_description: 'The token is not for tenant acme',
      })
      const acme = await call(`${server.url}/acme`, {
        token: await issuer.mint({ tenant_id: 'acme' }),
      })
      expect(acme.status).toBe(200)

      const writer = await issuer.mint({ scope: 'orders:write' })
      expect((await call(`${server.url}/refunds`, { token: writer })).status).toBe(403)
      const support = await issuer.mint({ scope: 'orders:write support' })
      expect((await call(`${server.url}/refunds`, { token: support })).status).toBe(200)
    })

    it('applies class-level scopes, overridden by the method (getAllAndOverride)', async () => {
      const admin = await issuer.mint({ scope: 'admin' })
      const stats = await issuer.mint({ scope: 'stats:read' })
      expect((await call(`${server.url}/admin`, { token: admin })).status).toBe(200)
      expect((await call(`${server.url}/admin`, { token: stats })).status).toBe(403)
      expect((await call(`${server.url}/admin/stats`, { token: stats })).status).toBe(200)
      expect((await call(`${server.url}/admin/stats`, { token: admin })).status).toBe(403)
    })

    it('guards routes without metadata under APP_GUARD', async () => {
      expect((await call(`${server.url}/open`)).status).toBe(401)
    })

    it('answers 500, not a pass, for @Auth() on a @Public() route', async () => {
      const reply = await call(`${server.url}/public-auth`)
      expect(reply.status).toBe(500)
    })
  })

  describe('per-controller guard (@UseGuards) with forRootAsync and ConfigService', () => {
    let server: RunningApp
    beforeAll(async () => {
      server = await startApp(platform, {
        imports: [
          ConfigModule.forRoot({
            ignoreEnvFile: true,
            load: [() => ({ ISSUER: issuer.issuer, AUDIENCE, JWKS_URI: issuer.jwksUri })],
          }),
          BearerGuardModule.forRootAsync({
            imports: [ConfigModule],
            inject: [ConfigService],
            useFactory: (config: ConfigService) => ({
              issuer: config.getOrThrow<string>('ISSUER'),
              audience: config.getOrThrow<string>('AUDIENCE'),
              jwksUri: config.get<string>('JWKS_URI'),
              realm: 'orders-api',
            }),
          }),
        ],
        controllers: [AdminController, OpenController],
      })
    })
    afterAll(() => server.close())

    it('uses the options from ConfigService', async () => {
      issuer.resetCounts()
      const ok = await call(`${server.url}/admin`, { token: await issuer.mint({ scope: 'admin' }) })
      expect(ok.status).toBe(200)
      expect(ok.body).toEqual({ admin: true })
      expect(issuer.requests.discovery).toBe(0)
      expect(issuer.requests.jwks).toBe(1)
      const refused = await call(`${server.url}/admin`)
      expect(refused.status).toBe(401)
      expect(refused.challenge().params).toEqual({ realm: 'orders-api' })
    })

    it('leaves unguarded controllers alone', async () => {
      expect((await call(`${server.url}/open`)).status).toBe(200)
    })
  })

  describe('forRootAsync with useClass and a prebuilt validator option', () => {
    it('builds the options from an options factory class', async () => {
      @Injectable()
      class OptionsFactory implements BearerGuardOptionsFactory {
        createBearerGuardOptions() {
          return { issuer: issuer.issuer, audience: AUDIENCE }
        }
      }
      const server = await startApp(platform, {
        imports: [BearerGuardModule.forRootAsync({ useClass: OptionsFactory })],
        controllers: [AdminController],
      })
      try {
        const reply = await call(`${server.url}/admin`, {
          token: await issuer.mint({ scope: 'admin' }),
        })
        expect(reply.status).toBe(200)
      } finally {
        await server.close()
      }
    })
  })

  describe('503 when the keys cannot be obtained', () => {
    let keyless: TestIssuer
    let server: RunningApp
    beforeAll(async () => {
      keyless = await createTestIssuer()
      keyless.fail('all', { kind: 'status', status: 500 })
      server = await startApp(platform, {
        imports: [
          BearerGuardModule.forRoot({ issuer: keyless.issuer, audience: AUDIENCE, retryAfter: 7 }),
        ],
        controllers: [ContractController],
        providers: [{ provide: APP_GUARD, useClass: BearerGuard }],
      })
    })
    afterAll(async () => {
      await server.close()
      await keyless.close()
    })

    it('answers 503 with Retry-After and accepts no token', async () => {
      const token = await keyless.mint({ scope: 'orders:read' })
      const reply = await call(`${server.url}/orders`, { token })
      expect(reply.status).toBe(503)
      expect(reply.headers.get('retry-after')).toBe('7')
      const { scheme, params } = reply.challenge()
      expect(scheme).toBe('Bearer')
      expect(params.realm).toBe(AUDIENCE)
      expect(params.error).toBeUndefined()
      expect(reply.body).toEqual({
        error: 'temporarily_unavailable',
        error_description: expect.any(String),
      })
    })
  })

  describe('exception filters', () => {
    const seen: unknown[] = []

    @Catch(HttpException)
    class CustomFilter implements ExceptionFilter {
      constructor(private readonly adapterHost: HttpAdapterHost) {}
      catch(exception: HttpException, host: ArgumentsHost): void {
        seen.push(exception)
        const { httpAdapter } = this.adapterHost
        httpAdapter.reply(
          host.switchToHttp().getResponse(),
          { custom: true, status: exception.getStatus() },
          exception.getStatus(),
        )
      }
    }

    let server: RunningApp
    beforeAll(async () => {
      server = await startApp(platform, {
        imports: [BearerGuardModule.forRoot({ issuer: issuer.issuer, audience: AUDIENCE })],
        controllers: [ContractController],
        providers: [
          { provide: APP_GUARD, useClass: BearerGuard },
          {
            provide: APP_FILTER,
            useFactory: (host: HttpAdapterHost) => new CustomFilter(host),
            inject: [HttpAdapterHost],
          },
        ],
      })
    })
    afterAll(() => server.close())

    it('see an HttpException with status 401, and WWW-Authenticate still reaches the client', async () => {
      seen.length = 0
      const reply = await call(`${server.url}/me`)
      expect(reply.status).toBe(401)
      expect(reply.body).toEqual({ custom: true, status: 401 })
      expect(reply.challenge().params).toEqual({ realm: AUDIENCE })
      expect(seen).toHaveLength(1)
      const [exception] = seen
      expect(exception).toBeInstanceOf(HttpException)
      expect(exception).toBeInstanceOf(BearerGuardException)
      const refusal = exception as BearerGuardException
      expect(refusal.getStatus()).toBe(401)
      expect(refusal.getResponse()).toEqual({ error_description: refusal.message })
      expect(refusal.refusal.code).toBe('ERR_MISSING_CREDENTIALS')
      expect(refusal.headers['WWW-Authenticate']).toBe(reply.headers.get('www-authenticate'))
    })
  })

  describe('start-up', () => {
    it.each([
      [
        'forRoot',
        () =>
          BearerGuardModule.forRoot({
            issuer: issuer.issuer,
            audience: AUDIENCE,
            clockTolerence: 60,
          } as never),
        "bearer-guard: BearerGuardModule has no option 'clockTolerence'; did you mean 'clockTolerance'?",
      ],
      [
        'forRootAsync',
        () =>
          BearerGuardModule.forRootAsync({
            useFactory: () => ({ issuer: issuer.issuer, audiance: AUDIENCE }) as never,
          }),
        "bearer-guard: BearerGuardModule has no option 'audiance'; did you mean 'audience'?",
      ],
      [
        'forRoot, next to a prebuilt validator',
        () =>
          BearerGuardModule.forRoot({
            validator: createAccessTokenValidator({ issuer: issuer.issuer, audience: AUDIENCE }),
            isGlobal: true,
          } as never),
        "bearer-guard: BearerGuardModule has no option 'isGlobal'",
      ],
    ])('refuses an unknown option from %s, naming the closest', async (_name, module, message) => {
      const error: unknown = await startApp(platform, {
        imports: [module()],
        controllers: [ContractController],
      }).then(
        async (server) => {
          await server.close()
          return undefined
        },
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(TypeError)
      expect((error as Error).message.startsWith(message)).toBe(true)
    })

    it('fails with a TypeError for invalid options, not per request', async () => {
      await expect(
        startApp(platform, {
          imports: [
            BearerGuardModule.forRoot({ issuer: 'http://auth.example.com', audience: AUDIENCE }),
          ],
          controllers: [ContractController],
        }),
      ).rejects.toThrow(TypeError)
    })
  })
})

describe('forRootAsync()', () => {
  it('refuses a key Nest does not know, naming the closest', () => {
    expect(() =>
      BearerGuardModule.forRootAsync({
        // @ts-expect-error -- misspelt `useFactory`
        useFactroy: () => ({ issuer: issuer.issuer, audience: AUDIENCE }),
      }),
    ).toThrow(
      new TypeError(
        "bearer-guard: BearerGuardModule.forRootAsync() has no option 'useFactroy'; did you mean 'useFactory'?",
      ),
    )
  })
})
