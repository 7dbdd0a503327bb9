/**
 * The `introspection` option group, checked once: unknown keys refused with the closest name,
 * credentials, key material and where the group may be given. And each client authentication
 * method of RFC 7662 §2.1 against the real endpoint: client_secret_basic, client_secret_post and
 * private_key_jwt (RFC 7523 §2.2) with RSA, RSA-PSS, EC and Ed25519 keys.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import type { JWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createAccessTokenValidator,
  type AccessTokenValidatorOptions,
  type IntrospectionSettings,
} from '../src/index.js'
import { AUDIENCE, expectUnavailable } from './support/helpers.js'

let issuer: TestIssuer
const ISSUER = 'https://auth.example.com'

beforeAll(async () => {
  issuer = await createTestIssuer()
})
afterAll(() => issuer.close())

function make(introspection: unknown, options: Record<string, unknown> = {}) {
  return () =>
    createAccessTokenValidator({
      issuer: ISSUER,
      audience: AUDIENCE,
      introspection,
      ...options,
    } as AccessTokenValidatorOptions)
}

describe('options are checked at construction', () => {
  const basic = { clientId: 'api', clientSecret: 's' }

  it.each([
    [
      'an unknown key, with the closest name',
      { ...basic, clientSecrett: 'x' },
      /'clientSecrett'; did you mean 'clientSecret'/,
    ],
    ['no clientId', { clientSecret: 's' }, /clientId/],
    ['a clientId with a control character', { clientId: 'a\nb', clientSecret: 's' }, /clientId/],
    ['neither secret nor key', { clientId: 'api' }, /one of "clientSecret" and "privateKey"/],
    [
      'both secret and key',
      { ...basic, privateKey: 'x' },
      /one of "clientSecret" and "privateKey"/,
    ],
    ['an unknown method', { ...basic, authMethod: 'tls_client_auth' }, /authMethod/],
    [
      'private_key_jwt without a key',
      { ...basic, authMethod: 'private_key_jwt' },
      /privateKey" is required/,
    ],
    ['a key that is not one', { clientId: 'api', privateKey: 'not a pem' }, /not a private key/],
    [
      'a public key',
      { clientId: 'api', privateKey: generateKeyPairSync('ed25519').publicKey },
      /must be a private key/,
    ],
    [
      'a key of another kind',
      { clientId: 'api', privateKey: 42 },
      /KeyObject, a PKCS #8 PEM or a private JWK/,
    ],
    [
      'an algorithm the key cannot sign',
      {
        clientId: 'api',
        privateKey: generateKeyPairSync('ed25519').privateKey,
        algorithm: 'ES256',
      },
      /algorithm/,
    ],
    [
      'an HMAC algorithm',
      {
        clientId: 'api',
        privateKey: generateKeyPairSync('ed25519').privateKey,
        algorithm: 'HS256',
      },
      /algorithm/,
    ],
    [
      'a small RSA key',
      {
        clientId: 'api',
        privateKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey,
      },
      /2048/,
    ],
    [
      'an empty keyId',
      { clientId: 'api', privateKey: generateKeyPairSync('ed25519').privateKey, keyId: '' },
      /keyId/,
    ],
    [
      'a plain-http endpoint off loopback',
      { ...basic, endpoint: 'http://auth.example.com/introspect' },
      /endpoint/,
    ],
    ['an unknown tokens value', { ...basic, tokens: 'jwe' }, /tokens/],
    ['a negative cacheMaxAge', { ...basic, cacheMaxAge: -1 }, /cacheMaxAge/],
    [
      'a cache that is not one',
      { ...basic, cache: { get: () => undefined } },
      /IntrospectionCache/,
    ],
    ['a non-boolean flag', { ...basic, requireAudience: 'yes' }, /requireAudience/],
    ['not an object', 'api:s', /introspection/],
  ])('refuses %s', (_, introspection, message) => {
    expect(make(introspection)).toThrow(TypeError)
    expect(make(introspection)).toThrow(message)
  })

  it('refuses two issuers taking opaque tokens: each would be sent to both', () => {
    const build = () =>
      createAccessTokenValidator({
        issuer: [
          { issuer: 'https://a.example.com', introspection: basic },
          { issuer: 'https://b.example.com', introspection: basic },
        ],
        audience: AUDIENCE,
      })
    expect(build).toThrow(/only one issuer can introspect opaque tokens/)
    expect(() =>
      createAccessTokenValidator({
        issuer: [
          { issuer: 'https://a.example.com', introspection: basic },
          { issuer: 'https://b.example.com', introspection: { ...basic, tokens: 'jwt' } },
        ],
        audience: AUDIENCE,
      }),
    ).not.toThrow()
  })

  it('top-level introspection needs a single issuer', () => {
    expect(make(basic, { issuer: ['https://a.example.com', 'https://b.example.com'] })).toThrow(
      /"introspection" at the top level needs exactly one issuer/,
    )
  })

  it('a {tenantid} template issuer cannot introspect', () => {
    expect(() =>
      createAccessTokenValidator({
        issuer: {
          issuer: 'https://login.example.com/{tenantid}/v2.0',
          tenants: 'any',
          jwksUri: 'https://login.example.com/keys',
          introspection: basic,
        },
        audience: AUDIENCE,
      }),
    ).toThrow(/exact issuer/)
  })

  it('an issuerResolver entry cannot take opaque tokens (they name no issuer)', async () => {
    const jwt = await issuer.mint()
    const resolved = createAccessTokenValidator({
      issuerResolver: { resolve: (iss) => ({ issuer: iss, introspection: basic }) },
      audience: AUDIENCE,
    })
    await expect(resolved.verify(jwt)).rejects.toThrow(/only its JWTs can be introspected/)
  })

  it('accepts every documented option', () => {
    const cache = { get: () => undefined, set: () => undefined }
    const full: IntrospectionSettings = {
      clientId: 'api',
      clientSecret: 's',
      authMethod: 'client_secret_post',
      endpoint: 'https://auth.example.com/introspect',
      tokens: 'all',
      cacheMaxAge: 0,
      cache,
      requireSignedResponse: false,
      requireAudience: true,
    }
    expect(make(full)).not.toThrow()
    expect(make({ ...full, cache: false })).not.toThrow()
  })
})

describe('client authentication against the real endpoint (RFC 7662 §2.1)', () => {
  async function accepted(
    introspection: Partial<IntrospectionSettings> & { clientId: string },
  ): Promise<boolean> {
    const v = createAccessTokenValidator({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      introspection,
    })
    return (await v.verify(issuer.mintOpaque())).claims.active === true
  }

  /** A client that may use only `method`, with a public JWK for private_key_jwt. */
  function register(id: string, method: string, publicJwk?: JWK): void {
    issuer.registerClient({
      clientId: id,
      clientSecret: 'c:l+i ent%',
      tokenEndpointAuthMethod: method as 'client_secret_basic',
      ...(publicJwk === undefined ? {} : { jwks: { keys: [publicJwk] } }),
    })
  }

  it('client_secret_basic, with the form-encoding of RFC 6749 §2.3.1', async () => {
    register('basic-client', 'client_secret_basic')
    expect(await accepted({ clientId: 'basic-client', clientSecret: 'c:l+i ent%' })).toBe(true)
  })

  it('client_secret_post', async () => {
    register('post-client', 'client_secret_post')
    expect(
      await accepted({
        clientId: 'post-client',
        clientSecret: 'c:l+i ent%',
        authMethod: 'client_secret_post',
      }),
    ).toBe(true)
  })

  it('the wrong method for the client: 503 (the endpoint refuses, RFC 7662 §2.3)', async () => {
    const v = createAccessTokenValidator({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      introspection: { clientId: 'post-client', clientSecret: 'c:l+i ent%' },
    })
    await expectUnavailable(v.verify(issuer.mintOpaque()))
  })

  const keys: [string, () => { privateKey: KeyObject; publicKey: KeyObject }, string?][] = [
    ['RSA (RS256)', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ['RSA with PS256', () => generateKeyPairSync('rsa', { modulusLength: 2048 }), 'PS256'],
    ['EC P-256 (ES256)', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
    ['EC P-384 (ES384)', () => generateKeyPairSync('ec', { namedCurve: 'P-384' })],
    ['EC P-521 (ES512)', () => generateKeyPairSync('ec', { namedCurve: 'P-521' })],
    ['Ed25519 (EdDSA)', () => generateKeyPairSync('ed25519')],
  ]

  it.each(keys)('private_key_jwt with %s', async (name, pair, algorithm) => {
    const { privateKey, publicKey } = pair()
    const id = `jwt-${name.replace(/\W/g, '')}`
    register(id, 'private_key_jwt', publicKey.export({ format: 'jwk' }))
    expect(await accepted({ clientId: id, privateKey, algorithm })).toBe(true)
  })

  it('private_key_jwt with the key as PEM, and as a JWK whose kid is sent', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const publicJwk = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid: 'key-1' }
    register('pem-client', 'private_key_jwt', publicJwk)
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
    expect(await accepted({ clientId: 'pem-client', privateKey: pem })).toBe(true)
    const jwk = {
      ...(privateKey.export({ format: 'jwk' }) as Record<string, unknown>),
      kid: 'key-1',
    }
    expect(await accepted({ clientId: 'pem-client', privateKey: jwk })).toBe(true)
    expect(await accepted({ clientId: 'pem-client', privateKey, keyId: 'key-1' })).toBe(true)
  })
})
