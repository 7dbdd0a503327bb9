/**
 * auth0() with tokens in Auth0's real shapes, served by test issuers that claim Auth0's issuer
 * identifiers (canonical and custom domain) and publish their keys on 127.0.0.1.
 */
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auth0 } from '../src/index.js'
import { expectInvalid, sorted, validatorOf, withKeysFrom } from './support/helpers.js'

const DOMAIN = 'example-tenant.us.auth0.com'
const CUSTOM = 'login.example.com'
const API = 'https://api.example.com'

let canonical: TestIssuer
let custom: TestIssuer
beforeAll(async () => {
  ;[canonical, custom] = await Promise.all([
    createTestIssuer({ issuer: `https://${DOMAIN}/` }),
    createTestIssuer({ issuer: `https://${CUSTOM}/` }),
  ])
})
afterAll(async () => {
  await Promise.all([canonical.close(), custom.close()])
})

/** The preset, with each domain's keys served by its test issuer. */
const local = (options: Partial<Parameters<typeof auth0>[0]> = {}) =>
  validatorOf(
    withKeysFrom(auth0({ domain: DOMAIN, customDomain: CUSTOM, audience: API, ...options }), (e) =>
      e.issuer === `https://${CUSTOM}/` ? custom.jwksUri : canonical.jwksUri,
    ),
  )

describe('auth0()', () => {
  it('is data: both domains, with trailing slashes, each with its own key set', () => {
    expect(auth0({ domain: DOMAIN, customDomain: CUSTOM, audience: API })).toEqual([
      {
        issuer: 'https://example-tenant.us.auth0.com/',
        jwksUri: 'https://example-tenant.us.auth0.com/.well-known/jwks.json',
        audience: [API],
        scopeClaims: ['scope'],
      },
      {
        issuer: 'https://login.example.com/',
        jwksUri: 'https://login.example.com/.well-known/jwks.json',
        audience: [API],
        scopeClaims: ['scope'],
      },
    ])
    expect(auth0({ domain: DOMAIN, audience: API, permissions: true })).toEqual([
      expect.objectContaining({ scopeClaims: ['scope', 'permissions'] }),
    ])
  })

  it('accepts user and machine-to-machine access tokens of either domain, with their scopes', async () => {
    const validator = local()
    const user = await validator.verify(
      await canonical.mintShaped('auth0', 'accessToken', { domain: DOMAIN, audience: API }),
    )
    // `aud` is [API, https://<domain>/userinfo] when `openid` was asked for.
    expect(sorted(user.scopes)).toEqual(['email', 'openid', 'profile', 'read:orders'])
    const machine = await validator.verify(
      await canonical.mintShaped('auth0', 'accessToken', {
        domain: DOMAIN,
        audience: API,
        grant: 'client-credentials',
        scope: 'read:orders write:orders',
      }),
    )
    expect(machine.claims.sub).toMatch(/@clients$/)
    expect(sorted(machine.scopes)).toEqual(['read:orders', 'write:orders'])
    const viaCustom = await validator.verify(
      await custom.mintShaped('auth0', 'accessToken', { domain: CUSTOM, audience: API }),
    )
    expect(viaCustom.claims.iss).toBe('https://login.example.com/')
    const rfc9068 = await validator.verify(
      await canonical.mintShaped('auth0', 'accessToken', {
        domain: DOMAIN,
        audience: API,
        profile: 'rfc9068',
      }),
    )
    expect(rfc9068.header.typ).toBe('at+jwt')
  })

  it('reads RBAC permissions only with permissions: true', async () => {
    const token = await canonical.mintShaped('auth0', 'accessToken', {
      domain: DOMAIN,
      audience: API,
      scope: 'openid',
      permissions: ['read:orders', 'delete:orders'],
    })
    expect(sorted((await local().verify(token)).scopes)).toEqual(['openid'])
    expect(sorted((await local({ permissions: true }).verify(token)).scopes)).toEqual([
      'delete:orders',
      'openid',
      'read:orders',
    ])
  })

  it('refuses Auth0 ID tokens: by audience (the client ID), and by nonce when aud names the API', async () => {
    const validator = local()
    await expectInvalid(
      validator.verify(await canonical.mintShaped('auth0', 'idToken', { domain: DOMAIN })),
      'ERR_TOKEN_AUDIENCE_INVALID',
    )
    const aimed = await canonical.mintShaped('auth0', 'idToken', {
      domain: DOMAIN,
      claims: { aud: API },
    })
    const error = await expectInvalid(validator.verify(aimed), 'ERR_TOKEN_TYPE_INVALID')
    expect(error.message).toContain("'nonce'")
  })

  it('refuses another API’s token, another tenant’s, and a token signed by the other domain’s keys', async () => {
    const validator = local()
    await expectInvalid(
      validator.verify(
        await canonical.mintShaped('auth0', 'accessToken', {
          domain: DOMAIN,
          audience: 'https://other-api.example.com',
        }),
      ),
      'ERR_TOKEN_AUDIENCE_INVALID',
    )
    await expectInvalid(
      validator.verify(
        await canonical.mintShaped('auth0', 'accessToken', {
          domain: 'other-tenant.eu.auth0.com',
          audience: API,
        }),
      ),
      'ERR_TOKEN_ISSUER_INVALID',
    )
    // The custom domain's iss, signed with the canonical test issuer's key: each issuer entry has
    // only its own key set.
    const crossed = await canonical.mintShaped('auth0', 'accessToken', {
      domain: CUSTOM,
      audience: API,
    })
    await expectInvalid(validator.verify(crossed), 'ERR_TOKEN_KEY_NOT_FOUND')
  })

  it('checks its options when called', () => {
    expect(() => auth0({ domain: `https://${DOMAIN}/`, audience: API })).toThrow(
      /"domain" must be a host name/,
    )
    expect(() => auth0({ domain: DOMAIN } as never)).toThrow(/"audience" is required/)
    expect(() => auth0({ domain: DOMAIN, audience: API, permissions: 'yes' } as never)).toThrow(
      /"permissions" must be true or false/,
    )
    expect(() => auth0({ domian: DOMAIN, audience: API } as never)).toThrow(
      /auth0\(\) has no option 'domian'; did you mean 'domain'\?/,
    )
  })
})
