/**
 * Claims where providers put them (issue 10, §4): nested role claims, an audience named by another
 * claim (Cognito), required claim values, multi-tenant issuer templates with keys bound to their
 * issuer (Entra), async claim checks, and a JWKS max-age longer than the default.
 */
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  InsufficientScopeError,
  InvalidTokenError,
  authorize,
  createAccessTokenValidator,
  type AccessPolicy,
  type AccessTokenValidatorOptions,
} from '../src/index.js'
import { AUDIENCE, expectInvalid, manualClock, rejection } from './support/helpers.js'

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer()
})
afterAll(async () => {
  await issuer.close()
})

const make = (options: Partial<AccessTokenValidatorOptions> = {}) =>
  createAccessTokenValidator({ issuer: issuer.issuer, audience: AUDIENCE, ...options })

describe('scope and role claims at nested paths', () => {
  const keycloak = () =>
    make({
      scopeClaims: ['scope', ['realm_access', 'roles'], ['resource_access', 'orders-api', 'roles']],
    })

  it('reads realm and client roles as scopes, through own members only', async () => {
    const auth = await keycloak().verify(
      await issuer.mint({
        scope: 'profile',
        realm_access: { roles: ['admin'] },
        resource_access: { 'orders-api': { roles: ['orders:read'] }, other: { roles: ['x'] } },
      }),
    )
    expect([...auth.scopes].sort()).toEqual(['admin', 'orders:read', 'profile'])
    expect(() => {
      authorize(auth, { allOf: ['orders:read', 'admin'] })
    }).not.toThrow()
  })

  it('names where scopes were read in the 403 description', async () => {
    const auth = await keycloak().verify(await issuer.mint({ realm_access: { roles: [] } }))
    const error = await rejection(
      Promise.resolve().then(() => {
        authorize(auth, { allOf: ['admin'] })
      }),
    )
    expect(error).toBeInstanceOf(InsufficientScopeError)
    expect(error.message).toContain('realm_access.roles')
    expect(error.challenge).toContain('scope="admin"')
  })

  it('refuses a nested claim of the wrong type', async () => {
    await expectInvalid(
      keycloak().verify(await issuer.mint({ realm_access: { roles: 'admin,other' }, scope: 1 })),
      'ERR_TOKEN_CLAIM_INVALID',
    )
    await expectInvalid(
      keycloak().verify(await issuer.mint({ realm_access: { roles: [1] } })),
      'ERR_TOKEN_CLAIM_INVALID',
    )
  })
})

describe('an audience in another claim (Amazon Cognito), never no audience', () => {
  const cognito = () =>
    make({
      audience: { claim: 'client_id', values: ['app-client-1'] },
      requiredClaimValues: { token_use: 'access' },
    })

  it('accepts an access token: no aud, client_id allowed, token_use access', async () => {
    const token = await issuer.mint({
      aud: undefined,
      client_id: 'app-client-1',
      token_use: 'access',
    })
    expect(await cognito().verify(token)).toBeTruthy()
  })

  it('refuses the ID token the client-id-as-audience workaround would have accepted', async () => {
    const idToken = await issuer.mint({
      aud: 'app-client-1',
      client_id: undefined,
      token_use: 'id',
    })
    await expectInvalid(cognito().verify(idToken), 'ERR_TOKEN_AUDIENCE_INVALID')
    const sneaky = await issuer.mint({ client_id: 'app-client-1', token_use: 'id' })
    await expectInvalid(cognito().verify(sneaky), 'ERR_TOKEN_CLAIM_INVALID')
  })

  it('refuses another client and an audience rule that names aud or nothing', async () => {
    const other = await issuer.mint({ client_id: 'app-client-2', token_use: 'access' })
    await expectInvalid(cognito().verify(other), 'ERR_TOKEN_AUDIENCE_INVALID')
    expect(() => make({ audience: { claim: 'aud', values: ['x'] } })).toThrow(/other than aud/)
    expect(() => make({ audience: { claim: 'client_id', values: [] } })).toThrow(
      /must not be empty/,
    )
    expect(() => make({ audience: [] })).toThrow(/audience/)
  })
})

describe('multi-tenant issuer templates (Entra {tenantid})', () => {
  const T1 = '11111111-1111-1111-1111-111111111111'
  const T2 = '22222222-2222-2222-2222-222222222222'
  const template = () => `${issuer.url}/{tenantid}/v2.0`
  const tenantIss = (tid: string) => `${issuer.url}/${tid}/v2.0`
  // Microsoft's common key set names the issuer of each key, {tenantid} standing for any tenant.
  const keys = () => ({ keys: [{ ...issuer.activeKey.publicJwk, issuer: template() }] })

  it('accepts an allowed tenant whose tid agrees with its iss; refuses others', async () => {
    const validator = make({ issuer: { issuer: template(), tenants: [T1], keys: keys() } })
    expect(await validator.verify(await issuer.mint({ iss: tenantIss(T1), tid: T1 }))).toBeTruthy()
    await expectInvalid(
      validator.verify(await issuer.mint({ iss: tenantIss(T2), tid: T2 })),
      'ERR_TOKEN_ISSUER_INVALID',
    )
    await expectInvalid(
      validator.verify(await issuer.mint({ iss: tenantIss(T1), tid: T2 })),
      'ERR_TOKEN_ISSUER_INVALID',
    )
  })

  it("binds keys to their issuer: a key published for one tenant can't verify another's tokens", async () => {
    const bound = { keys: [{ ...issuer.activeKey.publicJwk, issuer: tenantIss(T1) }] }
    const validator = make({ issuer: { issuer: template(), tenants: 'any', keys: bound } })
    expect(await validator.verify(await issuer.mint({ iss: tenantIss(T1), tid: T1 }))).toBeTruthy()
    await expectInvalid(
      validator.verify(await issuer.mint({ iss: tenantIss(T2), tid: T2 })),
      'ERR_TOKEN_ISSUER_INVALID',
    )
  })

  it('needs tenants and a key source, at construction', () => {
    expect(() => make({ issuer: { issuer: template(), keys: keys() } })).toThrow(/needs "tenants"/)
    expect(() => make({ issuer: { issuer: template(), tenants: [T1] } })).toThrow(
      /cannot be discovered/,
    )
    expect(() => make({ issuer: { issuer: issuer.issuer, tenants: [T1] } })).toThrow(/{tenantid}/)
  })
})

describe('async claim checks in policies', () => {
  it('stay synchronous when synchronous, and refuse with 401 or 403 as the application says', async () => {
    const auth = await make().verify(await issuer.mint({ jti: 'revoked-1' }))
    const policy: AccessPolicy = { claims: () => true }
    // A synchronous check keeps authorize synchronous: no promise comes back.
    expect(authorize(auth, policy)).toBeUndefined()
    const revoked = new Set(['revoked-1'])
    const isRevoked = (jti: unknown) => Promise.resolve(revoked.has(jti as string))
    const notRevoked = {
      claims: async (claims: { jti?: string }) => !(await isRevoked(claims.jti)),
      refuse: 'invalid_token' as const,
      description: 'The access token was revoked',
    }
    const pending = authorize(auth, notRevoked)
    expect(pending).toBeInstanceOf(Promise)
    const error = await rejection(Promise.resolve(pending))
    expect(error).toBeInstanceOf(InvalidTokenError)
    expect(error.status).toBe(401)
    expect(error.message).toBe('The access token was revoked')
    const other = await make().verify(await issuer.mint({ jti: 'fine' }))
    await expect(authorize(other, notRevoked)).resolves.toBeUndefined()
    const denied = await rejection(
      Promise.resolve(authorize(other, { claims: () => Promise.resolve(false) })),
    )
    expect(denied.status).toBe(403)
  })
})

describe('a JWKS Cache-Control max-age longer than the default age is honoured, within keySetMaxAge', () => {
  it('does not refetch before the longer max-age, and refetches after it', async () => {
    const clock = manualClock()
    const own = await createTestIssuer({ clock: clock.now })
    try {
      // The test issuer answers `Cache-Control: max-age=300`.
      const validator = createAccessTokenValidator({
        issuer: own.issuer,
        audience: AUDIENCE,
        clock: clock.now,
        keySetDefaultAge: 60,
      })
      await validator.ready()
      own.resetCounts()
      clock.advance(200_000)
      expect(await validator.verify(await own.mint())).toBeTruthy()
      expect(own.requests.jwks).toBe(0)
      clock.advance(101_000)
      expect(await validator.verify(await own.mint())).toBeTruthy()
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(own.requests.jwks).toBe(1)
    } finally {
      await own.close()
    }
  })
})

describe('allowIdTokenClaims: an issuer whose access tokens are built as ID tokens (Dex)', () => {
  it('is accepted on its audience alone, for that issuer only', async () => {
    const dexLike = await issuer.mint({ at_hash: 'h', nonce: 'n', azp: 'web' })
    await expectInvalid(make().verify(dexLike), 'ERR_TOKEN_TYPE_INVALID')
    expect(await make({ allowIdTokenClaims: true }).verify(dexLike)).toBeTruthy()
    const perIssuer = make({ issuer: { issuer: issuer.issuer, allowIdTokenClaims: true } })
    expect(await perIssuer.verify(dexLike)).toBeTruthy()
    // The audience still decides.
    await expectInvalid(
      make({ allowIdTokenClaims: true }).verify(await issuer.mint({ at_hash: 'h', aud: 'web' })),
      'ERR_TOKEN_AUDIENCE_INVALID',
    )
  })
})
