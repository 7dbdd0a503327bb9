/**
 * Static keys instead of discovery (issue 10, §3): a PEM public key or certificate, a JWK, a JWKS
 * object or file, verified on the same fast path with the same key and algorithm checks.
 */
import { createTestIssuer, type TestIssuer, type TestKey } from '@bearer-guard/testing'
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyRequestCallback } from '../src/adapter.js'
import { createAccessTokenValidator, type StaticKeys } from '../src/index.js'
import { AUDIENCE, expectInvalid } from './support/helpers.js'

let issuer: TestIssuer
let dir: string

beforeAll(async () => {
  // The issuer serves no discovery and no key set is fetched: every test counts zero requests.
  issuer = await createTestIssuer({ discovery: 'none' })
  dir = mkdtempSync(join(tmpdir(), 'bearer-guard-keys-'))
})
afterAll(async () => {
  await issuer.close()
  rmSync(dir, { recursive: true, force: true })
})

const withKeys = (keys: StaticKeys) =>
  createAccessTokenValidator({ issuer: issuer.issuer, audience: AUDIENCE, keys })

describe('static keys: no discovery, no request', () => {
  it('a PEM SPKI public key verifies tokens of any kid (a Kubernetes service-account token)', async () => {
    issuer.resetCounts()
    const validator = withKeys(issuer.activeKey.publicKeyPem)
    expect(
      await validator.verify(await issuer.mint({}, { header: { kid: 'cluster-key' } })),
    ).toBeTruthy()
    expect(
      await validator.verify(await issuer.mint({}, { header: { typ: undefined } })),
    ).toBeTruthy()
    const foreign = await issuer.generateKey()
    await expectInvalid(
      validator.verify(await issuer.mint({}, { key: foreign })),
      'ERR_TOKEN_SIGNATURE_INVALID',
    )
    expect(issuer.requests.jwks + issuer.requests.discovery).toBe(0)
  })

  it('an X.509 certificate (PEM) verifies with its public key', async () => {
    const fixture = (name: string) =>
      readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8')
    const privateKey = createPrivateKey(fixture('cert-key.pem'))
    const publicKey = createPublicKey(privateKey)
    const key: TestKey = {
      kid: 'cert',
      alg: 'RS256',
      privateKey,
      publicKey,
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
      publicJwk: { ...publicKey.export({ format: 'jwk' }), kid: 'cert', alg: 'RS256', use: 'sig' },
    }
    const validator = withKeys(fixture('cert.pem'))
    expect(await validator.verify(await issuer.mint({}, { key }))).toBeTruthy()
    await expectInvalid(validator.verify(await issuer.mint()), 'ERR_TOKEN_SIGNATURE_INVALID')
  })

  it('a JWK, a JWKS object and a JWKS file: kids select keys as in a remote key set', async () => {
    const second = await issuer.generateKey('ES256')
    const jwks = { keys: [issuer.activeKey.publicJwk, second.publicJwk] }
    const file = join(dir, 'jwks.json')
    writeFileSync(file, JSON.stringify(jwks))
    for (const keys of [jwks, pathToFileURL(file)] as StaticKeys[]) {
      const validator = withKeys(keys)
      expect(await validator.verify(await issuer.mint())).toBeTruthy()
      expect(await validator.verify(await issuer.mint({}, { key: second }))).toBeTruthy()
      await expectInvalid(
        validator.verify(await issuer.mint({}, { header: { kid: 'nope' } })),
        'ERR_TOKEN_KEY_NOT_FOUND',
      )
    }
    const single = withKeys(second.publicJwk)
    expect(await single.verify(await issuer.mint({}, { key: second }))).toBeTruthy()
    await expectInvalid(single.verify(await issuer.mint()), 'ERR_TOKEN_KEY_NOT_FOUND')
  })

  it('keeps the key/algorithm checks: an RSA key never verifies HS256, a P-256 key never ES384', async () => {
    const validator = withKeys(issuer.activeKey.publicKeyPem)
    const hs = await issuer.mint(
      {},
      { header: { alg: 'HS256' }, secret: issuer.activeKey.publicKeyPem },
    )
    await expectInvalid(validator.verify(hs), 'ERR_TOKEN_ALG_NOT_ALLOWED')
    const es = await issuer.generateKey('ES256')
    const p256 = withKeys(es.publicKeyPem)
    expect(await p256.verify(await issuer.mint({}, { key: es }))).toBeTruthy()
  })

  it('answers synchronously: no promise even for the first token', async () => {
    const validator = withKeys(issuer.activeKey.publicKeyPem)
    const token = await issuer.mint()
    let answered = false
    verifyRequestCallback(validator, { headers: { authorization: `Bearer ${token}` } }, (error) => {
      expect(error).toBeNull()
      answered = true
    })
    expect(answered).toBe(true)
  })

  it('refuses private keys, remote URLs and garbage at construction', () => {
    const privatePem = issuer.activeKey.privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string
    expect(() => withKeys(privatePem)).toThrow(/private key/)
    const privateJwk = issuer.activeKey.privateKey.export({ format: 'jwk' })
    expect(() => withKeys(privateJwk)).toThrow(/private JWK/)
    expect(() => withKeys(new URL('https://example.com/jwks'))).toThrow(/file: URL/)
    expect(() => withKeys('not a key')).toThrow(/PEM/)
    expect(() => withKeys({ keys: [] })).toThrow(/without keys/)
    expect(() =>
      createAccessTokenValidator({
        issuer: issuer.issuer,
        audience: AUDIENCE,
        keys: issuer.activeKey.publicKeyPem,
        jwksUri: issuer.jwksUri,
      }),
    ).toThrow(/one of "jwksUri", "keys" and "secret"/)
  })
})
