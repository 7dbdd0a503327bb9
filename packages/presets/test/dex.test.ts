/**
 * Dex builds its access tokens with the code that builds its ID tokens (server/oauth2.go,
 * newAccessToken calls newIDToken), so every access token carries `at_hash`: the preset accepts
 * ID-token claims for Dex, and the audience alone separates a token for the API (cross-client
 * `audience:server:client_id:<api>`) from a client's ID token.
 */
import { createTestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dex } from '../src/index.js'
import { expectInvalid, sorted, validatorOf, withKeysFrom } from './support/helpers.js'

const ISSUER = 'https://dex.example.com'

describe('dex()', () => {
  let server: Awaited<ReturnType<typeof createTestIssuer>>
  beforeAll(async () => {
    server = await createTestIssuer({ issuer: ISSUER })
  })
  afterAll(async () => {
    await server.close()
  })
  const validator = () =>
    validatorOf(withKeysFrom(dex({ issuer: ISSUER, audience: 'orders-api' }), server.jwksUri))

  it('points at Dex’s own key set and accepts ID-token claims for it only', () => {
    const [entry] = dex({ issuer: `${ISSUER}/`, audience: 'orders-api' })
    expect(entry).toMatchObject({
      issuer: ISSUER,
      jwksUri: `${ISSUER}/keys`,
      allowIdTokenClaims: true,
    })
  })

  it('accepts an access token issued for the API (cross-client audience), groups as scopes', async () => {
    const token = await server.mintShaped('dex', 'accessToken', {
      peers: ['orders-api'],
      claims: { groups: ['orders:read'] },
    })
    const auth = await validator().verify(token)
    expect(sorted(auth.scopes)).toEqual(['orders:read'])
  })

  it("refuses a client's own ID token (its aud is the client, not the API)", async () => {
    const idToken = await server.mintShaped('dex', 'idToken', { claims: { nonce: 'n' } })
    await expectInvalid(validator().verify(idToken), 'ERR_TOKEN_AUDIENCE_INVALID')
  })

  it('refuses unknown options and a missing audience', () => {
    expect(() => dex({ issuer: ISSUER, audiance: 'x' } as never)).toThrow(/did you mean 'audience'/)
    expect(() => dex({ issuer: ISSUER } as never)).toThrow(/audience/)
  })
})
