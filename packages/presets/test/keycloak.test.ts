/** keycloak() with tokens in Keycloak's real shapes. */
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { keycloak, type KeycloakOptions } from '../src/index.js'
import { expectInvalid, sorted, validatorOf, withKeysFrom } from './support/helpers.js'

const URL_ = 'https://keycloak.example.com'
const ISSUER = `${URL_}/realms/example`
const API = 'orders-api'

let server: TestIssuer
beforeAll(async () => {
  server = await createTestIssuer({ issuer: ISSUER })
})
afterAll(async () => {
  await server.close()
})

const local = (options: Partial<KeycloakOptions> = {}) =>
  validatorOf(
    withKeysFrom(
      keycloak({ url: URL_, realm: 'example', audience: API, ...options }),
      server.jwksUri,
    ),
  )

/** An access token as Keycloak issues it once an Audience mapper adds the API. */
const access = (more: Record<string, unknown> = {}) =>
  server.mintShaped('keycloak', 'accessToken', {
    audience: [API, 'account'],
    clientRoles: { [API]: ['orders:read'], account: ['manage-account'] },
    ...more,
  })

describe('keycloak()', () => {
  it('is data: the realm issuer, its certs, scope and realm and client roles, typ Bearer', () => {
    expect(keycloak({ url: `${URL_}/`, realm: 'example', audience: API })).toEqual([
      {
        issuer: ISSUER,
        jwksUri: `${ISSUER}/protocol/openid-connect/certs`,
        audience: API,
        scopeClaims: ['scope', ['realm_access', 'roles'], ['resource_access', API, 'roles']],
        requiredClaimValues: { typ: 'Bearer' },
      },
    ])
  })

  it('accepts user and service-account tokens, with scope, realm roles and the API’s client roles', async () => {
    const user = await local().verify(await access())
    expect(sorted(user.scopes)).toEqual([
      'default-roles-example',
      'email',
      'offline_access',
      'openid',
      'orders:read',
      'profile',
      'uma_authorization',
    ])
    const machine = await local().verify(
      await access({ grant: 'client-credentials', realmRoles: [], scope: 'profile' }),
    )
    expect(sorted(machine.scopes)).toEqual(['orders:read', 'profile'])
    const other = await local({ clientRoles: 'account' }).verify(await access({ realmRoles: [] }))
    expect(sorted(other.scopes)).toEqual(['email', 'manage-account', 'openid', 'profile'])
  })

  it('refuses a token without the API in aud (no Audience mapper): the default aud is account', async () => {
    await expectInvalid(
      local().verify(await server.mintShaped('keycloak', 'accessToken')),
      'ERR_TOKEN_AUDIENCE_INVALID',
    )
  })

  it('refuses Keycloak ID tokens (audience, then typ ID / at_hash) and refresh-typed tokens', async () => {
    await expectInvalid(
      local().verify(await server.mintShaped('keycloak', 'idToken')),
      'ERR_TOKEN_AUDIENCE_INVALID',
    )
    const aimed = await server.mintShaped('keycloak', 'idToken', { clientId: API })
    await expectInvalid(local().verify(aimed), 'ERR_TOKEN_TYPE_INVALID')
    const refresh = await access({ claims: { typ: 'Refresh' } })
    const error = await expectInvalid(local().verify(refresh), 'ERR_TOKEN_CLAIM_INVALID')
    expect(error.message).toContain("'typ'")
  })

  it('refuses another realm’s tokens', async () => {
    await expectInvalid(
      local().verify(await access({ realm: 'other' })),
      'ERR_TOKEN_ISSUER_INVALID',
    )
  })

  it('checks its options when called', () => {
    expect(() => keycloak({ url: URL_, realm: 'realms/example', audience: API })).toThrow(
      /"realm" must be a realm name/,
    )
    expect(() => keycloak({ url: 'keycloak.example.com', realm: 'x', audience: API })).toThrow(
      /"url" must be an absolute URL/,
    )
    expect(() => keycloak({ url: URL_, realm: 'x', audience: [API] } as never)).toThrow(
      /"audience" must be a non-empty string/,
    )
    expect(() =>
      keycloak({ url: URL_, realm: 'x', audience: API, clientRole: API } as never),
    ).toThrow(/did you mean 'clientRoles'\?/)
  })
})
