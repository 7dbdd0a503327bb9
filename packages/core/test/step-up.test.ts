/**
 * Step-up authentication (RFC 9470): per-route requirements on `acr` and on the age of the
 * user's authentication (`auth_time`); a miss is 401 `insufficient_user_authentication` with
 * `acr_values` or `max_age` (RFC 9470 §3).
 */
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseWwwAuthenticate } from '../../../test/support/www-authenticate.js'
import {
  InsufficientScopeError,
  InsufficientUserAuthenticationError,
  authorize,
  createAccessTokenValidator,
  definePolicy,
  type SyncAccessPolicy,
} from '../src/index.js'
import { AUDIENCE, manualClock, rejection } from './support/helpers.js'

let issuer: TestIssuer
const clock = manualClock()
beforeAll(async () => {
  issuer = await createTestIssuer({ clock: clock.now })
})
afterAll(async () => {
  await issuer.close()
})

const validator = () =>
  createAccessTokenValidator({ issuer: issuer.issuer, audience: AUDIENCE, clock: clock.now })
const audit: SyncAccessPolicy = { allOf: ['admin'], acr: ['urn:example:mfa'], maxAge: 300 }

async function refusalOf(claims: Record<string, unknown>, policy = audit) {
  const auth = await validator().verify(await issuer.mint(claims))
  return rejection(
    Promise.resolve().then(() => {
      authorize(auth, policy)
    }),
  )
}

describe('step-up (RFC 9470)', () => {
  const now = () => clock.now() / 1000

  it('passes with the right acr and a recent auth_time', async () => {
    const auth = await validator().verify(
      await issuer.mint({ scope: 'admin', acr: 'urn:example:mfa', auth_time: now() - 10 }),
    )
    expect(() => {
      authorize(auth, audit)
    }).not.toThrow()
  })

  it('refuses a missing or other acr with 401 and acr_values', async () => {
    for (const claims of [{}, { acr: 'urn:example:pwd' }, { acr: ['urn:example:mfa'] }]) {
      const error = await refusalOf({ scope: 'admin', auth_time: now(), ...claims })
      expect(error).toBeInstanceOf(InsufficientUserAuthenticationError)
      expect(error.status).toBe(401)
      const [challenge] = parseWwwAuthenticate(error.challenge)
      expect(challenge?.params).toMatchObject({
        error: 'insufficient_user_authentication',
        acr_values: 'urn:example:mfa',
      })
    }
  })

  it('refuses a missing or old auth_time with 401 and max_age', async () => {
    for (const claims of [{}, { auth_time: now() - 301 }, { auth_time: String(now()) }]) {
      const error = await refusalOf({ scope: 'admin', acr: 'urn:example:mfa', ...claims })
      expect(error.code).toBe('ERR_INSUFFICIENT_USER_AUTHENTICATION')
      const [challenge] = parseWwwAuthenticate(error.challenge)
      expect(challenge?.params).toMatchObject({ max_age: '300' })
    }
  })

  it('uses the validator’s clock: the same token ages out', async () => {
    const auth = await validator().verify(
      await issuer.mint({ scope: 'admin', acr: 'urn:example:mfa', auth_time: now() }),
    )
    expect(() => {
      authorize(auth, audit)
    }).not.toThrow()
    clock.advance(301_000)
    expect(() => {
      authorize(auth, audit)
    }).toThrow(InsufficientUserAuthenticationError)
    clock.advance(-301_000)
  })

  it('checks scopes first: without the scope, re-authenticating would not help (403)', async () => {
    const error = await refusalOf({ acr: 'urn:example:pwd' })
    expect(error).toBeInstanceOf(InsufficientScopeError)
  })

  it('checks the policy when it is defined', () => {
    expect(() => definePolicy({ maxAge: -1 })).toThrow(/whole number/)
    expect(() => definePolicy({ acr: [] })).toThrow(TypeError)
    expect(() => definePolicy({ acr: ['a b'] })).toThrow(TypeError)
    expect(definePolicy({ maxAge: 0 })).toEqual({ maxAge: 0 })
  })
})
