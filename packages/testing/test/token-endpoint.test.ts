import { SignJWT, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestIssuer, generateTestKey } from '../src/index.js'
import type { TestIssuer } from '../src/index.js'
import { basic, basicRealm, formEncode, requestToken } from './token-helpers.js'

const API = 'https://api.example.com'

/**
 * Verifies an issued token as a resource server would, with jose against the issuer's JWKS over
 * loopback (not @bearer-guard/core: core dev-depends on this package, and the build order must not
 * go in a circle; core's own tests verify the issuer's tokens).
 */
async function verified(issuer: TestIssuer, token: string, audience: string) {
  const keys = createRemoteJWKSet(new URL(issuer.jwksUri))
  const { payload, protectedHeader } = await jwtVerify(token, keys, {
    issuer: issuer.issuer,
    audience,
    typ: 'at+jwt',
  })
  return { claims: payload, header: protectedHeader }
}
const ORDERS = 'https://orders.example.com'
const BILLING = 'https://billing.example.com/v1'
// Every character RFC 6749 §2.3.1 makes a client form-encode before base64: ':', '+', ' ', '%'.
const SECRET = 'p@ss:w+rd %41'
const grant = { grant_type: 'client_credentials' }

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer({
    algorithm: 'ES256',
    clients: [
      { clientId: 'orders-service', clientSecret: SECRET, scope: 'orders:read orders:write' },
      { clientId: 'reporting', clientSecret: 'r3port', resources: [ORDERS, BILLING] },
      { clientId: 'post-only', clientSecret: 'p', tokenEndpointAuthMethod: 'client_secret_post' },
      { clientId: 'no-grant', clientSecret: 'n', grantTypes: [] },
    ],
  })
})
afterAll(() => issuer.close())

describe('RFC 6749 §4.4 client credentials grant, §5.1 successful response', () => {
  it('client_secret_basic: issues a Bearer token that verifies against the issuer JWKS (RFC 9068)', async () => {
    issuer.resetCounts()
    const answer = await requestToken(
      issuer,
      { ...grant, scope: 'orders:read' },
      { authorization: basic('orders-service', SECRET) },
    )
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 300,
      scope: 'orders:read',
    })
    const auth = await verified(issuer, answer.body.access_token as string, API)
    expect(auth.header).toMatchObject({ alg: 'ES256', kid: issuer.activeKey.kid, typ: 'at+jwt' })
    // RFC 9068 §2.2: with no resource owner, `sub` is the client.
    expect(auth.claims).toMatchObject({
      sub: 'orders-service',
      client_id: 'orders-service',
      aud: API,
      scope: 'orders:read',
    })
    // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat and jti are all present.
    for (const claim of ['iss', 'exp', 'iat', 'jti']) expect(auth.claims).toHaveProperty(claim)
    expect(issuer.requests).toMatchObject({ token: 1, other: 0 })
  })

  it('client_secret_post: client_id and client_secret in the body', async () => {
    const answer = await requestToken(issuer, {
      ...grant,
      client_id: 'orders-service',
      client_secret: SECRET,
      scope: 'orders:write orders:read',
    })
    expect(answer.status).toBe(200)
    expect(answer.body.scope).toBe('orders:write orders:read')
    expect(decodeJwt(answer.body.access_token as string)).toMatchObject({
      sub: 'orders-service',
      scope: 'orders:write orders:read',
    })
  })

  it('§3.3: without scope, grants every scope the client may have, and says so', async () => {
    const answer = await requestToken(issuer, grant, {
      authorization: basic('orders-service', SECRET),
    })
    expect(answer.body.scope).toBe('orders:read orders:write')
    expect(decodeJwt(answer.body.access_token as string).scope).toBe('orders:read orders:write')
  })

  it('§3.3: a client without a scope list gets no scope unless it asks for one', async () => {
    const answer = await requestToken(issuer, grant, {
      authorization: basic('reporting', 'r3port'),
    })
    expect(answer.status).toBe(200)
    expect(answer.body).not.toHaveProperty('scope')
    expect(decodeJwt(answer.body.access_token as string)).not.toHaveProperty('scope')
    const asked = await requestToken(
      issuer,
      { ...grant, scope: 'anything:at-all' },
      { authorization: basic('reporting', 'r3port') },
    )
    expect(asked.body.scope).toBe('anything:at-all')
  })

  it('signs with the key active at request time', async () => {
    const next = await issuer.rotate()
    const answer = await requestToken(issuer, grant, {
      authorization: basic('reporting', 'r3port'),
    })
    expect(decodeProtectedHeader(answer.body.access_token as string).kid).toBe(next.kid)
  })
})

describe('RFC 6749 §2.3.1 client password', () => {
  it('form-urlencodes id and secret before base64: an unencoded secret is wrong', async () => {
    const raw = `Basic ${Buffer.from(`orders-service:${SECRET}`).toString('base64')}`
    const answer = await requestToken(issuer, grant, { authorization: raw })
    expect(answer.status).toBe(401)
    expect(answer.body.error).toBe('invalid_client')
    expect(formEncode(SECRET)).toBe('p%40ss%3Aw%2Brd+%2541')
  })

  it('§5.2 invalid_request: both client_secret_basic and client_secret_post at once', async () => {
    const answer = await requestToken(
      issuer,
      { ...grant, client_id: 'orders-service', client_secret: SECRET },
      { authorization: basic('orders-service', SECRET) },
    )
    expect(answer.status).toBe(400)
    expect(answer.body.error).toBe('invalid_request')
  })

  it('a client registered for client_secret_post cannot use client_secret_basic', async () => {
    const post = await requestToken(issuer, {
      ...grant,
      client_id: 'post-only',
      client_secret: 'p',
    })
    expect(post.status).toBe(200)
    const basicAnswer = await requestToken(issuer, grant, {
      authorization: basic('post-only', 'p'),
    })
    expect(basicAnswer.status).toBe(401)
    expect(basicAnswer.body.error).toBe('invalid_client')
  })
})

describe('RFC 6749 §5.2 error response', () => {
  it('invalid_client: a wrong Basic secret is 401 with a Basic challenge', async () => {
    const answer = await requestToken(issuer, grant, {
      authorization: basic('orders-service', 'wrong'),
    })
    expect(answer.status).toBe(401)
    expect(answer.body.error).toBe('invalid_client')
    expect(basicRealm(answer.headers.get('www-authenticate'))).toBe(issuer.issuer)
  })

  it('invalid_client: a wrong client_secret_post secret is 400, without a challenge', async () => {
    const answer = await requestToken(issuer, {
      ...grant,
      client_id: 'orders-service',
      client_secret: 'wrong',
    })
    expect(answer.status).toBe(400)
    expect(answer.body.error).toBe('invalid_client')
    expect(answer.headers.get('www-authenticate')).toBeNull()
  })

  it.each([
    ['an unknown client', { authorization: basic('nobody', 'x') }, grant],
    ['no client authentication', {}, grant],
    ['a client_id without a secret', {}, { ...grant, client_id: 'orders-service' }],
    ['a scheme other than Basic', { authorization: 'Bearer abc' }, grant],
    ['Basic without a colon', { authorization: `Basic ${btoa('orders-service')}` }, grant],
  ])('invalid_client (401, Basic challenge): %s', async (_, init, form) => {
    const answer = await requestToken(issuer, form, init)
    expect(answer.status).toBe(401)
    expect(answer.body.error).toBe('invalid_client')
    expect(basicRealm(answer.headers.get('www-authenticate'))).toBe(issuer.issuer)
  })

  it.each([
    ['a missing grant_type', {}, {}],
    ['an empty grant_type (§3.2: treated as omitted)', { grant_type: '' }, {}],
    ['a repeated parameter (§3.2)', { ...grant, scope: ['orders:read', 'orders:write'] }, {}],
    ['a JSON body (§4.4.2: form-encoded)', grant, { contentType: 'application/json', body: '{}' }],
  ])('invalid_request: %s', async (_, form, init) => {
    const answer = await requestToken(issuer, form, {
      authorization: basic('orders-service', SECRET),
      ...init,
    })
    expect(answer.status).toBe(400)
    expect(answer.body.error).toBe('invalid_request')
  })

  it('§3.2: GET is refused with 405, Allow: POST and invalid_request', async () => {
    issuer.resetCounts()
    const answer = await requestToken(issuer, {}, { method: 'GET' })
    expect(answer.status).toBe(405)
    expect(answer.headers.get('allow')).toBe('POST')
    expect(answer.body.error).toBe('invalid_request')
    expect(issuer.requests).toMatchObject({ token: 1, other: 0 })
  })

  it('invalid_request (413): a body over 64 KiB', async () => {
    const answer = await requestToken(
      issuer,
      { ...grant, padding: 'x'.repeat(70_000) },
      { authorization: basic('orders-service', SECRET) },
    )
    expect(answer.status).toBe(413)
    expect(answer.body.error).toBe('invalid_request')
  })

  it('unsupported_grant_type: any grant but client_credentials', async () => {
    const answer = await requestToken(
      issuer,
      { grant_type: 'password', username: 'u', password: 'p' },
      { authorization: basic('orders-service', SECRET) },
    )
    expect(answer.status).toBe(400)
    expect(answer.body.error).toBe('unsupported_grant_type')
  })

  it('unauthorized_client: a client not allowed the client_credentials grant', async () => {
    const answer = await requestToken(issuer, grant, { authorization: basic('no-grant', 'n') })
    expect(answer.status).toBe(400)
    expect(answer.body.error).toBe('unauthorized_client')
  })

  it.each([
    ['a scope the client may not have', 'orders:read admin'],
    ['a malformed scope (§3.3)', 'orders:read "quoted"'],
  ])('invalid_scope: %s', async (_, scope) => {
    const answer = await requestToken(
      issuer,
      { ...grant, scope },
      { authorization: basic('orders-service', SECRET) },
    )
    expect(answer.status).toBe(400)
    expect(answer.body.error).toBe('invalid_scope')
  })

  it('invalid_scope names the refused scope', async () => {
    const answer = await requestToken(
      issuer,
      { ...grant, scope: 'orders:read admin' },
      { authorization: basic('orders-service', SECRET) },
    )
    expect(answer.body.error_description).toContain("'admin'")
  })
})

describe('RFC 8707 §2 resource parameter', () => {
  const reporting = { authorization: basic('reporting', 'r3port') }

  it('one resource becomes a string aud, verified by a validator for that resource', async () => {
    const answer = await requestToken(issuer, { ...grant, resource: ORDERS }, reporting)
    expect(answer.status).toBe(200)
    const { claims } = await verified(issuer, answer.body.access_token as string, ORDERS)
    expect(claims.aud).toBe(ORDERS)
    await expect(verified(issuer, answer.body.access_token as string, API)).rejects.toThrow()
  })

  it('a repeated resource gives an array aud', async () => {
    const answer = await requestToken(issuer, { ...grant, resource: [ORDERS, BILLING] }, reporting)
    expect(decodeJwt(answer.body.access_token as string).aud).toEqual([ORDERS, BILLING])
  })

  it('without resource, the token gets the default audience', async () => {
    const answer = await requestToken(issuer, grant, reporting)
    expect(decodeJwt(answer.body.access_token as string).aud).toBe(API)
  })

  it.each([
    ['a resource the client may not request', API],
    ['a URI with a fragment', `${ORDERS}#part`],
    ['a relative URI', '/orders'],
  ])('invalid_target: %s', async (_, resource) => {
    const answer = await requestToken(issuer, { ...grant, resource }, reporting)
    expect(answer.status).toBe(400)
    expect(answer.body.error).toBe('invalid_target')
  })
})

describe('RFC 7523 §2.2 private_key_jwt at the token endpoint', () => {
  it('a client assertion signed by a registered key gets a token; replayed, it is refused', async () => {
    const key = await generateTestKey('ES256')
    issuer.registerClient({
      clientId: 'keyed',
      clientSecret: 'unused',
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [key.publicJwk] },
    })
    const seconds = Math.floor(Date.now() / 1000)
    // RFC 7523 §3: iss and sub the client, aud the token endpoint (or the issuer), exp, jti.
    const assertion = await new SignJWT({ jti: 'one-use' })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid })
      .setIssuer('keyed')
      .setSubject('keyed')
      .setAudience(issuer.tokenEndpoint)
      .setIssuedAt(seconds)
      .setExpirationTime(seconds + 60)
      .sign(key.privateKey)
    const form = {
      ...grant,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }
    const answer = await requestToken(issuer, form)
    expect(answer.status).toBe(200)
    expect(decodeJwt(answer.body.access_token as string)).toMatchObject({ sub: 'keyed' })
    const replayed = await requestToken(issuer, form)
    expect(replayed.status).toBe(400)
    expect(replayed.body.error).toBe('invalid_client')
  })
})
