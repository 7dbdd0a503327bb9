import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose'
import type { JSONWebKeySet } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestIssuer, ENTRA_COMMON_ISSUER, generateTestKey } from '../src/index.js'
import type { TestIssuer } from '../src/index.js'
import { basic, requestToken } from './token-helpers.js'

const started: TestIssuer[] = []
async function start(...args: Parameters<typeof createTestIssuer>): Promise<TestIssuer> {
  const issuer = await createTestIssuer(...args)
  started.push(issuer)
  return issuer
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((issuer) => issuer.close()))
})

async function getJson(url: string): Promise<Record<string, unknown>> {
  const response = await fetch(url)
  expect(response.status).toBe(200)
  return (await response.json()) as Record<string, unknown>
}

const COGNITO = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC'

describe('issuer option', () => {
  it('serves a given issuer identifier in discovery while serving on 127.0.0.1', async () => {
    const issuer = await start({ issuer: COGNITO, path: '/pool' })
    expect(issuer.issuer).toBe(COGNITO)
    expect(issuer.jwksUri).toBe(`${issuer.url}/pool/jwks`)
    expect(issuer.tokenEndpoint).toBe(`${issuer.url}/pool/token`)
    expect(issuer.discoveryUrls).toEqual({
      openid: `${issuer.url}/pool/.well-known/openid-configuration`,
      oauth: `${issuer.url}/.well-known/oauth-authorization-server/pool`,
    })
    for (const url of [issuer.discoveryUrls.openid, issuer.discoveryUrls.oauth]) {
      expect(await getJson(url)).toMatchObject({
        issuer: COGNITO,
        jwks_uri: issuer.jwksUri,
        token_endpoint: issuer.tokenEndpoint,
      })
    }
    expect(decodeJwt(await issuer.mint()).iss).toBe(COGNITO)
  })

  it('mints provider-shaped tokens that a validator with jwksUri and the real issuer verifies', async () => {
    const issuer = await start({ issuer: COGNITO })
    const jwks = createRemoteJWKSet(new URL(issuer.jwksUri))
    const access = await issuer.mintShaped('cognito', 'accessToken', {
      userPoolId: 'eu-west-1_AbC',
    })
    const { payload } = await jwtVerify(access, jwks, { issuer: COGNITO, algorithms: ['RS256'] })
    expect(payload).toMatchObject({ token_use: 'access', client_id: expect.any(String) })
    expect(payload).not.toHaveProperty('aud')
    // The ID token verifies too: refusing it is the validator's job (token_use, aud).
    const id = await issuer.mintShaped('cognito', 'idToken', { userPoolId: 'eu-west-1_AbC' })
    expect((await jwtVerify(id, jwks, { issuer: COGNITO })).payload.token_use).toBe('id')
  })

  it('keeps a trailing slash (Auth0) and accepts a non-URL issuer (legacy Kubernetes)', async () => {
    const auth0 = await start({ issuer: 'https://example-tenant.us.auth0.com/' })
    expect((await getJson(auth0.discoveryUrls.openid)).issuer).toBe(
      'https://example-tenant.us.auth0.com/',
    )
    const token = await auth0.mintShaped('auth0', 'accessToken')
    await expect(
      jwtVerify(token, createRemoteJWKSet(new URL(auth0.jwksUri)), { issuer: auth0.issuer }),
    ).resolves.toBeTruthy()
    const legacy = await start({ issuer: 'kubernetes/serviceaccount' })
    expect(decodeJwt(await legacy.mint()).iss).toBe('kubernetes/serviceaccount')
  })

  it('puts the issuer in tokens from the token endpoint', async () => {
    const issuer = await start({
      issuer: 'https://login.example.com/',
      clients: [{ clientId: 'svc', clientSecret: 's' }],
    })
    const answer = await requestToken(
      issuer,
      { grant_type: 'client_credentials' },
      { authorization: basic('svc', 's') },
    )
    expect(answer.status).toBe(200)
    expect(decodeJwt(answer.body.access_token as string).iss).toBe('https://login.example.com/')
  })

  it.each([[''], ['https://a b'], [42], [null]])('refuses issuer %o', async (value) => {
    await expect(createTestIssuer({ issuer: value as string })).rejects.toThrow(
      /createTestIssuer\(\): issuer must be a non-empty string without white space/,
    )
  })
})

describe('JWKS extra members', () => {
  it('publishes the first key with the members given (Entra common key set)', async () => {
    const issuer = await start({
      issuer: ENTRA_COMMON_ISSUER,
      jwkMembers: { issuer: ENTRA_COMMON_ISSUER, x5c: ['MIIDBTCCAe2gAwIBAgIQ'] },
    })
    const { keys } = (await getJson(issuer.jwksUri)) as unknown as JSONWebKeySet
    expect(keys).toHaveLength(1)
    expect(keys[0]).toEqual({
      ...issuer.activeKey.publicJwk,
      issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0',
      x5c: ['MIIDBTCCAe2gAwIBAgIQ'],
    })
    expect(keys[0]).toMatchObject({ kty: 'RSA', kid: issuer.activeKey.kid, alg: 'RS256' })
    expect((await getJson(issuer.discoveryUrls.openid)).issuer).toBe(ENTRA_COMMON_ISSUER)

    // A tenant's v2.0 token verifies against that key set with the tenant substituted.
    const tenant = '8eaef023-2b34-4da1-9baa-8bc8c9d6a490'
    const token = await issuer.mintShaped('entra', 'accessToken', { tenantId: tenant })
    const tenantIssuer = ENTRA_COMMON_ISSUER.replace('{tenantid}', tenant)
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(issuer.jwksUri)), {
      issuer: tenantIssuer,
    })
    expect(payload).toMatchObject({ tid: tenant, ver: '2.0' })
  })

  it('publishes members of rotated, generated and published keys', async () => {
    const issuer = await start()
    const rotated = await issuer.rotate({ jwkMembers: { issuer: 'https://a.example/' } })
    const extra = await generateTestKey('ES256', { kid: 'x', jwkMembers: { x5t: 'abc' } })
    issuer.publishKey(extra)
    const { keys } = (await getJson(issuer.jwksUri)) as unknown as JSONWebKeySet
    expect(keys.map((key) => key.kid)).toEqual([expect.any(String), rotated.kid, 'x'])
    expect(keys[0]).not.toHaveProperty('issuer')
    expect(keys[1]).toMatchObject({ issuer: 'https://a.example/' })
    expect(keys[2]).toEqual({ ...extra.publicJwk, x5t: 'abc' })
    expect(extra.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' })
    const generated = await issuer.generateKey('RS256', { jwkMembers: { note: 1 } })
    expect(generated.publicJwk).toMatchObject({ note: 1 })
  })

  it.each(['kty', 'kid', 'alg', 'use', 'key_ops', 'n', 'e', 'x', 'crv', 'd'])(
    'refuses a member that would change the key: %s',
    async (name) => {
      await expect(generateTestKey('RS256', { jwkMembers: { [name]: 'x' } })).rejects.toThrow(
        new RegExp(`jwkMembers cannot set "${name}"`),
      )
      await expect(createTestIssuer({ jwkMembers: { [name]: 'x' } })).rejects.toThrow(TypeError)
    },
  )

  it('refuses jwkMembers that is not an object', async () => {
    await expect(
      createTestIssuer({ jwkMembers: ['issuer'] as unknown as Record<string, unknown> }),
    ).rejects.toThrow(/createTestIssuer\(\): jwkMembers must be an object/)
  })
})
