import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import nock from 'nock'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createAccessTokenValidator, type AccessTokenValidatorOptions } from '../src/index.js'
import {
  AUDIENCE,
  expectUnavailable,
  manualClock,
  sleep,
  type ManualClock,
} from './support/helpers.js'

// Discovery (OpenID Connect first, then RFC 8414), the exact-issuer rule, and URL checks. Real
// issuers on loopback where they can serve the case; nock for remote `https://` identity providers.

const IDP = 'https://idp.example.com'

/** Only mints tokens (its own discovery is off): its key is served by nock for `IDP`. */
let minter: TestIssuer
let clock: ManualClock

beforeAll(async () => {
  nock.disableNetConnect()
  nock.enableNetConnect('127.0.0.1')
  clock = manualClock()
  minter = await createTestIssuer({ discovery: 'none', clock: clock.now })
})

afterEach(() => {
  // Every non-optional interceptor was used, and none is left for the next test.
  expect(nock.pendingMocks()).toEqual([])
  nock.cleanAll()
})

afterAll(async () => {
  nock.enableNetConnect()
  await minter.close()
})

function remoteValidator(options: Partial<AccessTokenValidatorOptions> = {}) {
  return createAccessTokenValidator({
    issuer: IDP,
    audience: AUDIENCE,
    clock: clock.now,
    ...options,
  })
}

function tokenFor(iss: string): Promise<string> {
  return minter.mint({ iss })
}

/** A JWKS interceptor that counts its hits; optional, so an unused one is not "pending". */
function jwksAt(origin: string, path: string): { hits: () => number } {
  let hits = 0
  nock(origin)
    .get(path)
    .optionally()
    .times(10)
    .reply(() => {
      hits += 1
      return [200, { keys: [minter.activeKey.publicJwk] }]
    })
  return { hits: () => hits }
}

describe('discovery: which document', () => {
  it('uses the OpenID Connect document first, without asking for the RFC 8414 one', async () => {
    nock(IDP)
      .get('/.well-known/openid-configuration')
      .reply(200, { issuer: IDP, jwks_uri: `${IDP}/oidc-keys` })
    let oauthHits = 0
    nock(IDP)
      .get('/.well-known/oauth-authorization-server')
      .optionally()
      .reply(() => {
        oauthHits += 1
        return [200, { issuer: IDP, jwks_uri: `${IDP}/oauth-keys` }]
      })
    const oidcKeys = jwksAt(IDP, '/oidc-keys')
    const oauthKeys = jwksAt(IDP, '/oauth-keys')

    const auth = await remoteValidator().verify(await tokenFor(IDP))
    expect(auth.claims.iss).toBe(IDP)
    expect(oidcKeys.hits()).toBe(1)
    expect(oauthHits).toBe(0)
    expect(oauthKeys.hits()).toBe(0)
  })

  it('uses the OpenID Connect document of an issuer with a path (real issuer)', async () => {
    const issuer = await createTestIssuer({ path: '/tenant-a', discovery: 'openid' })
    try {
      const validator = createAccessTokenValidator({ issuer: issuer.issuer, audience: AUDIENCE })
      await validator.verify(await issuer.mint())
      expect(issuer.requests).toMatchObject({ discovery: 1, jwks: 1, other: 0 })
    } finally {
      await issuer.close()
    }
  })

  it('falls back to the RFC 8414 path-inserted document when there is no OIDC document', async () => {
    const issuer = await createTestIssuer({ path: '/tenant-a', discovery: 'oauth' })
    try {
      expect(issuer.discoveryUrls.oauth).toBe(
        `${issuer.url}/.well-known/oauth-authorization-server/tenant-a`,
      )
      const validator = createAccessTokenValidator({ issuer: issuer.issuer, audience: AUDIENCE })
      const auth = await validator.verify(await issuer.mint({ sub: 'via-8414' }))
      expect(auth.claims.sub).toBe('via-8414')
      // One 404 for the OIDC document, then the RFC 8414 one.
      expect(issuer.requests).toMatchObject({ discovery: 1, jwks: 1, other: 1 })
    } finally {
      await issuer.close()
    }
  })

  it('falls back to RFC 8414 when the OIDC document answers 500', async () => {
    nock(IDP).get('/.well-known/openid-configuration').reply(500, 'oops')
    nock(IDP)
      .get('/.well-known/oauth-authorization-server')
      .reply(200, { issuer: IDP, jwks_uri: `${IDP}/keys` })
    const keys = jwksAt(IDP, '/keys')
    await remoteValidator().verify(await tokenFor(IDP))
    expect(keys.hits()).toBe(1)
  })

  it('builds both URLs from an issuer with a path and a trailing slash', async () => {
    const issuer = `${IDP}/tenant/`
    nock(IDP).get('/tenant/.well-known/openid-configuration').reply(404)
    nock(IDP)
      .get('/.well-known/oauth-authorization-server/tenant')
      .reply(200, { issuer, jwks_uri: `${IDP}/tenant/keys` })
    const keys = jwksAt(IDP, '/tenant/keys')
    await remoteValidator({ issuer }).verify(await tokenFor(issuer))
    expect(keys.hits()).toBe(1)
  })

  it('makes no discovery request at all when jwksUri is configured', async () => {
    const issuer = await createTestIssuer({ discovery: 'both' })
    try {
      const validator = createAccessTokenValidator({
        issuer: issuer.issuer,
        audience: AUDIENCE,
        jwksUri: issuer.jwksUri,
      })
      await validator.verify(await issuer.mint())
      await validator.ready()
      expect(issuer.requests).toMatchObject({ discovery: 0, jwks: 1, other: 0 })
    } finally {
      await issuer.close()
    }
  })

  it('is lazy: creating a validator makes no request', async () => {
    const issuer = await createTestIssuer()
    try {
      createAccessTokenValidator({ issuer: issuer.issuer, audience: AUDIENCE })
      createAccessTokenValidator({
        issuer: issuer.issuer,
        audience: AUDIENCE,
        jwksUri: issuer.jwksUri,
      })
      await sleep(50)
      expect(issuer.requests).toMatchObject({ discovery: 0, jwks: 0, other: 0 })
    } finally {
      await issuer.close()
    }
  })
})

describe('discovery: refusals fail closed with 503', () => {
  const mismatches: [configured: string, advertised: string][] = [
    [IDP, `${IDP}/`],
    [`${IDP}/`, IDP],
    [IDP, 'https://IDP.example.com'],
    [IDP, 'https://evil.example.com'],
  ]
  for (const [configured, advertised] of mismatches) {
    it(`refuses every token when the document names issuer ${advertised} instead of ${configured}`, async () => {
      nock(IDP)
        .get('/.well-known/openid-configuration')
        .times(2)
        .reply(200, { issuer: advertised, jwks_uri: `${IDP}/keys` })
      const keys = jwksAt(IDP, '/keys')
      const validator = remoteValidator({ issuer: configured })
      // The token's own iss matches the configuration: only the document is wrong.
      await expectUnavailable(validator.verify(await tokenFor(configured)))
      // Still refused after the backoff, with the document fetched again.
      clock.advance(30_000)
      await expectUnavailable(validator.verify(await tokenFor(configured)))
      expect(keys.hits()).toBe(0)
    })
  }

  it('refuses a document without a string jwks_uri', async () => {
    nock(IDP).get('/.well-known/openid-configuration').reply(200, { issuer: IDP })
    await expectUnavailable(remoteValidator().verify(await tokenFor(IDP)))
    nock(IDP).get('/.well-known/openid-configuration').reply(200, { issuer: IDP, jwks_uri: 42 })
    await expectUnavailable(remoteValidator().verify(await tokenFor(IDP)))
  })

  it('refuses a discovery document that is not a JSON object', async () => {
    for (const body of ['"just a string"', 'null', '42']) {
      nock(IDP)
        .get('/.well-known/openid-configuration')
        .reply(200, body, { 'content-type': 'application/json' })
      await expectUnavailable(remoteValidator().verify(await tokenFor(IDP)))
    }
  })

  it('refuses a discovered non-loopback http:// jwks_uri unless allowInsecureHttp', async () => {
    const insecure = 'http://keys.example.com'
    nock(IDP)
      .get('/.well-known/openid-configuration')
      .times(2)
      .reply(200, { issuer: IDP, jwks_uri: `${insecure}/jwks` })
    const keys = jwksAt(insecure, '/jwks')

    await expectUnavailable(remoteValidator().verify(await tokenFor(IDP)))
    expect(keys.hits()).toBe(0)

    const allowed = remoteValidator({ allowInsecureHttp: true })
    await allowed.verify(await tokenFor(IDP))
    expect(keys.hits()).toBe(1)
  })

  it('refuses a discovered jwks_uri with credentials, a relative one, or another scheme', async () => {
    for (const jwksUri of [
      'https://user:secret@idp.example.com/keys',
      '/keys',
      'ftp://idp.example.com/keys',
      'file:///etc/passwd',
    ]) {
      nock(IDP)
        .get('/.well-known/openid-configuration')
        .reply(200, { issuer: IDP, jwks_uri: jwksUri })
      const keys = jwksAt(IDP, '/keys')
      await expectUnavailable(
        remoteValidator({ allowInsecureHttp: true }).verify(await tokenFor(IDP)),
      )
      expect(keys.hits()).toBe(0)
      nock.cleanAll()
    }
  })

  it('answers 503 when neither discovery document exists', async () => {
    nock(IDP).get('/.well-known/openid-configuration').reply(404)
    nock(IDP).get('/.well-known/oauth-authorization-server').reply(404)
    await expectUnavailable(remoteValidator({ retryAfter: 25 }).verify(await tokenFor(IDP)), 25)
  })
})

describe('discovery: URL checks at construction', () => {
  const make = (options: Partial<AccessTokenValidatorOptions>) => () =>
    createAccessTokenValidator({ issuer: IDP, audience: AUDIENCE, ...options })

  it('refuses a non-loopback http:// issuer or jwksUri with a TypeError', () => {
    expect(make({ issuer: 'http://idp.example.com' })).toThrow(TypeError)
    expect(make({ issuer: 'http://idp.example.com' })).toThrow(/issuer/)
    expect(make({ jwksUri: 'http://idp.example.com/keys' })).toThrow(TypeError)
    expect(make({ jwksUri: 'http://idp.example.com/keys' })).toThrow(/jwksUri/)
    expect(make({ issuer: 'http://10.0.0.1' })).toThrow(TypeError)
    expect(make({ issuer: 'http://[::2]' })).toThrow(TypeError)
    expect(make({ issuer: 'http://128.0.0.1' })).toThrow(TypeError)
  })

  it('refuses other schemes and non-URLs', () => {
    expect(make({ issuer: 'idp.example.com' })).toThrow(TypeError)
    expect(make({ issuer: 'ftp://idp.example.com' })).toThrow(TypeError)
    expect(make({ jwksUri: 'file:///etc/keys.json' })).toThrow(TypeError)
    expect(make({ jwksUri: '/keys' })).toThrow(TypeError)
  })

  it('accepts https:// anywhere and http:// on 127.0.0.0/8, localhost and [::1]', () => {
    for (const issuer of [
      IDP,
      `${IDP}/tenant`,
      'http://127.0.0.1:8080',
      'http://127.1.2.3',
      'http://localhost:3000/realms/x',
      'http://LOCALHOST',
      'http://[::1]:9000',
    ]) {
      expect(make({ issuer })).not.toThrow()
      expect(make({ jwksUri: `${issuer}/jwks` })).not.toThrow()
    }
  })

  it('accepts non-loopback http:// with allowInsecureHttp', () => {
    expect(make({ issuer: 'http://idp.example.com', allowInsecureHttp: true })).not.toThrow()
    expect(make({ jwksUri: 'http://idp.example.com/k', allowInsecureHttp: true })).not.toThrow()
  })

  it('refuses credentials in the issuer or jwksUri, even with allowInsecureHttp', () => {
    expect(make({ issuer: 'https://user:pass@idp.example.com' })).toThrow(/credentials/)
    expect(make({ issuer: 'https://user@idp.example.com' })).toThrow(TypeError)
    expect(make({ jwksUri: 'https://:pass@idp.example.com/keys' })).toThrow(TypeError)
    expect(make({ jwksUri: 'http://user:pass@127.0.0.1/keys', allowInsecureHttp: true })).toThrow(
      /credentials/,
    )
  })

  // Regression: `http://anything.localhost` counted as loopback, but Node resolves it through the
  // system resolver, which may send it to DNS and get a remote address.
  it('does not treat *.localhost names as loopback', () => {
    expect(make({ issuer: 'http://idp.localhost' })).toThrow(TypeError)
    expect(make({ jwksUri: 'http://keys.evil.localhost/jwks' })).toThrow(TypeError)
  })
})
