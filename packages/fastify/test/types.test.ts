import type { AccessTokenValidator, VerifiedAccessToken } from '@bearer-guard/core'
import Fastify, {
  type FastifyContextConfig,
  type FastifyInstance,
  type FastifyPluginCallback,
} from 'fastify'
import { describe, expectTypeOf, it } from 'vitest'
import defaultExport, {
  bearerGuard,
  getAuth,
  type BearerGuardAdapterOptions,
  type BearerGuardDecorator,
  type BearerGuardOptions,
  type RouteAuth,
} from '../src/index.js'

// What a user does to type their own claims: merge them into core's AccessTokenClaims.
declare module '@bearer-guard/core' {
  interface AccessTokenClaims {
    tenant_id?: string
  }
}

// These are checked by `tsc` (the package's typecheck); at run time they only assert they compile.
describe('types', () => {
  it('types request.auth, with merged claims', () => {
    const app = Fastify()
    app.get('/', (request) => {
      expectTypeOf(request.auth).toEqualTypeOf<VerifiedAccessToken | null>()
      expectTypeOf(getAuth(request)).toEqualTypeOf<VerifiedAccessToken>()
      expectTypeOf(getAuth(request).claims.tenant_id).toEqualTypeOf<string | undefined>()
      expectTypeOf(getAuth(request).claims.sub).toEqualTypeOf<string | undefined>()
      expectTypeOf(getAuth(request).scopes).toEqualTypeOf<ReadonlySet<string>>()
      return {}
    })
  })

  it('types config.auth on route options', () => {
    const app = Fastify()
    app.get('/a', { config: { auth: false } }, () => ({}))
    app.get('/b', { config: { auth: true } }, () => ({}))
    app.get('/c', { config: { auth: { allOf: ['a'], anyOf: ['b', 'c'] } } }, () => ({}))
    app.get(
      '/d',
      { config: { auth: { claims: (claims) => claims.tenant_id === 'acme', description: 'x' } } },
      () => ({}),
    )
    // Fastify infers a route's config type from the literal, so check the declared type itself.
    expectTypeOf<'orders:read'>().not.toExtend<FastifyContextConfig['auth']>()
    expectTypeOf<{ allOf: string }>().not.toExtend<FastifyContextConfig['auth']>()
    expectTypeOf<{ allOf: string[] }>().toExtend<FastifyContextConfig['auth']>()
    expectTypeOf<'optional'>().toExtend<FastifyContextConfig['auth']>()
    expectTypeOf<{ acr: string[]; maxAge: number }>().toExtend<FastifyContextConfig['auth']>()
    expectTypeOf<{ acr: string }>().not.toExtend<FastifyContextConfig['auth']>()
    expectTypeOf<RouteAuth>().toEqualTypeOf<
      boolean | 'optional' | import('@bearer-guard/core').AccessPolicy
    >()
  })

  it('is a Fastify plugin taking validator options or a prebuilt validator, not both', () => {
    expectTypeOf(bearerGuard).toExtend<FastifyPluginCallback<BearerGuardOptions>>()
    expectTypeOf(defaultExport).toEqualTypeOf(bearerGuard)
    const app = Fastify()
    void app.register(bearerGuard, { issuer: 'https://a.example/', audience: 'api' })
    void app.register(bearerGuard, {
      issuer: 'https://a.example/',
      audience: ['api'],
      errors: 'throw',
      protect: 'none',
      hook: 'preHandler',
    })
    // @ts-expect-error -- 'next' is the Express adapter's mode
    void app.register(bearerGuard, {
      issuer: 'https://a.example/',
      audience: 'api',
      errors: 'next',
    })
    expectTypeOf<{ validator: AccessTokenValidator }>().toExtend<BearerGuardOptions>()
    expectTypeOf<{
      validator: AccessTokenValidator
      issuer: string
      audience: string
    }>().not.toExtend<BearerGuardOptions>()
    // An issuer (or a resolver) is needed; the audience may sit in each issuer's entry.
    expectTypeOf<{ audience: string }>().not.toExtend<BearerGuardOptions>()
  })

  it('takes the metadata option: false, or extra scopes', () => {
    expectTypeOf<{ metadata: false }>().toExtend<BearerGuardAdapterOptions>()
    expectTypeOf<{ metadata: { scopes: string[] } }>().toExtend<BearerGuardAdapterOptions>()
    expectTypeOf<{ metadata: true }>().not.toExtend<BearerGuardAdapterOptions>()
  })

  it('decorates the instance with bearerGuard.ready()', () => {
    expectTypeOf<FastifyInstance['bearerGuard']>().toEqualTypeOf<BearerGuardDecorator>()
    expectTypeOf<ReturnType<FastifyInstance['bearerGuard']['ready']>>().toEqualTypeOf<
      Promise<void>
    >()
  })
})
