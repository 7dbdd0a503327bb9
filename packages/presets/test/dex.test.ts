/**
 * Why there is no dex() preset: Dex builds its access tokens with the code that builds its ID
 * tokens (server/oauth2.go, newAccessToken calls newIDToken), so every Dex access token carries an
 * `at_hash` (and the `nonce` the client sent). Core refuses `at_hash` as an ID-token marker
 * whatever the options say (RFC 9068 §4), so no issuer entry can accept Dex tokens. This test pins
 * that: when core offers a way (see the package README), it fails and a preset can be added.
 */
import { createTestIssuer } from '@bearer-guard/testing'
import { describe, expect, it } from 'vitest'
import { expectInvalid, validatorOf } from './support/helpers.js'

describe('Dex', () => {
  it('access tokens are refused by core as ID tokens, even with the right issuer and audience', async () => {
    const dex = await createTestIssuer({ issuer: 'https://dex.example.com' })
    try {
      // What a dex() preset would produce: Dex's issuer and key set, the API's client ID as
      // audience (Dex's cross-client `audience:server:client_id:orders-api` scope), groups.
      const validator = validatorOf([
        {
          issuer: 'https://dex.example.com',
          jwksUri: dex.jwksUri,
          audience: 'orders-api',
          scopeClaims: ['groups'],
          allowNonce: true,
        },
      ])
      const access = await dex.mintShaped('dex', 'accessToken', { peers: ['orders-api'] })
      const error = await expectInvalid(validator.verify(access), 'ERR_TOKEN_TYPE_INVALID')
      expect(error.message).toContain("'at_hash'")
    } finally {
      await dex.close()
    }
  })
})
