import { calculateJwkThumbprint, compactVerify, createLocalJWKSet, jwtVerify } from 'jose'
import type { JSONWebKeySet } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestIssuer, generateTestKey } from '../src/index.js'
import type { TestIssuer } from '../src/index.js'

let issuer: TestIssuer
beforeEach(async () => {
  issuer = await createTestIssuer()
})
afterEach(() => issuer.close())

async function publishedKids(): Promise<string[]> {
  const { keys } = (await (await fetch(issuer.jwksUri)).json()) as JSONWebKeySet
  return keys.map((key) => key.kid ?? '')
}

describe('keys', () => {
  it('names keys by their RFC 7638 thumbprint unless a kid is given', async () => {
    const { activeKey } = issuer
    expect(activeKey.kid).toBe(await calculateJwkThumbprint(activeKey.publicJwk))
    const named = await generateTestKey('EdDSA', { kid: 'ed-1' })
    expect(named.kid).toBe('ed-1')
    expect(named.publicJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' })
    expect(named.privateKey.type).toBe('private')
    expect(named.publicKey.asymmetricKeyType).toBe('ed25519')
    await expect(generateTestKey('RS256', { kid: '' })).rejects.toThrow(TypeError)
  })

  it('rotate() publishes a new active key and keeps the old one by default', async () => {
    const old = issuer.activeKey
    const oldToken = await issuer.mint()
    const next = await issuer.rotate({ algorithm: 'ES256' })
    expect(issuer.activeKey).toBe(next)
    expect(next.alg).toBe('ES256')
    expect(next.kid).not.toBe(old.kid)
    expect(issuer.keys.map((key) => key.kid)).toEqual([old.kid, next.kid])
    expect(await publishedKids()).toEqual([old.kid, next.kid])

    const jwks = createLocalJWKSet((await (await fetch(issuer.jwksUri)).json()) as JSONWebKeySet)
    const newToken = await issuer.mint()
    expect((await jwtVerify(newToken, jwks)).protectedHeader.kid).toBe(next.kid)
    expect((await jwtVerify(oldToken, jwks)).protectedHeader.kid).toBe(old.kid)
  })

  it('rotate({ keepOld: false }) retires the old key; the default algorithm is kept', async () => {
    const old = issuer.activeKey
    const next = await issuer.rotate({ keepOld: false })
    expect(next.alg).toBe('RS256')
    expect(await publishedKids()).toEqual([next.kid])
    expect(issuer.keys).toEqual([next])
    expect(old.kid).not.toBe(next.kid)
  })

  it('generateKey() does not publish; publishKey/unpublishKey manage the JWKS', async () => {
    const foreign = await issuer.generateKey()
    expect(foreign.alg).toBe('RS256')
    expect(await publishedKids()).toEqual([issuer.activeKey.kid])

    issuer.publishKey(foreign)
    expect(await publishedKids()).toEqual([issuer.activeKey.kid, foreign.kid])
    issuer.publishKey(foreign) // idempotent: same kid replaces
    expect(issuer.keys).toHaveLength(2)

    issuer.unpublishKey(issuer.activeKey.kid)
    expect(await publishedKids()).toEqual([foreign.kid])
    // The active key still signs, for "unknown kid" tests.
    const token = await issuer.mint()
    await expect(compactVerify(token, issuer.activeKey.publicKey)).resolves.toBeTruthy()
    issuer.unpublishKey('no-such-kid')
    expect(issuer.keys).toEqual([foreign])
  })

  it('keys is a snapshot that callers cannot use to change the JWKS', async () => {
    const snapshot = issuer.keys
    expect(Object.isFrozen(snapshot)).toBe(true)
    await issuer.rotate()
    expect(snapshot).toHaveLength(1)
    expect(issuer.keys).toHaveLength(2)
  })

  it('lists the published algorithms in the discovery document', async () => {
    await issuer.rotate({ algorithm: 'EdDSA' })
    const document = (await (await fetch(issuer.discoveryUrls.openid)).json()) as {
      id_token_signing_alg_values_supported: string[]
    }
    expect(document.id_token_signing_alg_values_supported).toEqual(['RS256', 'EdDSA'])
  })
})
