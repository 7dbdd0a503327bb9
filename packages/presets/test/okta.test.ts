/** okta() with tokens in the shape of an Okta custom authorization server. */
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { okta } from '../src/index.js'
import { expectInvalid, sorted, validatorOf, withKeysFrom } from './support/helpers.js'

const ISSUER = 'https://example.okta.com/oauth2/default'
const CLIENT = '0oa8f5j3ecb5w3dF35d7'

let server: TestIssuer
beforeAll(async () => {
  server = await createTestIssuer({ issuer: ISSUER })
})
afterAll(async () => {
  await server.close()
})

const local = (options: Partial<Parameters<typeof okta>[0]> = {}) =>
  validatorOf(withKeysFrom(okta({ issuer: ISSUER, ...options }), server.jwksUri))

describe('okta()', () => {
  it('is data: the custom authorization server, its /v1/keys, api://default and scp', () => {
    expect(okta({ issuer: ISSUER })).toEqual([
      {
        issuer: ISSUER,
        jwksUri: 'https://example.okta.com/oauth2/default/v1/keys',
        audience: ['api://default'],
        scopeClaims: ['scp'],
      },
    ])
    expect(
      okta({ issuer: `${ISSUER}/`, audience: 'api://orders', clientIds: [CLIENT] })[0],
    ).toMatchObject({
      issuer: ISSUER,
      audience: ['api://orders'],
      requiredClaimValues: { cid: [CLIENT] },
    })
  })

  it('accepts user and client-credentials access tokens, with scopes from scp', async () => {
    const user = await local().verify(await server.mintShaped('okta', 'accessToken'))
    expect(sorted(user.scopes)).toEqual(['openid', 'orders:read'])
    const machine = await local({ clientIds: [CLIENT] }).verify(
      await server.mintShaped('okta', 'accessToken', {
        grant: 'client-credentials',
        scopes: ['orders:read', 'orders:write'],
      }),
    )
    expect(sorted(machine.scopes)).toEqual(['orders:read', 'orders:write'])
  })

  it('refuses Okta ID tokens: by audience (the client ID), and by at_hash when aud is the API’s', async () => {
    await expectInvalid(
      local().verify(await server.mintShaped('okta', 'idToken')),
      'ERR_TOKEN_AUDIENCE_INVALID',
    )
    const aimed = await server.mintShaped('okta', 'idToken', { claims: { aud: 'api://default' } })
    await expectInvalid(local().verify(aimed), 'ERR_TOKEN_TYPE_INVALID')
  })

  it('refuses another audience, another client, and another authorization server', async () => {
    await expectInvalid(
      local().verify(await server.mintShaped('okta', 'accessToken', { audience: 'api://other' })),
      'ERR_TOKEN_AUDIENCE_INVALID',
    )
    await expectInvalid(
      local({ clientIds: ['0oaSomeOtherClient'] }).verify(
        await server.mintShaped('okta', 'accessToken'),
      ),
      'ERR_TOKEN_CLAIM_INVALID',
    )
    await expectInvalid(
      local().verify(
        await server.mintShaped('okta', 'accessToken', { authorizationServerId: 'aus1other' }),
      ),
      'ERR_TOKEN_ISSUER_INVALID',
    )
  })

  it('refuses the org authorization server and malformed options when called', () => {
    expect(() => okta({ issuer: 'https://example.okta.com' })).toThrow(
      /custom authorization server/,
    )
    expect(() => okta({ issuer: 'http://example.okta.com/oauth2/default' })).toThrow(/https/)
    expect(() => okta({ issuer: ISSUER, clientIds: [] })).toThrow(/"clientIds" must be/)
    expect(() => okta({ issuer: ISSUER, clientId: CLIENT } as never)).toThrow(
      /did you mean 'clientIds'\?/,
    )
  })
})
