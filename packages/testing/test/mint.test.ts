import { createHmac } from 'node:crypto'
import { compactVerify, createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import type { JSONWebKeySet } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestIssuer, TEST_ALGORITHMS } from '../src/index.js'
import type { TestIssuer } from '../src/index.js'

async function fetchJwks(issuer: TestIssuer): Promise<JSONWebKeySet> {
  const response = await fetch(issuer.jwksUri)
  expect(response.status).toBe(200)
  return (await response.json()) as JSONWebKeySet
}

describe.each(TEST_ALGORITHMS)('%s', (algorithm) => {
  let issuer: TestIssuer
  beforeAll(async () => {
    issuer = await createTestIssuer({ algorithm })
  })
  afterAll(() => issuer.close())

  it('mints a token that verifies against the served JWKS', async () => {
    const token = await issuer.mint({ scope: 'orders:read' })
    const jwks = createLocalJWKSet(await fetchJwks(issuer))
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: issuer.issuer,
      audience: 'https://api.example.com',
      typ: 'at+jwt',
      algorithms: [algorithm],
    })
    expect(protectedHeader).toEqual({ alg: algorithm, kid: issuer.activeKey.kid, typ: 'at+jwt' })
    expect(payload.scope).toBe('orders:read')
    expect(issuer.activeKey.alg).toBe(algorithm)
  })
})

describe('mint', () => {
  let issuer: TestIssuer
  let now = Date.UTC(2030, 0, 1, 12, 0, 0)
  beforeAll(async () => {
    issuer = await createTestIssuer({
      audience: ['https://api.example.com', 'https://other.example.com'],
      tokenLifetime: 60,
      clock: () => now,
    })
  })
  afterAll(() => issuer.close())

  it('produces exactly the RFC 9068 default claims, timed by the injected clock', async () => {
    now = Date.UTC(2030, 0, 1, 12, 0, 0) + 999
    const claims = decodeJwt(await issuer.mint())
    const iat = Date.UTC(2030, 0, 1, 12, 0, 0) / 1000
    expect(claims).toEqual({
      iss: issuer.issuer,
      sub: 'user-123',
      aud: ['https://api.example.com', 'https://other.example.com'],
      client_id: 'test-client',
      iat,
      exp: iat + 60,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
    })
    const other = decodeJwt(await issuer.mint())
    expect(other.jti).not.toBe(claims.jti)
  })

  it('merges caller claims over the defaults and removes undefined ones', async () => {
    const claims = decodeJwt(
      await issuer.mint({
        sub: 'alice',
        aud: 'https://elsewhere.example.com',
        scp: ['a', 'b'],
        exp: 1,
        jti: undefined,
        client_id: undefined,
        nested: { deep: [1, null] },
      }),
    )
    expect(claims).toEqual({
      iss: issuer.issuer,
      sub: 'alice',
      aud: 'https://elsewhere.example.com',
      iat: expect.any(Number),
      exp: 1,
      scp: ['a', 'b'],
      nested: { deep: [1, null] },
    })
  })

  it('merges header members and removes undefined ones', async () => {
    const token = await issuer.mint(
      {},
      { header: { kid: undefined, typ: 'JWT', jku: 'https://x' } },
    )
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', typ: 'JWT', jku: 'https://x' })
    const bare = await issuer.mint({}, { header: { typ: undefined, kid: 'other-kid' } })
    expect(decodeProtectedHeader(bare)).toEqual({ alg: 'RS256', kid: 'other-kid' })
    // Still a genuine signature of the active key.
    await expect(compactVerify(bare, issuer.activeKey.publicKey)).resolves.toBeTruthy()
  })

  it('signs an RSA key with another RSA alg when asked (PS512 with an RS256 key)', async () => {
    const token = await issuer.mint({}, { header: { alg: 'PS512' } })
    expect(decodeProtectedHeader(token).alg).toBe('PS512')
    const { protectedHeader } = await compactVerify(token, issuer.activeKey.publicKey)
    expect(protectedHeader.alg).toBe('PS512')
  })

  it.each([
    [{ alg: 'ES256' }, /generated for RS256 and cannot sign with alg "ES256"/],
    [{ alg: 'HS256' }, /cannot sign with alg "HS256"/],
    [{ alg: 'none' }, /encodeToken/],
    [{ alg: undefined }, /encodeToken/],
  ])('refuses header %o that the key cannot produce', async (header, message) => {
    await expect(issuer.mint({}, { header })).rejects.toThrow(message)
    await expect(issuer.mint({}, { header })).rejects.toBeInstanceOf(TypeError)
  })

  it('signs with a foreign key that is not published', async () => {
    const foreign = await issuer.generateKey('ES384', { kid: 'attacker' })
    const token = await issuer.mint({}, { key: foreign })
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES384', kid: 'attacker', typ: 'at+jwt' })
    await expect(compactVerify(token, foreign.publicKey)).resolves.toBeTruthy()
    const jwks = await fetchJwks(issuer)
    expect(jwks.keys.map((key) => key.kid)).not.toContain('attacker')
    await expect(jwtVerify(token, createLocalJWKSet(jwks))).rejects.toMatchObject({
      code: 'ERR_JWKS_NO_MATCHING_KEY',
    })
    // A foreign key of the published key's type, claiming its kid, fails on the signature.
    const lookalike = await issuer.generateKey('RS256')
    const spoofed = await issuer.mint({}, { key: lookalike, header: { kid: issuer.activeKey.kid } })
    await expect(jwtVerify(spoofed, createLocalJWKSet(jwks))).rejects.toMatchObject({
      code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    })
  })

  it('signs with HMAC over the public key PEM (algorithm-confusion forgery)', async () => {
    const pem = issuer.activeKey.publicKeyPem
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/)
    const token = await issuer.mint({ sub: 'admin' }, { secret: pem })
    const [header, payload, signature] = token.split('.') as [string, string, string]
    expect(decodeProtectedHeader(token)).toEqual({
      alg: 'HS256',
      kid: issuer.activeKey.kid,
      typ: 'at+jwt',
    })
    const expected = createHmac('sha256', pem).update(`${header}.${payload}`).digest('base64url')
    expect(signature).toBe(expected)
  })

  it('signs HS384/HS512 with any secret length, and refuses a non-HMAC alg with a secret', async () => {
    const secret = new Uint8Array([1, 2, 3])
    const token = await issuer.mint({}, { secret, header: { alg: 'HS512' } })
    const [header, payload, signature] = token.split('.') as [string, string, string]
    expect(signature).toBe(
      createHmac('sha512', secret).update(`${header}.${payload}`).digest('base64url'),
    )
    const hs384 = await issuer.mint({}, { secret: 'x', header: { alg: 'HS384' } })
    await expect(compactVerify(hs384, new TextEncoder().encode('x'))).resolves.toBeTruthy()
    await expect(issuer.mint({}, { secret, header: { alg: 'RS256' } })).rejects.toThrow(/HMAC/)
    await expect(issuer.mint({}, { secret: '' })).rejects.toThrow(/empty/)
  })

  it('carries critical header extensions the caller names', async () => {
    const token = await issuer.mint({}, { header: { crit: ['exp-ext'], 'exp-ext': 1 } })
    expect(decodeProtectedHeader(token)).toMatchObject({ crit: ['exp-ext'], 'exp-ext': 1 })
    // A verifier that does not understand the extension must reject it.
    await expect(compactVerify(token, issuer.activeKey.publicKey)).rejects.toMatchObject({
      code: 'ERR_JOSE_NOT_SUPPORTED',
    })
  })
})
