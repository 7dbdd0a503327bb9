/**
 * RFC 9449 §4.3, check by check: each refusal below passes once its check is removed.
 */
import { createHash } from 'node:crypto'
import { calculateJwkThumbprint } from 'jose'
import { describe, expect, it } from 'vitest'
import { parseWwwAuthenticate } from '../../../test/support/www-authenticate.js'
import {
  DPOP_ALGORITHMS,
  checkDpopProof,
  dpopRules,
  type DpopRequest,
} from '../src/binding/dpop.js'
import { DpopNonces } from '../src/binding/nonce.js'
import { BearerGuardError, InvalidDpopProofError, UseDpopNonceError } from '../src/index.js'
import { proofKey, nodeProof, signProof, unsignedProof, type ProofShape } from './support/dpop.js'

const ORIGIN = 'https://api.example.com'
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl'
const NOW = 1_800_000_000_000
const rules = dpopRules({ origin: ORIGIN })
const request: DpopRequest = { method: 'GET', url: '/orders?limit=5', accessToken: TOKEN, now: NOW }
const ath = createHash('sha256').update(TOKEN).digest('base64url')
const es256 = proofKey('ES256')

function claims(changes: Record<string, unknown> = {}): Record<string, unknown> {
  const base = {
    jti: 'e1j3V_bKic8-LAEB',
    htm: 'GET',
    htu: `${ORIGIN}/orders`,
    iat: NOW / 1000,
    ath,
  }
  return { ...base, ...changes }
}

function proof(changes: Record<string, unknown> = {}, shape: ProofShape = {}): Promise<string> {
  return signProof(es256, claims(changes), shape)
}

function refusal(run: () => unknown): BearerGuardError {
  try {
    run()
  } catch (error) {
    if (error instanceof BearerGuardError) return error
    throw error
  }
  throw new Error('expected a refusal')
}

/** Asserts a 401 `invalid_dpop_proof` with a `DPoP` challenge, and returns its description. */
function expectInvalid(value: string, req: DpopRequest = request, r = rules): string {
  const error = refusal(() => checkDpopProof(value, req, r))
  expect(error).toBeInstanceOf(InvalidDpopProofError)
  expect(error.code).toBe('ERR_DPOP_PROOF_INVALID')
  expect(error.status).toBe(401)
  expect(error.challenge.startsWith('DPoP error="invalid_dpop_proof"')).toBe(true)
  return error.message
}

describe('checkDpopProof (RFC 9449 §4.3)', () => {
  it('accepts a valid proof and returns the RFC 7638 thumbprint of its key', async () => {
    const result = checkDpopProof(await proof(), request, rules)
    expect(result.jkt).toBe(await calculateJwkThumbprint(es256.jwk, 'sha256'))
    expect(result).toMatchObject({ jti: 'e1j3V_bKic8-LAEB', iat: NOW / 1000, nonce: undefined })
    expect(result.replayId).toBe(`dpop:${result.jkt}:e1j3V_bKic8-LAEB`)
    expect(result.expiresAt).toBeGreaterThan(NOW + 60_000)
  })

  it('accepts the proof of RFC 9449 Figure 13: its jkt is the cnf.jkt of Figure 9', () => {
    const figure13 = [
      'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNo',
      'UklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERW',
      'clUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjoiR0VUIiwiaHR',
      '1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwi',
      'YXRoIjoiZlVIeU8ycjJaM0RaNTNFc05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9.2oW9RP35yRqzhrtNP86L-Ey7',
      '1EOptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA',
    ].join('')
    const result = checkDpopProof(
      figure13,
      {
        method: 'GET',
        url: '/protectedresource',
        accessToken: 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU',
        now: 1562262618_000,
      },
      dpopRules({ origin: 'https://resource.example.org' }),
    )
    expect(result.jkt).toBe('0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I')
  })

  it.each(['EdDSA', 'ES384', 'ES512', 'PS256', 'RS256'])('accepts %s proofs', async (alg) => {
    const key = proofKey(alg)
    const result = checkDpopProof(await signProof(key, claims()), request, rules)
    expect(result.jkt).toBe(await calculateJwkThumbprint(key.jwk, 'sha256'))
  })

  it('refuses what is not one compact JWS (item 2)', async () => {
    for (const value of ['', 'abc', 'a.b.c.d.e', `${await proof()}.x`, 'A'.repeat(9000)]) {
      expectInvalid(value)
    }
  })

  it('refuses a typ other than dpop+jwt (item 4)', async () => {
    expect(expectInvalid(await proof({}, { header: { typ: 'JWT' } }))).toContain('typ')
    expectInvalid(await proof({}, { header: { typ: 'at+jwt' } }))
    expectInvalid(await proof({}, { header: { typ: undefined } }))
    // RFC 7515 §4.1.9: the media type, case-insensitive, with or without `application/`.
    checkDpopProof(await proof({}, { header: { typ: 'application/DPoP+JWT' } }), request, rules)
  })

  it('refuses none, HMAC, unlisted algorithms and a key that does not fit its alg (item 5)', async () => {
    expectInvalid(unsignedProof({ typ: 'dpop+jwt', alg: 'none', jwk: es256.jwk }, claims()))
    const secret = new Uint8Array(32).fill(7)
    const oct = { kty: 'oct', k: Buffer.from(secret).toString('base64url') }
    expectInvalid(await proof({}, { header: { alg: 'HS256', jwk: oct }, signWith: secret }))
    expectInvalid(await proof({}, { header: { alg: 'HS256' }, signWith: secret }))
    const onlyEs = dpopRules({ origin: ORIGIN, algorithms: ['ES256'] })
    expectInvalid(await signProof(proofKey('EdDSA'), claims()), request, onlyEs)
    // An RSA key below 2048 bits, and a P-256 key under ES384.
    expectInvalid(nodeProof(proofKey('RS256', 1024), claims()))
    checkDpopProof(nodeProof(proofKey('RS256', 2048), claims()), request, rules)
    expectInvalid(
      await proof({}, { header: { alg: 'ES384' }, signWith: proofKey('ES384').privateKey }),
    )
    expectInvalid(nodeProof(es256, claims(), { crit: ['exp'] }))
    checkDpopProof(nodeProof(es256, claims()), request, rules)
  })

  it('refuses a signature the jwk does not verify (item 6)', async () => {
    expect(expectInvalid(await proof({}, { signWith: proofKey().privateKey }))).toContain(
      'signature',
    )
    const [h, , s] = (await proof()).split('.')
    const forged = Buffer.from(JSON.stringify(claims({ htm: 'DELETE' }))).toString('base64url')
    expectInvalid(`${h}.${forged}.${s}`)
  })

  it('keeps verifying a client key it remembers: an RSA key imported again, a P-256 key kept', () => {
    // Proofs of one client share their header: from the second on, core reuses the checked key;
    // an RSA key is imported again from DER at its 16th proof (keys/jwk.ts, reimportedRsaKey).
    for (const key of [proofKey('RS256'), es256]) {
      const other = proofKey(key.alg)
      for (let i = 0; i < 40; i++) {
        const payload = claims({ jti: `p-${String(i)}` })
        expect(checkDpopProof(nodeProof(key, payload), request, rules).jti).toBe(`p-${String(i)}`)
        // The same header (this client's key), signed by another key: refused every time.
        const [h, p] = nodeProof(key, payload).split('.')
        const [, , s] = nodeProof(other, payload).split('.')
        expect(expectInvalid(`${h}.${p}.${s}`)).toContain('signature')
      }
    }
  })

  it('refuses a jwk holding a private or symmetric key, or none at all (item 7)', async () => {
    const secret = es256.privateKey.export({ format: 'jwk' })
    expect(expectInvalid(await proof({}, { header: { jwk: secret } }))).toContain('private')
    const rsa = proofKey('RS256')
    const rsaPrivate = rsa.privateKey.export({ format: 'jwk' })
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) {
      const jwk = { ...rsa.jwk, [member]: rsaPrivate[member] }
      expectInvalid(await signProof(rsa, claims(), { header: { jwk } }))
    }
    expectInvalid(await proof({}, { header: { jwk: { ...es256.jwk, k: 'AAAA' } } }))
    expectInvalid(await proof({}, { header: { jwk: undefined } }))
    expectInvalid(await proof({}, { header: { jwk: { ...es256.jwk, x: 'not base64url!' } } }))
    // Node would import a padded member as the same key, under another thumbprint: refused.
    expectInvalid(
      await proof({}, { header: { jwk: { ...es256.jwk, x: `${es256.jwk.x ?? ''}=` } } }),
    )
    expectInvalid(await proof({}, { header: { jwk: { ...es256.jwk, use: 'enc' } } }))
  })

  it('requires jti (bounded), htm, htu and a numeric iat (item 3)', async () => {
    for (const missing of ['jti', 'htm', 'htu', 'iat']) {
      expectInvalid(await proof({ [missing]: undefined }))
    }
    expectInvalid(await proof({ jti: '' }))
    expectInvalid(await proof({ jti: 'x'.repeat(129) }))
    checkDpopProof(await proof({ jti: 'x'.repeat(128) }), request, rules)
    expectInvalid(await proof({ iat: String(NOW / 1000) }))
  })

  it('refuses an htm other than the request method, compared case-sensitively (item 8)', async () => {
    expect(expectInvalid(await proof({ htm: 'POST' }))).toContain('htm')
    expectInvalid(await proof({ htm: 'get' }))
  })

  it('compares htu after RFC 3986 normalisation: case, default port, encodings, dots (item 9)', async () => {
    const same = [
      'HTTPS://API.Example.COM/orders',
      'https://api.example.com:443/orders',
      'https://api.example.com:0443/orders',
      'https://api.example.com/%6Frders',
      'https://api.example.com/a/./b/../../orders',
    ]
    for (const htu of same) checkDpopProof(await proof({ htu }), request, rules)
    const encoded = { ...request, url: '/caf%c3%a9/%7euser' }
    const htu = `${ORIGIN}/caf%C3%A9/~user`
    checkDpopProof(await proof({ htu }), encoded, rules)
  })

  it('refuses an htu with a query or fragment, or for another origin or path (item 9)', async () => {
    const other = [
      `${ORIGIN}/orders?limit=5`,
      `${ORIGIN}/orders?`,
      `${ORIGIN}/orders#top`,
      'https://evil.example/orders',
      'http://api.example.com/orders',
      'https://api.example.com:8443/orders',
      'https://user@api.example.com/orders',
      `${ORIGIN}/Orders`,
      `${ORIGIN}/orders/`,
      `${ORIGIN}/%2Forders`,
      'orders',
    ]
    for (const htu of other) expect(expectInvalid(await proof({ htu }))).toContain('htu')
  })

  it('never reads a host from the request: an absolute-form target matches nothing', async () => {
    const absolute = { ...request, url: 'https://evil.example/orders' }
    expectInvalid(await proof({ htu: 'https://evil.example/orders' }), absolute)
    expectInvalid(await proof(), absolute)
    // A target that does not start with '/' would extend the configured host.
    const extended = { ...request, url: '.evil.example/orders' }
    expectInvalid(await proof({ htu: 'https://api.example.com.evil.example/orders' }), extended)
  })

  it('accepts iat from maxAge back to clockTolerance ahead, and nothing outside (item 11)', async () => {
    const at = (seconds: number) => proof({ iat: NOW / 1000 + seconds })
    checkDpopProof(await at(-60), request, rules)
    checkDpopProof(await at(5), request, rules)
    expect(expectInvalid(await at(-61))).toContain('too old')
    expect(expectInvalid(await at(6))).toContain('future')
    const wide = dpopRules({ origin: ORIGIN, maxAge: 300, clockTolerance: 30 })
    checkDpopProof(await at(-300), request, wide)
    checkDpopProof(await at(30), request, wide)
  })

  it('requires ath to be the hash of the presented access token (item 12)', async () => {
    expect(expectInvalid(await proof({ ath: undefined }))).toContain('ath')
    const other = createHash('sha256').update(`${TOKEN}x`).digest('base64url')
    expectInvalid(await proof({ ath: other }))
    // Without an access token (a token request), ath is not checked.
    checkDpopProof(await proof({ ath: undefined }), { ...request, accessToken: undefined }, rules)
  })

  it('gives each key its own thumbprint, so cnf.jkt binds the token to one key', async () => {
    const other = proofKey()
    const a = checkDpopProof(await proof(), request, rules)
    const b = checkDpopProof(await signProof(other, claims()), request, rules)
    expect(a.jkt).not.toBe(b.jkt)
  })

  it('with nonces, asks for the current one (use_dpop_nonce), only for an otherwise valid proof (item 10)', async () => {
    const nonces = new DpopNonces({ secret: 'a'.repeat(32) })
    const withNonces = dpopRules({ origin: ORIGIN, nonces })
    for (const nonce of [undefined, 'wrong', nonces.currentNonce(NOW - 600_000)]) {
      const value = await proof({ nonce })
      const error = refusal(() => checkDpopProof(value, request, withNonces))
      expect(error).toBeInstanceOf(UseDpopNonceError)
      expect(error.code).toBe('ERR_DPOP_NONCE_REQUIRED')
      expect(error.headers['DPoP-Nonce']).toBe(nonces.currentNonce(NOW))
      expect(error.challenge.startsWith('DPoP error="use_dpop_nonce"')).toBe(true)
    }
    const nonce = nonces.currentNonce(NOW)
    expect(checkDpopProof(await proof({ nonce }), request, withNonces).nonce).toBe(nonce)
    // A proof that fails another check is invalid, nonce or not.
    expectInvalid(await proof({ htm: 'POST' }), request, withNonces)
  })

  it('renders a DPoP challenge with algs, and no proof content in the description', async () => {
    const value = await proof({ jti: 'secret-jti', htm: 'POST' })
    const error = refusal(() => checkDpopProof(value, request, rules))
    const [challenge, ...others] = parseWwwAuthenticate(error.headers['WWW-Authenticate'] ?? '')
    expect(others).toEqual([])
    expect(challenge?.scheme).toBe('DPoP')
    expect(challenge?.params).toEqual({
      error: 'invalid_dpop_proof',
      error_description: error.message,
      algs: DPOP_ALGORITHMS.join(' '),
    })
    expect(error.body).toEqual({ error: 'invalid_dpop_proof', error_description: error.message })
    expect(error.message).not.toMatch(/secret-jti|POST|eyJ/)
  })

  it('checks its options once: an origin only, asymmetric algorithms only', () => {
    const bad = [
      { origin: 'https://api.example.com/v1' },
      { origin: 'https://api.example.com?x=1' },
      { origin: 'ftp://api.example.com' },
      { origin: 'api.example.com' },
      { origin: ORIGIN, algorithms: ['HS256'] },
      { origin: ORIGIN, algorithms: ['none'] },
      { origin: ORIGIN, algorithms: [] },
      { origin: ORIGIN, maxAge: 0 },
    ]
    for (const options of bad) expect(() => dpopRules(options)).toThrow(TypeError)
    expect(dpopRules({ origin: 'HTTPS://API.example.com:443/' }).origin).toBe(ORIGIN)
    expect(dpopRules({ origin: 'http://127.0.0.1:3000' }).origin).toBe('http://127.0.0.1:3000')
  })
})
