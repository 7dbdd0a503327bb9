import type { AccessTokenValidator, VerifiedAccessToken } from '@bearer-guard/core'
import express, { type RequestHandler } from 'express'
import express4, { type RequestHandler as RequestHandler4 } from 'express4'
import { describe, expectTypeOf, it } from 'vitest'
import {
  bearerGuard,
  getAuth,
  requireAnyScope,
  requireClaims,
  requirePolicy,
  requireScopes,
  type BearerGuardHandler,
  type BearerGuardLogger,
  type BearerGuardMiddleware,
  type BearerGuardOptions,
} from '../src/index.js'

// What a user does to type their own claims: merge them into core's AccessTokenClaims.
declare module '@bearer-guard/core' {
  interface AccessTokenClaims {
    tenant_id?: string
  }
}

// These are checked by `tsc` (the package's typecheck); at run time they only assert they compile.
describe('types', () => {
  it('types req.auth on Express 5 requests, with merged claims', () => {
    const app = express()
    app.get('/', (req, res) => {
      expectTypeOf(req.auth).toEqualTypeOf<VerifiedAccessToken | undefined>()
      expectTypeOf(getAuth(req)).toEqualTypeOf<VerifiedAccessToken>()
      expectTypeOf(getAuth(req).claims.tenant_id).toEqualTypeOf<string | undefined>()
      expectTypeOf(getAuth(req).claims.sub).toEqualTypeOf<string | undefined>()
      expectTypeOf(getAuth(req).scopes).toEqualTypeOf<ReadonlySet<string>>()
      res.end()
    })
  })

  it('types req.auth on Express 4 requests', () => {
    const app = express4()
    app.get('/', (req, res) => {
      expectTypeOf(req.auth).toEqualTypeOf<VerifiedAccessToken | undefined>()
      expectTypeOf(req.auth?.claims.tenant_id).toEqualTypeOf<string | undefined>()
      res.end()
    })
  })

  it('returns middleware both Express majors accept', () => {
    const guard = bearerGuard({ issuer: 'https://auth.example.com/', audience: 'api' })
    expectTypeOf(guard).toExtend<RequestHandler>()
    expectTypeOf(guard).toExtend<RequestHandler4>()
    expectTypeOf(requireScopes('a')).toExtend<RequestHandler4>()
    express().use(guard, requireScopes('a'), requireAnyScope('b'))
    express4().use(guard, requireScopes('a'), requireAnyScope('b'))
    express4.Router().get('/', guard, requirePolicy({ allOf: ['a'] }))
  })

  it('serves the metadata with middleware both Express majors accept', () => {
    const guard = bearerGuard({ issuer: 'https://auth.example.com/', resource: 'https://api' })
    expectTypeOf(guard.metadata).toEqualTypeOf<BearerGuardMiddleware>()
    expectTypeOf(guard.metadata).toExtend<RequestHandler>()
    expectTypeOf(guard.metadata).toExtend<RequestHandler4>()
    expectTypeOf<{ scopes: string[] }>().toExtend<NonNullable<BearerGuardOptions['metadata']>>()
    expectTypeOf(
      requirePolicy({ acr: ['urn:example:mfa'], maxAge: 300 }),
    ).toExtend<RequestHandler>()
  })

  it('accepts validator options or a prebuilt validator, not both', () => {
    expectTypeOf<{ issuer: string; audience: string }>().toExtend<BearerGuardOptions>()
    expectTypeOf<{
      validator: AccessTokenValidator
      errors: 'next'
    }>().toExtend<BearerGuardOptions>()
    expectTypeOf<{
      validator: AccessTokenValidator
      issuer: string
      audience: string
    }>().not.toExtend<BearerGuardOptions>()
    expectTypeOf<{
      issuer: string
      audience: string
      errors: 'throw'
    }>().not.toExtend<BearerGuardOptions>()
  })

  it('returns a guard with ready(), and takes a logger or false', () => {
    const guard = bearerGuard({ issuer: 'https://a.example/', audience: 'api', logger: console })
    expectTypeOf(guard).toEqualTypeOf<BearerGuardHandler>()
    expectTypeOf<BearerGuardHandler['ready']>().returns.toEqualTypeOf<Promise<void>>()
    expectTypeOf<BearerGuardHandler['optional']>().toEqualTypeOf<BearerGuardMiddleware>()
    expectTypeOf(console).toExtend<BearerGuardLogger>()
    expectTypeOf<{
      issuer: string
      audience: string
      logger: false
    }>().toExtend<BearerGuardOptions>()
    expectTypeOf<{
      issuer: string
      audience: string
      logger: true
    }>().not.toExtend<BearerGuardOptions>()
    expectTypeOf<{ warn(message: string): void }>().toEqualTypeOf<BearerGuardLogger>()
  })

  it('types the claims predicate with the merged claims', () => {
    requireClaims((claims, auth) => {
      expectTypeOf(claims.tenant_id).toEqualTypeOf<string | undefined>()
      expectTypeOf(auth).toEqualTypeOf<VerifiedAccessToken>()
      return true
    })
  })
})
