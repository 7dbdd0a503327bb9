/**
 * entra() with v1.0 and v2.0 tokens in Microsoft Entra ID's real shapes. The v2.0 test key set
 * names each key's issuer as Microsoft's common v2.0 key set does (`…/{tenantid}/v2.0`); the v1.0
 * one names none, as Microsoft's v1.0 key sets.
 */
import { ENTRA_COMMON_ISSUER, createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import type { IssuerOptions } from '@bearer-guard/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { entra, type EntraOptions } from '../src/index.js'
import { expectInvalid, sorted, validatorOf, withKeysFrom } from './support/helpers.js'

const T1 = '11111111-1111-4111-8111-111111111111'
const T2 = '22222222-2222-4222-8222-222222222222'
const T3 = '33333333-3333-4333-8333-333333333333'
const API = 'ef1da9d4-ff77-4c3e-a005-840c3f830745'
const APP_ID_URI = `api://${API}`
const CLIENT = '6e74172b-be56-4843-9ff4-e66a39bb12e3'
const v2Issuer = (tid: string) => `https://login.microsoftonline.com/${tid}/v2.0`

let v1: TestIssuer
let v2: TestIssuer
beforeAll(async () => {
  ;[v1, v2] = await Promise.all([
    createTestIssuer({ issuer: 'https://sts.windows.net/{tenantid}/' }),
    createTestIssuer({ issuer: ENTRA_COMMON_ISSUER, jwkMembers: { issuer: ENTRA_COMMON_ISSUER } }),
  ])
})
afterAll(async () => {
  await Promise.all([v1.close(), v2.close()])
})

const isV1 = (entry: IssuerOptions) => entry.issuer.startsWith('https://sts.windows.net/')

/** The preset with its v1.0 and v2.0 key sets served by the two test issuers. */
function local(options: Partial<EntraOptions> = {}, keys = { v1: () => v1, v2: () => v2 }) {
  const entries = entra({ tenant: T1, audience: [API, APP_ID_URI], ...options })
  return validatorOf(
    withKeysFrom(entries, (entry) => (isV1(entry) ? keys.v1() : keys.v2()).jwksUri),
  )
}

const token = (
  server: TestIssuer,
  version: '1.0' | '2.0',
  tenantId = T1,
  more: Record<string, unknown> = {},
) => server.mintShaped('entra', 'accessToken', { version, tenantId, apiClientId: API, ...more })

describe('entra(): what it produces', () => {
  it('one tenant: v1.0 and v2.0 issuers with that tenant’s key sets, azp/appid required', () => {
    expect(entra({ tenant: T1, audience: API })).toEqual([
      {
        issuer: `https://sts.windows.net/${T1}/`,
        jwksUri: `https://login.microsoftonline.com/${T1}/discovery/keys`,
        audience: [API],
        scopeClaims: ['scp', 'roles'],
        requiredClaims: ['appid'],
      },
      {
        issuer: v2Issuer(T1),
        jwksUri: `https://login.microsoftonline.com/${T1}/discovery/v2.0/keys`,
        audience: [API],
        scopeClaims: ['scp', 'roles'],
        requiredClaims: ['azp'],
      },
    ])
  })

  it('multi-tenant: {tenantid} templates with the tenants, the common or organizations key sets', () => {
    expect(
      entra({
        tenant: 'organizations',
        tenants: [T1.toUpperCase()],
        audience: API,
        versions: ['v2', 'v1'],
        roles: false,
        clientIds: [CLIENT],
      }),
    ).toEqual([
      {
        issuer: 'https://sts.windows.net/{tenantid}/',
        jwksUri: 'https://login.microsoftonline.com/common/discovery/keys',
        audience: [API],
        scopeClaims: ['scp'],
        tenants: [T1],
        requiredClaimValues: { appid: [CLIENT] },
      },
      {
        issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0',
        jwksUri: 'https://login.microsoftonline.com/organizations/discovery/v2.0/keys',
        audience: [API],
        scopeClaims: ['scp'],
        tenants: [T1],
        requiredClaimValues: { azp: [CLIENT] },
      },
    ])
    expect(entra({ tenant: 'common', tenants: 'any', audience: API, versions: ['v2'] })).toEqual([
      expect.objectContaining({
        jwksUri: 'https://login.microsoftonline.com/common/discovery/v2.0/keys',
        tenants: 'any',
      }),
    ])
  })

  it('checks its options when called', () => {
    expect(() => entra({ tenant: 'contoso.onmicrosoft.com', audience: API })).toThrow(
      /"tenant" must be a tenant ID/,
    )
    expect(() => entra({ audience: API } as never)).toThrow(/"tenant" is required/)
    expect(() => entra({ tenant: 'organizations', audience: API })).toThrow(/"tenants" is required/)
    expect(() => entra({ tenant: T1, tenants: [T2], audience: API })).toThrow(
      /only for 'organizations' or 'common'/,
    )
    expect(() => entra({ tenant: 'common', tenants: ['contoso'], audience: API })).toThrow(
      /"tenants\[\]" must be a tenant ID/,
    )
    expect(() => entra({ tenant: T1, audience: API, versions: ['v3'] } as never)).toThrow(
      /'v1' and 'v2' only/,
    )
    expect(() => entra({ tenant: T1, audiences: API } as never)).toThrow(
      /did you mean 'audience'\?/,
    )
  })
})

describe('entra(): one tenant', () => {
  it('accepts v2.0 and v1.0 user tokens (scp) and app tokens (roles)', async () => {
    const validator = local()
    const v2User = await validator.verify(await token(v2, '2.0'))
    expect(sorted(v2User.scopes)).toEqual(['access_as_user'])
    // v1.0 tokens carry the App ID URI in aud by default; the API lists both identifiers.
    const v1User = await validator.verify(await token(v1, '1.0'))
    expect(v1User.claims.aud).toBe(APP_ID_URI)
    const v2App = await validator.verify(await token(v2, '2.0', T1, { app: true }))
    expect(sorted(v2App.scopes)).toEqual(['Orders.Read.All'])
    const v1App = await validator.verify(await token(v1, '1.0', T1, { app: true }))
    expect(sorted(v1App.scopes)).toEqual(['Orders.Read.All'])
  })

  it('leaves roles out of the scopes with roles: false, and accepts only the versions asked for', async () => {
    const app = await token(v2, '2.0', T1, { app: true })
    expect(sorted((await local({ roles: false }).verify(app)).scopes)).toEqual([])
    // Signed with a key of the v2.0 set, so that only its v1.0 iss is wrong.
    await expectInvalid(
      local({ versions: ['v2'] }).verify(await token(v2, '1.0')),
      'ERR_TOKEN_ISSUER_INVALID',
    )
  })

  it('refuses Entra ID tokens: by audience, by nonce, or by the missing azp/appid', async () => {
    const validator = local()
    for (const version of ['1.0', '2.0'] as const) {
      const server = version === '1.0' ? v1 : v2
      await expectInvalid(
        validator.verify(await server.mintShaped('entra', 'idToken', { version, tenantId: T1 })),
        'ERR_TOKEN_AUDIENCE_INVALID',
      )
      // An API registered as its own client gets ID tokens whose aud is the API's client ID.
      const aimed = await server.mintShaped('entra', 'idToken', {
        version,
        tenantId: T1,
        clientId: API,
      })
      await expectInvalid(validator.verify(aimed), 'ERR_TOKEN_TYPE_INVALID')
      const noNonce = await server.mintShaped('entra', 'idToken', {
        version,
        tenantId: T1,
        clientId: API,
        claims: { nonce: undefined },
      })
      const error = await expectInvalid(validator.verify(noNonce), 'ERR_TOKEN_CLAIM_INVALID')
      expect(error.message).toContain(version === '1.0' ? "'appid'" : "'azp'")
    }
  })

  it('refuses another tenant’s tokens, another API’s, and clients not allowed', async () => {
    const validator = local()
    await expectInvalid(validator.verify(await token(v2, '2.0', T2)), 'ERR_TOKEN_ISSUER_INVALID')
    await expectInvalid(validator.verify(await token(v1, '1.0', T2)), 'ERR_TOKEN_ISSUER_INVALID')
    await expectInvalid(
      validator.verify(await token(v2, '2.0', T1, { apiClientId: CLIENT })),
      'ERR_TOKEN_AUDIENCE_INVALID',
    )
    const allowOther = local({ clientIds: ['99999999-9999-4999-8999-999999999999'] })
    await expectInvalid(allowOther.verify(await token(v2, '2.0')), 'ERR_TOKEN_CLAIM_INVALID')
    await expectInvalid(allowOther.verify(await token(v1, '1.0')), 'ERR_TOKEN_CLAIM_INVALID')
    expect(await local({ clientIds: [CLIENT] }).verify(await token(v1, '1.0'))).toBeTruthy()
  })
})

describe('entra(): several tenants', () => {
  const multi = (tenants: readonly string[] | 'any') => local({ tenant: 'organizations', tenants })

  it('accepts the allowed tenants in v1.0 and v2.0, and refuses the others', async () => {
    const validator = multi([T1, T2])
    for (const tid of [T1, T2]) {
      expect((await validator.verify(await token(v2, '2.0', tid))).claims.tid).toBe(tid)
      expect((await validator.verify(await token(v1, '1.0', tid))).claims.tid).toBe(tid)
    }
    await expectInvalid(validator.verify(await token(v2, '2.0', T3)), 'ERR_TOKEN_ISSUER_INVALID')
    await expectInvalid(validator.verify(await token(v1, '1.0', T3)), 'ERR_TOKEN_ISSUER_INVALID')
    expect(await multi('any').verify(await token(v2, '2.0', T3))).toBeTruthy()
  })

  it('refuses a token whose tid is not the tenant of its iss', async () => {
    const forged = await token(v2, '2.0', T1, { claims: { tid: T2 } })
    await expectInvalid(multi([T1, T2]).verify(forged), 'ERR_TOKEN_ISSUER_INVALID')
  })

  it('binds keys to their issuer: a key published for tenant A cannot verify tenant B’s token', async () => {
    const boundToT1 = await createTestIssuer({
      issuer: ENTRA_COMMON_ISSUER,
      jwkMembers: { issuer: v2Issuer(T1) },
    })
    try {
      const validator = local(
        { tenant: 'organizations', tenants: [T1, T2], versions: ['v2'] },
        { v1: () => v1, v2: () => boundToT1 },
      )
      expect(await validator.verify(await token(boundToT1, '2.0', T1))).toBeTruthy()
      const error = await expectInvalid(
        validator.verify(await token(boundToT1, '2.0', T2)),
        'ERR_TOKEN_ISSUER_INVALID',
      )
      expect(error.message).toContain('key of another issuer')
    } finally {
      await boundToT1.close()
    }
  })

  it('needs the v1.0 key set for v1.0 tokens: a v2.0 key names a v2.0 issuer, which a v1.0 token is not', async () => {
    // Why each version has its own jwksUri: Microsoft's v2.0 keys carry `…/{tenantid}/v2.0`, and
    // core binds them to it (Microsoft's validator special-cases this; a preset need not).
    const crossed = local({}, { v1: () => v2, v2: () => v2 })
    await expectInvalid(crossed.verify(await token(v2, '1.0')), 'ERR_TOKEN_ISSUER_INVALID')
    expect(await crossed.verify(await token(v2, '2.0'))).toBeTruthy()
  })
})
