import {
  calculateJwkThumbprint,
  decodeJwt,
  decodeProtectedHeader,
  EmbeddedJWK,
  jwtVerify,
} from 'jose'
import type { JWK, JWTPayload } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { DPOP_PROOF_FLAWS, generateDpopKey, TEST_ALGORITHMS } from '../src/index.js'
import type { DpopKey, DpopProofFlaw, DpopProofOptions } from '../src/index.js'
import { jwkThumbprint, sha256Base64url } from '../src/thumbprint.js'

const HTU = 'https://api.example.com/orders'
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

function parts(proof: string): { header: Record<string, unknown>; claims: JWTPayload } {
  return { header: decodeProtectedHeader(proof), claims: decodeJwt(proof) }
}

describe.each(TEST_ALGORITHMS)('a %s DPoP key', (alg) => {
  let key: DpopKey
  beforeAll(async () => {
    key = await generateDpopKey(alg)
  })

  it('makes a proof that verifies with its embedded jwk and has the RFC 9449 §4.2 members', async () => {
    const proof = await key.proof({ htm: 'GET', htu: HTU, accessToken: 'token-1', nonce: 'n-1' })
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: [alg],
    })
    expect(protectedHeader).toEqual({ typ: 'dpop+jwt', alg, jwk: key.publicJwk })
    expect(payload).toEqual({
      jti: expect.stringMatching(UUID_V4),
      htm: 'GET',
      htu: HTU,
      iat: expect.any(Number),
      ath: sha256Base64url('token-1'),
      nonce: 'n-1',
    })
    expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(5)
    for (const member of PRIVATE_MEMBERS) expect(key.publicJwk).not.toHaveProperty(member)
    expect(key.alg).toBe(alg)
    expect(key.privateKey.type).toBe('private')
    expect(key.publicKey.type).toBe('public')
  })

  it('has the RFC 7638 thumbprint jose computes', async () => {
    expect(key.thumbprint).toBe(await calculateJwkThumbprint(key.publicJwk, 'sha256'))
    expect(key.thumbprint).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })
})

describe('DPoP proofs', () => {
  it('match the RFC 9449 examples: jkt of the Figure 4 key, ath of the Figure 13 token', async () => {
    const jwk: JWK = {
      kty: 'EC',
      x: 'l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs',
      y: '9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA',
      crv: 'P-256',
    }
    expect(jwkThumbprint(jwk)).toBe('0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I')
    const key = await generateDpopKey()
    const proof = await key.proof({
      htm: 'GET',
      htu: 'https://resource.example.org/protectedresource',
      accessToken: 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU',
    })
    expect(decodeJwt(proof).ath).toBe('fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo')
  })

  it('drop the query and fragment from htu and keep the rest as given', async () => {
    const key = await generateDpopKey()
    const query = await key.proof({ htm: 'GET', htu: `${HTU}?page=2#top` })
    expect(decodeJwt(query).htu).toBe(HTU)
    const raw = 'HTTPS://API.Example.com:443/a/../orders'
    expect(decodeJwt(await key.proof({ htm: 'GET', htu: raw })).htu).toBe(raw)
  })

  it('take iat, jti and the clock as given; no ath or nonce unless asked', async () => {
    const key = await generateDpopKey('EdDSA', { clock: () => 1_700_000_000_999 })
    expect(decodeJwt(await key.proof({ htm: 'POST', htu: HTU }))).toEqual({
      jti: expect.stringMatching(UUID_V4),
      htm: 'POST',
      htu: HTU,
      iat: 1_700_000_000,
    })
    const fixed = await key.proof({ htm: 'POST', htu: HTU, iat: 42, jti: 'j-1' })
    expect(decodeJwt(fixed)).toMatchObject({ iat: 42, jti: 'j-1' })
    const a = decodeJwt(await key.proof({ htm: 'GET', htu: HTU }))
    const b = decodeJwt(await key.proof({ htm: 'GET', htu: HTU }))
    expect(a.jti).not.toBe(b.jti)
  })

  it('merge header and claims; alg may be any the key signs', async () => {
    const key = await generateDpopKey('RS256')
    const proof = await key.proof({
      htm: 'GET',
      htu: HTU,
      header: { alg: 'PS256', kid: 'k1' },
      claims: { extra: 1, jti: undefined },
    })
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt' })
    expect(protectedHeader).toMatchObject({ alg: 'PS256', kid: 'k1' })
    expect(payload.extra).toBe(1)
    expect(payload).not.toHaveProperty('jti')
    const untyped = await key.proof({ htm: 'GET', htu: HTU, header: { typ: undefined } })
    expect(decodeProtectedHeader(untyped)).not.toHaveProperty('typ')
  })

  it('refuse invalid options', async () => {
    const key = await generateDpopKey()
    const bad: unknown[] = [
      { htu: HTU },
      { htm: '', htu: HTU },
      { htm: 'GET' },
      { htm: 'GET', htu: '/orders' },
      { htm: 'GET', htu: 'ftp://example.com/x' },
      { htm: 'GET', htu: HTU, iat: Number.NaN },
      { htm: 'GET', htu: HTU, accessToken: '' },
      { htm: 'GET', htu: HTU, claims: [] },
      { htm: 'GET', htu: HTU, flaw: 'nope' },
      { htm: 'GET', htu: HTU, flaw: 'ath' }, // needs accessToken
      { htm: 'GET', htu: HTU, flaw: 'no-ath' },
      { htm: 'GET', htu: HTU, header: { alg: 'RS256' } }, // an EC key cannot
      { htm: 'GET', htu: HTU, header: { alg: 'none' } },
      { htm: 'GET', htu: HTU, method: 'GET' },
    ]
    for (const options of bad) {
      await expect(key.proof(options as DpopProofOptions), JSON.stringify(options)).rejects.toThrow(
        TypeError,
      )
    }
    await expect(generateDpopKey('HS256' as never)).rejects.toThrow(TypeError)
    await expect(generateDpopKey('ES256', { clock: 5 } as never)).rejects.toThrow(TypeError)
  })
})

/** What each flaw must change, compared with the correct proof for the same request. */
const EXPECTED: Record<DpopProofFlaw, (flawed: ReturnType<typeof parts>, key: DpopKey) => void> = {
  typ: ({ header }) => {
    expect(header.typ).toBe('JWT')
  },
  'alg-none': ({ header }) => {
    expect(header.alg).toBe('none')
  },
  hs256: ({ header }) => {
    expect(header.alg).toBe('HS256')
  },
  'private-jwk': ({ header }, key) => {
    expect(header.jwk).toMatchObject({ ...key.publicJwk, d: expect.any(String) })
  },
  signature: () => undefined,
  'jwk-mismatch': ({ header }, key) => {
    expect(header.jwk).not.toEqual(key.publicJwk)
    expect(jwkThumbprint(header.jwk as JWK)).not.toBe(key.thumbprint)
  },
  htm: ({ claims }) => {
    expect(claims.htm).toBe('POST')
  },
  'htu-query': ({ claims }) => {
    expect(claims.htu).toBe(`${HTU}?x=1`)
  },
  'htu-host': ({ claims }) => {
    expect(claims.htu).toBe('https://attacker.example/orders')
  },
  'htu-scheme': ({ claims }) => {
    expect(claims.htu).toBe('http://api.example.com/orders')
  },
  'htu-path': ({ claims }) => {
    expect(claims.htu).toBe(`${HTU}/other`)
  },
  'iat-old': ({ claims }) => {
    expect(claims.iat).toBe(1_000_000 - 600)
  },
  'iat-future': ({ claims }) => {
    expect(claims.iat).toBe(1_000_000 + 600)
  },
  'no-jti': ({ claims }) => {
    expect(claims).not.toHaveProperty('jti')
  },
  ath: ({ claims }) => {
    expect(claims.ath).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(claims.ath).not.toBe(sha256Base64url('the-token'))
  },
  'no-ath': ({ claims }) => {
    expect(claims).not.toHaveProperty('ath')
  },
}

/** The members each flaw may change: everything else must equal the correct proof. */
const CHANGES: Record<DpopProofFlaw, { header?: string; claim?: string }> = {
  typ: { header: 'typ' },
  'alg-none': { header: 'alg' },
  hs256: { header: 'alg' },
  'private-jwk': { header: 'jwk' },
  signature: {},
  'jwk-mismatch': { header: 'jwk' },
  htm: { claim: 'htm' },
  'htu-query': { claim: 'htu' },
  'htu-host': { claim: 'htu' },
  'htu-scheme': { claim: 'htu' },
  'htu-path': { claim: 'htu' },
  'iat-old': { claim: 'iat' },
  'iat-future': { claim: 'iat' },
  'no-jti': { claim: 'jti' },
  ath: { claim: 'ath' },
  'no-ath': { claim: 'ath' },
}

// Flaws whose proof no longer verifies with its own embedded jwk (or is refused by a verifier
// that insists on dpop+jwt and asymmetric algorithms); the others verify and differ in a claim.
const REFUSED_BY_JOSE = new Set<DpopProofFlaw>([
  'typ',
  'alg-none',
  'hs256',
  'private-jwk',
  'signature',
])

describe.each(TEST_ALGORITHMS)('flawed %s proofs', (alg) => {
  let key: DpopKey
  beforeAll(async () => {
    key = await generateDpopKey(alg)
  })

  it.each(DPOP_PROOF_FLAWS)('%s: one documented defect, the rest unchanged', async (flaw) => {
    const request: DpopProofOptions = {
      htm: 'GET',
      htu: HTU,
      accessToken: 'the-token',
      iat: 1_000_000,
      jti: 'fixed',
    }
    const good = parts(await key.proof(request))
    const proof = await key.proof({ ...request, flaw })
    const flawed = parts(proof)
    EXPECTED[flaw](flawed, key)

    const { header: changedHeader, claim: changedClaim } = CHANGES[flaw]
    const without = (object: Record<string, unknown>, name: string | undefined) =>
      Object.fromEntries(Object.entries(object).filter(([member]) => member !== name))
    expect(without(flawed.header, changedHeader)).toEqual(without(good.header, changedHeader))
    expect(without(flawed.claims, changedClaim)).toEqual(without(good.claims, changedClaim))

    const verified = jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: [...new Set([alg, 'PS256', 'Ed25519'])],
      currentDate: new Date(1_000_000_000),
    })
    if (REFUSED_BY_JOSE.has(flaw)) {
      await expect(verified).rejects.toThrow()
    } else {
      await expect(verified).resolves.toBeTruthy()
    }
    if (flaw === 'alg-none') expect(proof.endsWith('.')).toBe(true)
    if (flaw === 'signature') {
      const [, , signature = ''] = proof.split('.')
      const [, , original = ''] = (await key.proof(request)).split('.')
      expect(signature.length).toBe(original.length)
    }
  })
})

describe('flaws on other requests', () => {
  it('htm flips POST to GET; htu-query keeps the given query; htu-host keeps port and userinfo', async () => {
    const key = await generateDpopKey()
    const post = await key.proof({ htm: 'POST', htu: HTU, flaw: 'htm' })
    expect(decodeJwt(post).htm).toBe('GET')
    const query = await key.proof({ htm: 'GET', htu: `${HTU}?page=2`, flaw: 'htu-query' })
    expect(decodeJwt(query).htu).toBe(`${HTU}?page=2`)
    const host = await key.proof({ htm: 'GET', htu: 'http://u@127.0.0.1:3000/x', flaw: 'htu-host' })
    expect(decodeJwt(host).htu).toBe('http://u@attacker.example:3000/x')
    const ipv6 = await key.proof({ htm: 'GET', htu: 'http://[::1]:8080/', flaw: 'htu-host' })
    expect(decodeJwt(ipv6).htu).toBe('http://attacker.example:8080/')
    const scheme = await key.proof({ htm: 'GET', htu: 'http://127.0.0.1/x', flaw: 'htu-scheme' })
    expect(decodeJwt(scheme).htu).toBe('https://127.0.0.1/x')
    const root = await key.proof({ htm: 'GET', htu: 'https://api.example.com', flaw: 'htu-path' })
    expect(decodeJwt(root).htu).toBe('https://api.example.com/other')
  })

  it('hs256 is an HMAC keyed with the public key PEM; private-jwk still verifies by signature', async () => {
    const key = await generateDpopKey()
    const forged = await key.proof({ htm: 'GET', htu: HTU, flaw: 'hs256' })
    const pem = key.publicKey.export({ type: 'spki', format: 'pem' }).toString()
    await expect(jwtVerify(forged, new TextEncoder().encode(pem))).resolves.toBeTruthy()

    const leaky = await key.proof({ htm: 'GET', htu: HTU, flaw: 'private-jwk' })
    for (const member of ['d', 'x', 'y'])
      expect(decodeProtectedHeader(leaky).jwk).toHaveProperty(member)
    await expect(jwtVerify(leaky, key.publicKey, { typ: 'dpop+jwt' })).resolves.toBeTruthy()

    const other = await key.proof({ htm: 'GET', htu: HTU, flaw: 'jwk-mismatch' })
    const again = await key.proof({ htm: 'GET', htu: HTU, flaw: 'jwk-mismatch' })
    expect(decodeProtectedHeader(other).jwk).toEqual(decodeProtectedHeader(again).jwk)
  })
})
