/** google() with Google-signed tokens, under both spellings of Google's issuer. */
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { google, type GoogleOptions } from '../src/index.js'
import { expectInvalid, validatorOf, withKeysFrom } from './support/helpers.js'

const SERVICE = 'https://orders-abc123xyz-ew.a.run.app'
const INVOKER = 'invoker@example-project.iam.gserviceaccount.com'

let server: TestIssuer
beforeAll(async () => {
  // One key set for both issuer spellings, as Google's.
  server = await createTestIssuer({ issuer: 'https://accounts.google.com' })
})
afterAll(async () => {
  await server.close()
})

const local = (options: Partial<GoogleOptions> = {}) =>
  validatorOf(
    withKeysFrom(google({ audience: SERVICE, emails: [INVOKER], ...options }), server.jwksUri),
  )

describe('google()', () => {
  it('is data: both issuer spellings, Google’s certs, email_verified and the email allow-list', () => {
    const entry = {
      jwksUri: 'https://www.googleapis.com/oauth2/v3/certs',
      audience: [SERVICE],
      requiredClaimValues: { email_verified: true, email: [INVOKER] },
      scopeClaims: [],
    }
    expect(google({ audience: SERVICE, emails: [INVOKER] })).toEqual([
      { issuer: 'https://accounts.google.com', ...entry },
      { issuer: 'accounts.google.com', ...entry },
    ])
    expect(google({ audience: SERVICE, emails: 'any' })[0]?.requiredClaimValues).toEqual({
      email_verified: true,
    })
  })

  it('accepts a service-to-service token under either issuer spelling', async () => {
    for (const issuer of ['https://accounts.google.com', 'accounts.google.com'] as const) {
      const auth = await local().verify(
        await server.mintShaped('google', 'accessToken', { issuer, email: INVOKER }),
      )
      expect(auth.claims.iss).toBe(issuer)
      expect(auth.scopes.size).toBe(0)
    }
  })

  it('refuses other callers unless emails is any, and unverified emails always', async () => {
    const stranger = await server.mintShaped('google', 'accessToken', {
      email: 'someone@else.iam.gserviceaccount.com',
    })
    await expectInvalid(local().verify(stranger), 'ERR_TOKEN_CLAIM_INVALID')
    expect(await local({ emails: 'any' }).verify(stranger)).toBeTruthy()
    const unverified = await server.mintShaped('google', 'accessToken', {
      email: INVOKER,
      claims: { email_verified: false },
    })
    await expectInvalid(local({ emails: 'any' }).verify(unverified), 'ERR_TOKEN_CLAIM_INVALID')
    const noEmail = await server.mintShaped('google', 'accessToken', {
      claims: { email: undefined, email_verified: undefined },
    })
    await expectInvalid(local({ emails: 'any' }).verify(noEmail), 'ERR_TOKEN_CLAIM_INVALID')
  })

  it('refuses a sign-in ID token: its aud is the OAuth client; with the service’s aud, its at_hash', async () => {
    await expectInvalid(
      local({ emails: 'any' }).verify(await server.mintShaped('google', 'idToken')),
      'ERR_TOKEN_AUDIENCE_INVALID',
    )
    const aimed = await server.mintShaped('google', 'idToken', { claims: { aud: SERVICE } })
    await expectInvalid(local({ emails: 'any' }).verify(aimed), 'ERR_TOKEN_TYPE_INVALID')
  })

  it('refuses a token for another service', async () => {
    const other = await server.mintShaped('google', 'accessToken', {
      audience: 'https://billing-xyz-ew.a.run.app',
      email: INVOKER,
    })
    await expectInvalid(local().verify(other), 'ERR_TOKEN_AUDIENCE_INVALID')
  })

  it('checks its options when called: emails is a conscious choice', () => {
    expect(() => google({ audience: SERVICE } as never)).toThrow(/"emails" is required/)
    expect(() => google({ audience: SERVICE, emails: [] })).toThrow(/"emails" must be/)
    expect(() => google({ audiance: SERVICE, emails: 'any' } as never)).toThrow(
      /did you mean 'audience'\?/,
    )
  })
})
