/**
 * What every preset shares: it is data (frozen issuer entries, pointing at the provider's real key
 * set), it checks its options when called, and presets combine in one validator.
 */
import {
  createAccessTokenValidator,
  type AccessTokenValidatorOptions,
  type IssuerOptions,
} from '@bearer-guard/core'
import { ENTRA_COMMON_ISSUER, createTestIssuer } from '@bearer-guard/testing'
import { describe, expect, expectTypeOf, it } from 'vitest'
import * as presets from '../src/index.js'
import {
  auth0,
  cognito,
  dex,
  entra,
  githubActions,
  google,
  keycloak,
  kubernetes,
  okta,
} from '../src/index.js'
import { expectInvalid, validatorOf, withKeysFrom } from './support/helpers.js'

/** One valid call of each preset. */
const calls: Record<string, () => readonly IssuerOptions[]> = {
  auth0: () =>
    auth0({ domain: 'example-tenant.us.auth0.com', audience: 'https://api.example.com' }),
  okta: () => okta({ issuer: 'https://example.okta.com/oauth2/default' }),
  entra: () => entra({ tenant: '72f988bf-86f1-41af-91ab-2d7cd011db47', audience: 'api://orders' }),
  keycloak: () =>
    keycloak({ url: 'https://keycloak.example.com', realm: 'example', audience: 'orders-api' }),
  cognito: () => cognito({ userPoolId: 'eu-west-1_AbCdEfGhI', clientIds: ['client'] }),
  dex: () => dex({ issuer: 'https://dex.example.com', audience: 'orders-api' }),
  google: () => google({ audience: 'https://orders.example.run.app', emails: 'any' }),
  githubActions: () =>
    githubActions({ audience: 'https://deploy.example.com', repositoryOwner: 'acme' }),
  kubernetes: () =>
    kubernetes({ issuer: 'https://kubernetes.default.svc', audience: 'orders-api' }),
}

describe('every preset', () => {
  it('returns what `issuer` takes, as is or spread', () => {
    type Issuer = NonNullable<AccessTokenValidatorOptions['issuer']>
    for (const preset of [
      auth0,
      okta,
      entra,
      keycloak,
      cognito,
      dex,
      google,
      githubActions,
      kubernetes,
    ]) {
      expectTypeOf(preset).returns.toExtend<Issuer>()
      expectTypeOf(preset).returns.toExtend<readonly IssuerOptions[]>()
    }
  })

  it('is exported, and covered here', () => {
    expect(Object.keys(presets).sort()).toEqual(Object.keys(calls).sort())
  })

  it.each(Object.entries(calls))(
    '%s returns frozen entries that core accepts as they are',
    (_, call) => {
      const entries = call()
      expect(entries.length).toBeGreaterThan(0)
      expect(Object.isFrozen(entries)).toBe(true)
      for (const entry of entries) {
        expect(Object.isFrozen(entry)).toBe(true)
        for (const value of Object.values(entry)) {
          if (typeof value === 'object') expect(Object.isFrozen(value)).toBe(true)
        }
        // Real provider URLs: https only.
        expect(entry.jwksUri ?? entry.issuer).toMatch(/^https:\/\//)
      }
      // Constructing a validator checks every entry (and fetches nothing).
      expect(() => createAccessTokenValidator({ issuer: entries })).not.toThrow()
    },
  )

  it.each(Object.entries(presets))('%s refuses options that are not an object', (name, preset) => {
    const call = preset as (options: unknown) => unknown
    for (const bad of [undefined, null, 'x', []]) {
      expect(() => call(bad)).toThrow(new RegExp(`${name}\\(\\): options must be an object`))
    }
  })
})

describe('the test helper', () => {
  it('changes only where keys come from', () => {
    for (const call of Object.values(calls)) {
      const entries = call()
      const adjusted = withKeysFrom(entries, 'http://127.0.0.1:1/jwks')
      const strip = ({ jwksUri: _j, keys: _k, ...rest }: IssuerOptions) => rest
      expect(adjusted.map(strip)).toEqual(entries.map(strip))
      expect(adjusted.every((entry) => entry.jwksUri === 'http://127.0.0.1:1/jwks')).toBe(true)
    }
  })
})

describe('presets combined', () => {
  it('accept each provider’s tokens with that provider’s keys only', async () => {
    const [a, e] = await Promise.all([
      createTestIssuer({ issuer: 'https://example-tenant.us.auth0.com/' }),
      createTestIssuer({
        issuer: ENTRA_COMMON_ISSUER,
        jwkMembers: { issuer: ENTRA_COMMON_ISSUER },
      }),
    ])
    try {
      const tenant = '72f988bf-86f1-41af-91ab-2d7cd011db47'
      const api = 'ef1da9d4-ff77-4c3e-a005-840c3f830745'
      const validator = validatorOf([
        ...withKeysFrom(
          auth0({ domain: 'example-tenant.us.auth0.com', audience: 'https://api.example.com' }),
          a.jwksUri,
        ),
        ...withKeysFrom(entra({ tenant, audience: api, versions: ['v2'] }), e.jwksUri),
      ])
      const fromAuth0 = await validator.verify(await a.mintShaped('auth0', 'accessToken'))
      expect(fromAuth0.claims.iss).toBe('https://example-tenant.us.auth0.com/')
      const fromEntra = await validator.verify(
        await e.mintShaped('entra', 'accessToken', { tenantId: tenant, apiClientId: api }),
      )
      expect([...fromEntra.scopes]).toEqual(['access_as_user'])
      // Entra's iss signed with Auth0's key: not in Entra's key set.
      const crossed = await a.mintShaped('entra', 'accessToken', {
        tenantId: tenant,
        apiClientId: api,
      })
      await expectInvalid(validator.verify(crossed), 'ERR_TOKEN_KEY_NOT_FOUND')
    } finally {
      await Promise.all([a.close(), e.close()])
    }
  })
})
