/** cognito() with tokens in Amazon Cognito's real shapes (access tokens have no aud). */
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cognito } from '../src/index.js'
import { expectInvalid, sorted, validatorOf, withKeysFrom } from './support/helpers.js'

const POOL = 'eu-west-1_AbCdEfGhI'
const ISSUER = `https://cognito-idp.eu-west-1.amazonaws.com/${POOL}`
const CLIENT = '4qf2kc9bm7r1tj5h8vnl3xw6pd'

let server: TestIssuer
beforeAll(async () => {
  server = await createTestIssuer({ issuer: ISSUER })
})
afterAll(async () => {
  await server.close()
})

const local = () =>
  validatorOf(withKeysFrom(cognito({ userPoolId: POOL, clientIds: [CLIENT] }), server.jwksUri))

describe('cognito()', () => {
  it('is data: the pool issuer, its jwks.json, client_id as audience, token_use access', () => {
    expect(cognito({ region: 'eu-west-1', userPoolId: POOL, clientIds: CLIENT })).toEqual([
      {
        issuer: ISSUER,
        jwksUri: `${ISSUER}/.well-known/jwks.json`,
        audience: { claim: 'client_id', values: [CLIENT] },
        requiredClaimValues: { token_use: 'access' },
        scopeClaims: ['scope', 'cognito:groups'],
      },
    ])
  })

  it('accepts user and client-credentials access tokens, with scopes and groups', async () => {
    const user = await local().verify(
      await server.mintShaped('cognito', 'accessToken', { userPoolId: POOL, clientId: CLIENT }),
    )
    expect(sorted(user.scopes)).toEqual(['email', 'openid', 'orders-admins'])
    const machine = await local().verify(
      await server.mintShaped('cognito', 'accessToken', {
        userPoolId: POOL,
        clientId: CLIENT,
        grant: 'client-credentials',
      }),
    )
    expect(sorted(machine.scopes)).toEqual(['orders-api/read'])
  })

  it('refuses Cognito ID tokens: no client_id, and at_hash if one is added', async () => {
    await expectInvalid(
      local().verify(
        await server.mintShaped('cognito', 'idToken', { userPoolId: POOL, clientId: CLIENT }),
      ),
      'ERR_TOKEN_AUDIENCE_INVALID',
    )
    const withClient = await server.mintShaped('cognito', 'idToken', {
      userPoolId: POOL,
      clientId: CLIENT,
      claims: { client_id: CLIENT },
    })
    await expectInvalid(local().verify(withClient), 'ERR_TOKEN_TYPE_INVALID')
    const idUse = await server.mintShaped('cognito', 'accessToken', {
      userPoolId: POOL,
      clientId: CLIENT,
      claims: { token_use: 'id' },
    })
    await expectInvalid(local().verify(idUse), 'ERR_TOKEN_CLAIM_INVALID')
  })

  it('refuses another app client and another user pool', async () => {
    await expectInvalid(
      local().verify(
        await server.mintShaped('cognito', 'accessToken', { userPoolId: POOL, clientId: 'other' }),
      ),
      'ERR_TOKEN_AUDIENCE_INVALID',
    )
    await expectInvalid(
      local().verify(
        await server.mintShaped('cognito', 'accessToken', {
          userPoolId: 'eu-west-1_Other',
          clientId: CLIENT,
        }),
      ),
      'ERR_TOKEN_ISSUER_INVALID',
    )
  })

  it('checks its options when called', () => {
    expect(() => cognito({ userPoolId: 'AbCdEfGhI', clientIds: [CLIENT] })).toThrow(
      /"userPoolId" must be a user pool ID/,
    )
    expect(() => cognito({ region: 'us-east-1', userPoolId: POOL, clientIds: [CLIENT] })).toThrow(
      /is in eu-west-1/,
    )
    expect(() => cognito({ userPoolId: POOL } as never)).toThrow(/"clientIds" is required/)
    expect(() =>
      cognito({ userPoolId: POOL, clientIds: [CLIENT], clientId: CLIENT } as never),
    ).toThrow(/did you mean 'clientIds'\?/)
  })
})
