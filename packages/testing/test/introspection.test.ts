/**
 * The test issuer's introspection endpoint (RFC 7662), its opaque tokens, client authentication
 * (client_secret_basic, client_secret_post, private_key_jwt), RFC 9701 signed answers and faults.
 * Checked with plain fetch and jose, not @bearer-guard/core (core dev-depends on this package).
 */
import { randomUUID } from 'node:crypto'
import { SignJWT, createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestIssuer, generateDpopKey, generateTestKey } from '../src/index.js'
import type { TestIssuer, TestKey } from '../src/index.js'
import { basic, basicRealm } from './token-helpers.js'

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const JWT_TYPE = 'application/token-introspection+jwt'

interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly body: Record<string, unknown> | undefined
}

async function introspect(
  issuer: TestIssuer,
  form: Readonly<Record<string, string>>,
  init: { authorization?: string; accept?: string; method?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  if (init.authorization !== undefined) headers.authorization = init.authorization
  if (init.accept !== undefined) headers.accept = init.accept
  const method = init.method ?? 'POST'
  const response = await fetch(issuer.introspectionEndpoint, {
    method,
    headers,
    body: method === 'GET' ? undefined : new URLSearchParams(form).toString(),
  })
  const text = await response.text()
  const isJson = response.headers.get('content-type') === 'application/json'
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: isJson ? (JSON.parse(text) as Record<string, unknown>) : undefined,
  }
}

let now = Math.floor(Date.now() / 1000) * 1000
const clock = () => now
let issuer: TestIssuer
let clientKey: TestKey
const AS_BASIC = { authorization: basic('orders-api', 's3cret') }

beforeAll(async () => {
  clientKey = await generateTestKey('ES256')
  issuer = await createTestIssuer({
    clock,
    clients: [
      { clientId: 'orders-api', clientSecret: 's3cret' },
      {
        clientId: 'signed-api',
        clientSecret: 'unused',
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [clientKey.publicJwk] },
      },
    ],
  })
})
afterAll(() => issuer.close())

async function assertion(
  claims: Record<string, unknown> = {},
  key: TestKey = clientKey,
): Promise<string> {
  const nowSeconds = Math.floor(now / 1000)
  const { aud = issuer.issuer, ...others } = claims
  return await new SignJWT({ jti: randomUUID(), ...others })
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setIssuer('signed-api')
    .setSubject('signed-api')
    .setAudience(aud as string)
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + 60)
    .sign(key.privateKey)
}

describe('discovery (RFC 8414 §2)', () => {
  it('names the introspection endpoint and its client authentication methods', async () => {
    const document = (await (await fetch(issuer.discoveryUrls.oauth)).json()) as Record<
      string,
      unknown
    >
    expect(document.introspection_endpoint).toBe(issuer.introspectionEndpoint)
    expect(issuer.introspectionEndpoint).toBe(`${issuer.url}/introspect`)
    expect(document.introspection_endpoint_auth_methods_supported).toEqual([
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
    ])
  })
})

describe('opaque tokens and RFC 7662 §2.2 answers', () => {
  it('mintOpaque issues 32 random bytes in base64url, never a JWT', () => {
    const token = issuer.mintOpaque()
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(issuer.mintOpaque()).not.toBe(token)
  })

  it('client_secret_basic: an active token with the claims of mint and token_type', async () => {
    const token = issuer.mintOpaque({ scope: 'orders:read', sub: 'alice' })
    const answer = await introspect(issuer, { token }, AS_BASIC)
    expect(answer.status).toBe(200)
    expect(answer.headers.get('cache-control')).toBe('no-store')
    expect(answer.body).toEqual({
      active: true,
      iss: issuer.issuer,
      sub: 'alice',
      aud: 'https://api.example.com',
      client_id: 'test-client',
      iat: Math.floor(now / 1000),
      exp: Math.floor(now / 1000) + 300,
      jti: expect.any(String),
      scope: 'orders:read',
      token_type: 'Bearer',
    })
  })

  it('client_secret_post, with a token_type_hint (RFC 7662 §2.1)', async () => {
    const token = issuer.mintOpaque({ aud: undefined })
    const answer = await introspect(issuer, {
      token,
      token_type_hint: 'access_token',
      client_id: 'orders-api',
      client_secret: 's3cret',
    })
    expect(answer.body).toMatchObject({ active: true, sub: 'user-123' })
    expect(answer.body).not.toHaveProperty('aud')
  })

  it('binds a token to a DPoP key: cnf.jkt and token_type DPoP (RFC 9449 §6.2)', async () => {
    const key = await generateDpopKey()
    const token = issuer.mintOpaque({}, { dpop: key })
    const answer = await introspect(issuer, { token }, AS_BASIC)
    expect(answer.body).toMatchObject({
      active: true,
      token_type: 'DPoP',
      cnf: { jkt: key.thumbprint },
    })
  })

  it.each([
    ['an unknown token', () => 'no-such-token'],
    [
      'a revoked token',
      () => {
        const token = issuer.mintOpaque()
        issuer.revoke(token)
        return token
      },
    ],
    ['an expired token', () => issuer.mintOpaque({ exp: Math.floor(now / 1000) - 1 })],
    ['a token not valid yet', () => issuer.mintOpaque({ nbf: Math.floor(now / 1000) + 60 })],
  ])('%s is { active: false } and nothing else', async (_, make) => {
    const answer = await introspect(issuer, { token: make() }, AS_BASIC)
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({ active: false })
  })

  it('introspects its own JWTs, and refuses one signed by a foreign key', async () => {
    const jwt = await issuer.mint({ scope: 'orders:read' })
    expect((await introspect(issuer, { token: jwt }, AS_BASIC)).body).toMatchObject({
      active: true,
      iss: issuer.issuer,
      scope: 'orders:read',
    })
    const forged = await issuer.mint({}, { key: await issuer.generateKey() })
    expect((await introspect(issuer, { token: forged }, AS_BASIC)).body).toEqual({
      active: false,
    })
    issuer.revoke(jwt)
    expect((await introspect(issuer, { token: jwt }, AS_BASIC)).body).toEqual({ active: false })
  })

  it('follows its clock: active before exp, inactive from exp on', async () => {
    const token = issuer.mintOpaque({ exp: Math.floor(now / 1000) + 2 })
    expect((await introspect(issuer, { token }, AS_BASIC)).body?.active).toBe(true)
    now += 2000
    expect((await introspect(issuer, { token }, AS_BASIC)).body?.active).toBe(false)
  })
})

describe('client authentication (RFC 7662 §2.1, §2.3)', () => {
  it('private_key_jwt: an assertion signed by a registered key (RFC 7523 §2.2)', async () => {
    const token = issuer.mintOpaque()
    const answer = await introspect(issuer, {
      token,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await assertion(),
    })
    expect(answer.body).toMatchObject({ active: true })
  })

  it('private_key_jwt: the endpoint URL is an accepted audience too (RFC 7523 §3)', async () => {
    const answer = await introspect(issuer, {
      token: issuer.mintOpaque(),
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await assertion({ aud: issuer.introspectionEndpoint }),
    })
    expect(answer.body).toMatchObject({ active: true })
  })

  it.each([
    ['a replayed assertion', async () => assertion({ jti: 'once' })],
    ['another audience', async () => assertion({ aud: 'https://other.example.com' })],
    ['an unregistered key', async () => assertion({}, await generateTestKey('ES256'))],
    ['a JWT that is no assertion of this client', async () => issuer.mint()],
  ])('private_key_jwt refused, 401 invalid_client: %s', async (name, make) => {
    if (name === 'a replayed assertion') {
      const first = await introspect(issuer, {
        token: 'x',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await make(),
      })
      expect(first.status).toBe(200)
    }
    const answer = await introspect(issuer, {
      token: 'x',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await make(),
    })
    expect(answer.status).toBe(401)
    expect(answer.body?.error).toBe('invalid_client')
  })

  it('a client held to private_key_jwt cannot use its secret', async () => {
    const answer = await introspect(
      issuer,
      { token: 'x' },
      { authorization: basic('signed-api', 'unused') },
    )
    expect(answer.status).toBe(401)
  })

  it.each([
    ['no client authentication', {}, {}],
    ['a wrong Basic secret', {}, { authorization: basic('orders-api', 'wrong') }],
    [
      'a wrong client_secret_post secret (still 401 here)',
      { client_id: 'orders-api', client_secret: 'no' },
      {},
    ],
  ])('%s: 401 invalid_client with a Basic challenge', async (_, form, init) => {
    issuer.resetCounts()
    const answer = await introspect(issuer, { token: issuer.mintOpaque(), ...form }, init)
    expect(answer.status).toBe(401)
    expect(answer.body?.error).toBe('invalid_client')
    expect(basicRealm(answer.headers.get('www-authenticate'))).toBe(issuer.issuer)
    expect(issuer.requests.introspection).toBe(1)
  })

  it('invalid_request: no token (400), GET (405 with Allow: POST)', async () => {
    const missing = await introspect(issuer, {}, AS_BASIC)
    expect(missing.status).toBe(400)
    expect(missing.body?.error).toBe('invalid_request')
    const get = await introspect(issuer, {}, { ...AS_BASIC, method: 'GET' })
    expect(get.status).toBe(405)
    expect(get.headers.get('allow')).toBe('POST')
  })
})

describe('RFC 9701 signed answers', () => {
  let signing: TestIssuer
  beforeAll(async () => {
    signing = await createTestIssuer({
      algorithm: 'ES256',
      signedIntrospection: true,
      clients: [{ clientId: 'orders-api', clientSecret: 's3cret' }],
    })
  })
  afterAll(() => signing.close())

  it('advertises the signing algorithm (§7) and signs when Accept asks for it (§4, §5)', async () => {
    const document = (await (await fetch(signing.discoveryUrls.openid)).json()) as Record<
      string,
      unknown
    >
    expect(document.introspection_signing_alg_values_supported).toEqual(['ES256'])
    const token = signing.mintOpaque({ scope: 'orders:read' })
    const answer = await introspect(signing, { token }, { ...AS_BASIC, accept: JWT_TYPE })
    expect(answer.status).toBe(200)
    expect(answer.headers.get('content-type')).toBe(JWT_TYPE)
    expect(decodeProtectedHeader(answer.text)).toEqual({
      alg: 'ES256',
      kid: signing.activeKey.kid,
      typ: 'token-introspection+jwt',
    })
    const { payload } = await jwtVerify(answer.text, createRemoteJWKSet(new URL(signing.jwksUri)), {
      issuer: signing.issuer,
      audience: 'orders-api',
      typ: 'token-introspection+jwt',
    })
    expect(payload.iat).toEqual(expect.any(Number))
    expect(payload.token_introspection).toMatchObject({ active: true, scope: 'orders:read' })
    expect(payload).not.toHaveProperty('sub')
  })

  it('answers plain JSON without that Accept, or when it is refused with q=0', async () => {
    const token = signing.mintOpaque()
    for (const accept of [undefined, 'application/json', `${JWT_TYPE};q=0, application/json`]) {
      const answer = await introspect(signing, { token }, { ...AS_BASIC, accept })
      expect(answer.headers.get('content-type')).toBe('application/json')
      expect(answer.body?.active).toBe(true)
    }
  })

  it('an issuer without signedIntrospection never signs', async () => {
    const answer = await introspect(
      issuer,
      { token: issuer.mintOpaque() },
      { ...AS_BASIC, accept: JWT_TYPE },
    )
    expect(answer.headers.get('content-type')).toBe('application/json')
  })
})

describe('faults', () => {
  it('fail("introspection") answers with the fault after reading the body, and counts it', async () => {
    issuer.resetCounts()
    issuer.fail('introspection', { kind: 'status', status: 500, body: 'down' })
    const failed = await introspect(issuer, { token: issuer.mintOpaque() }, AS_BASIC)
    expect(failed.status).toBe(500)
    expect(failed.text).toBe('down')
    issuer.fail('introspection', { kind: 'body', body: '{"active":"true"}' })
    expect((await introspect(issuer, { token: 'x' }, AS_BASIC)).text).toBe('{"active":"true"}')
    issuer.fail('introspection', null)
    expect((await introspect(issuer, { token: issuer.mintOpaque() }, AS_BASIC)).body?.active).toBe(
      true,
    )
    expect(issuer.requests).toMatchObject({ introspection: 3, discovery: 0, jwks: 0 })
  })

  it('a hang holds requests until cleared, then serves them; "all" leaves introspection alone', async () => {
    issuer.fail('all', { kind: 'status', status: 503 })
    expect((await introspect(issuer, { token: issuer.mintOpaque() }, AS_BASIC)).status).toBe(200)
    issuer.fail('all', null)
    issuer.fail('introspection', { kind: 'hang' })
    const held = introspect(issuer, { token: issuer.mintOpaque() }, AS_BASIC)
    await new Promise((resolve) => setTimeout(resolve, 50))
    issuer.fail('introspection', null)
    expect((await held).body?.active).toBe(true)
  })

  it('refuses an unknown fault endpoint', () => {
    expect(() => {
      issuer.fail('token' as 'jwks', null)
    }).toThrow(/introspection/)
  })
})

describe('options', () => {
  it('refuses a non-boolean signedIntrospection, private keys in jwks, private_key_jwt without keys', async () => {
    await expect(
      createTestIssuer({ signedIntrospection: 'yes' as unknown as boolean }),
    ).rejects.toThrow(/signedIntrospection must be a boolean/)
    expect(() =>
      issuer.registerClient({
        clientId: 'leaky',
        clientSecret: 'x',
        jwks: { keys: [{ ...clientKey.publicJwk, d: 'secret' }] },
      }),
    ).toThrow(/public keys/)
    expect(() =>
      issuer.registerClient({
        clientId: 'keyless',
        clientSecret: 'x',
        tokenEndpointAuthMethod: 'private_key_jwt',
      }),
    ).toThrow(/jwks/)
    expect(() => {
      issuer.revoke('')
    }).toThrow(TypeError)
  })
})
