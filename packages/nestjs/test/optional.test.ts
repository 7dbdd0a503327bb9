/**
 * Optional authentication: `@OptionalAuth()` lets anonymous callers through while a token, if
 * sent, must still be valid (CONTRACT.md `GET /catalog`).
 */
import {
  Auth,
  BearerGuard,
  BearerGuardModule,
  OptionalAuth,
  Public,
  RequireScopes,
  type BearerGuardRequest,
  type VerifiedAccessToken,
} from '@bearer-guard/nestjs'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { Controller, Get, Options, HttpCode, Req, UseGuards } from '@nestjs/common'
import { APP_GUARD } from '@nestjs/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearerChallenge } from '../../../test/support/www-authenticate.js'
import { PLATFORMS, call, startApp, type Reply, type RunningApp } from './support.js'

const AUDIENCE = 'https://api.example.com'
const ORIGIN = 'https://app.example.com'

/** Routes under a global guard (APP_GUARD), each with `@OptionalAuth()` on the method. */
@Controller()
class CatalogController {
  @OptionalAuth()
  @Get('catalog')
  catalog(@Auth() auth: VerifiedAccessToken | undefined, @Req() request: BearerGuardRequest) {
    return { sub: auth?.claims.sub ?? null, same: auth === request.auth }
  }

  @OptionalAuth()
  @Options('catalog')
  @HttpCode(204)
  preflight() {
    return undefined
  }

  // A scope decorator on an optional route: it applies to a token that is sent.
  @OptionalAuth()
  @RequireScopes('offers:read')
  @Get('offers')
  offers(@Auth() auth: VerifiedAccessToken | undefined) {
    return { sub: auth?.claims.sub ?? null }
  }

  @Get('me')
  me(@Auth() auth: VerifiedAccessToken) {
    return { sub: auth.claims.sub }
  }

  // `@Auth()` on a public route is still a misconfiguration (a 500), not an anonymous pass.
  @Public()
  @Get('public-auth')
  publicAuth(@Auth() auth: VerifiedAccessToken | undefined) {
    return { sub: auth?.claims.sub ?? null }
  }
}

/** `@OptionalAuth()` on a class, under `@UseGuards(BearerGuard)`; one method overrides it. */
@Controller('shop')
@UseGuards(BearerGuard)
@OptionalAuth()
class ShopController {
  @Get()
  index(@Auth() auth: VerifiedAccessToken | undefined) {
    return { sub: auth?.claims.sub ?? null }
  }
}

/** `@OptionalAuth()` without any BearerGuard: `@Auth()` still refuses to hand out nothing. */
@Controller('unguarded')
class UnguardedController {
  @OptionalAuth()
  @Get()
  index(@Auth() auth: VerifiedAccessToken | undefined) {
    return { sub: auth?.claims.sub ?? null }
  }
}

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer()
})
afterAll(async () => {
  await issuer.close()
})

/** A refusal's status, Bearer challenge parameters and body. */
function refusal(reply: Reply) {
  return {
    status: reply.status,
    params: bearerChallenge(reply.headers.get('www-authenticate')).params,
    body: reply.body,
  }
}

describe.each(PLATFORMS)('on platform-%s: @OptionalAuth()', (platform) => {
  let server: RunningApp
  beforeAll(async () => {
    server = await startApp(platform, {
      imports: [BearerGuardModule.forRoot({ issuer: issuer.issuer, audience: AUDIENCE })],
      controllers: [CatalogController, ShopController],
      providers: [{ provide: APP_GUARD, useClass: BearerGuard }],
    })
  })
  afterAll(() => server.close())

  it.each([
    ['no Authorization header', undefined],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
  ])(
    'lets an anonymous caller through (%s): @Auth() is undefined',
    async (_what, authorization) => {
      const reply = await call(`${server.url}/catalog`, { authorization })
      expect(reply.status).toBe(200)
      expect(reply.body).toEqual({ sub: null, same: true })
      expect(reply.headers.get('www-authenticate')).toBeNull()
    },
  )

  it('sets @Auth() and request.auth for a valid token', async () => {
    const reply = await call(`${server.url}/catalog`, { token: await issuer.mint() })
    expect(reply.status).toBe(200)
    expect(reply.body).toEqual({ sub: 'user-123', same: true })
  })

  it('refuses a bad token with 401 invalid_token', async () => {
    const forged = await issuer.mint({}, { key: await issuer.generateKey() })
    const expired = await issuer.mint({ iat: 1_000, exp: 2_000 })
    for (const token of ['not-a-jwt', forged, expired]) {
      const { status, params, body } = refusal(await call(`${server.url}/catalog`, { token }))
      expect(status).toBe(401)
      expect(params).toMatchObject({ realm: AUDIENCE, error: 'invalid_token' })
      expect(body).toEqual({ error: 'invalid_token', error_description: expect.any(String) })
    }
  })

  it('refuses a malformed Authorization header with 400 invalid_request', async () => {
    for (const authorization of ['Bearer', 'Bearer a b', 'Bearer ab@c']) {
      const { status, params } = refusal(await call(`${server.url}/catalog`, { authorization }))
      expect(status, authorization).toBe(400)
      expect(params).toMatchObject({ realm: AUDIENCE, error: 'invalid_request' })
    }
  })

  it('lets a CORS preflight through to the OPTIONS route', async () => {
    const response = await fetch(`${server.url}/catalog`, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'GET' },
    })
    expect(response.status).toBe(204)
    expect(response.headers.get('www-authenticate')).toBeNull()
  })

  describe('with a scope decorator on the route', () => {
    it('answers an anonymous caller 401 without an error attribute: the route needs scopes (RFC 6750 §3.1)', async () => {
      const { status, params } = refusal(await call(`${server.url}/offers`))
      expect(status).toBe(401)
      expect(params.error).toBeUndefined()
    })

    it('applies it to a token that is sent: 403 without the scope, 200 with it', async () => {
      const lacking = await call(`${server.url}/offers`, { token: await issuer.mint() })
      const { status, params } = refusal(lacking)
      expect(status).toBe(403)
      expect(params).toMatchObject({ error: 'insufficient_scope', scope: 'offers:read' })
      const granted = await call(`${server.url}/offers`, {
        token: await issuer.mint({ scope: 'offers:read' }),
      })
      expect(granted).toMatchObject({ status: 200, body: { sub: 'user-123' } })
    })
  })

  it('applies on a class, under @UseGuards(BearerGuard)', async () => {
    expect(await call(`${server.url}/shop`)).toMatchObject({ status: 200, body: { sub: null } })
    const withToken = await call(`${server.url}/shop`, { token: await issuer.mint() })
    expect(withToken).toMatchObject({ status: 200, body: { sub: 'user-123' } })
    expect((await call(`${server.url}/shop`, { token: 'not-a-jwt' })).status).toBe(401)
  })

  it('leaves routes without it guarded', async () => {
    expect(refusal(await call(`${server.url}/me`)).status).toBe(401)
  })

  it('does not make @Auth() hand out undefined on a @Public() route (a 500)', async () => {
    expect((await call(`${server.url}/public-auth`)).status).toBe(500)
  })
})

describe.each(PLATFORMS)('on platform-%s: @OptionalAuth() without a guard', (platform) => {
  let server: RunningApp
  beforeAll(async () => {
    server = await startApp(platform, {
      imports: [BearerGuardModule.forRoot({ issuer: issuer.issuer, audience: AUDIENCE })],
      controllers: [UnguardedController, ShopController],
    })
  })
  afterAll(() => server.close())

  it('is no verification: @Auth() refuses to hand out undefined (a 500)', async () => {
    expect((await call(`${server.url}/unguarded`)).status).toBe(500)
    expect((await call(`${server.url}/unguarded`, { token: await issuer.mint() })).status).toBe(500)
  })

  it('works under @UseGuards(BearerGuard) without a global guard', async () => {
    expect(await call(`${server.url}/shop`)).toMatchObject({ status: 200, body: { sub: null } })
  })
})
