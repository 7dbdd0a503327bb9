import {
  Auth,
  BearerGuardModule,
  BearerGuardReadiness,
  Public,
  RequireAnyScope,
  RequireClaims,
  RequirePolicy,
  RequireScopes,
  definePolicy,
  type AccessTokenValidator,
  type BearerGuardModuleOptions,
  type BearerGuardRequest,
  type VerifiedAccessToken,
} from '@bearer-guard/nestjs'
import type { CustomDecorator, DynamicModule } from '@nestjs/common'
import type { Request } from 'express'
import type { FastifyRequest } from 'fastify'
import { describe, expectTypeOf, it } from 'vitest'

// Checked by `tsc -p packages/nestjs/tsconfig.json`; vitest runs them as no-ops.
describe('types', () => {
  it('decorators fit methods and classes, @Auth() fits parameters', () => {
    expectTypeOf(RequireScopes('a', 'b')).toEqualTypeOf<CustomDecorator>()
    expectTypeOf(RequireAnyScope('a')).toExtend<MethodDecorator & ClassDecorator>()
    expectTypeOf(Public()).toExtend<MethodDecorator & ClassDecorator>()
    expectTypeOf(RequirePolicy(definePolicy({ allOf: ['a'] }))).toEqualTypeOf<CustomDecorator>()
    expectTypeOf(Auth()).toEqualTypeOf<ParameterDecorator>()
    expectTypeOf(RequireClaims).parameter(0).parameter(0).toHaveProperty('sub')
  })

  it('module options need issuer and audience, or a validator', () => {
    expectTypeOf(
      BearerGuardModule.forRoot({ issuer: 'i', audience: 'a' }),
    ).toEqualTypeOf<DynamicModule>()
    expectTypeOf<{ validator: AccessTokenValidator }>().toExtend<BearerGuardModuleOptions>()
    // An issuer (or a resolver) is needed; the audience may sit in each issuer's entry.
    expectTypeOf<{ audience: string }>().not.toExtend<BearerGuardModuleOptions>()
    expectTypeOf<{
      validator: AccessTokenValidator
      issuer: string
      audience: string
    }>().not.toExtend<BearerGuardModuleOptions>()
  })

  it('module options take metadata: false, or extra scopes', () => {
    expectTypeOf<{
      issuer: string
      resource: string
      metadata: false
    }>().toExtend<BearerGuardModuleOptions>()
    expectTypeOf<{
      validator: AccessTokenValidator
      metadata: { scopes: string[] }
    }>().toExtend<BearerGuardModuleOptions>()
    expectTypeOf<{
      issuer: string
      resource: string
      metadata: true
    }>().not.toExtend<BearerGuardModuleOptions>()
  })

  it('Express and Fastify requests fit BearerGuardRequest; auth is the verified token', () => {
    expectTypeOf<Request>().toExtend<BearerGuardRequest>()
    expectTypeOf<FastifyRequest>().toExtend<BearerGuardRequest>()
    expectTypeOf<BearerGuardRequest['auth']>().toEqualTypeOf<VerifiedAccessToken | undefined>()
  })

  it('BearerGuardReadiness.ready() is a promise of nothing', () => {
    expectTypeOf<BearerGuardReadiness['ready']>().returns.toEqualTypeOf<Promise<void>>()
  })
})
