/**
 * The binding stage wired into the validator (issue 11): DPoP-bound tokens need a fresh, valid
 * proof by their key on every request, cache hits included (RFC 9449 §4.3, §7, §11.1);
 * certificate-bound tokens their certificate (RFC 8705 §3); revoked tokens are refused.
 */
import {
  DPOP_PROOF_FLAWS,
  createTestIssuer,
  generateClientCertificate,
  generateDpopKey,
  type DpopKey,
  type TestIssuer,
} from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseWwwAuthenticate } from '../../../test/support/www-authenticate.js'
import {
  BearerGuardError,
  authorize,
  createAccessTokenValidator,
  type AccessTokenValidatorOptions,
  type BearerRequest,
} from '../src/index.js'
import { MemoryRevocationStore } from '../src/stores/revocation.js'
import { AUDIENCE, rejection } from './support/helpers.js'

const ORIGIN = 'https://api.example.com'
let issuer: TestIssuer
let key: DpopKey

beforeAll(async () => {
  issuer = await createTestIssuer()
  key = await generateDpopKey('ES256')
})
afterAll(async () => {
  await issuer.close()
})

const make = (options: Partial<AccessTokenValidatorOptions> = {}) =>
  createAccessTokenValidator({
    issuer: issuer.issuer,
    audience: AUDIENCE,
    dpop: { origin: ORIGIN },
    ...options,
  })

async function dpopRequest(
  token: string,
  proof?: string | string[],
  path = '/orders?limit=5',
): Promise<BearerRequest> {
  const header =
    proof ?? (await key.proof({ htm: 'GET', htu: `${ORIGIN}/orders`, accessToken: token }))
  return { method: 'GET', url: path, headers: { authorization: `DPoP ${token}`, dpop: header } }
}

function challenges(error: BearerGuardError) {
  return parseWwwAuthenticate(error.headers['WWW-Authenticate'] as string)
}

describe('DPoP (RFC 9449)', () => {
  it('accepts a bound token with a valid proof, and needs a new proof for the cached token each time', async () => {
    const validator = make()
    const token = await issuer.mint({ scope: 'orders:read' }, { dpop: key })
    const first = await dpopRequest(token)
    expect((await validator.verifyRequest(first)).claims.sub).toBe('user-123')
    // §11.1: the same proof again is a replay, although the token is now cached.
    const replay = await rejection(validator.verifyRequest(first))
    expect(replay.code).toBe('ERR_DPOP_PROOF_INVALID')
    expect(challenges(replay)[0]).toMatchObject({
      scheme: 'DPoP',
      params: { error: 'invalid_dpop_proof' },
    })
    expect(await validator.verifyRequest(await dpopRequest(token))).toBeTruthy()
  })

  it.each(DPOP_PROOF_FLAWS)('refuses a proof with the flaw %s', async (flaw) => {
    const validator = make()
    const token = await issuer.mint({}, { dpop: key })
    const proof = await key.proof({ htm: 'GET', htu: `${ORIGIN}/orders`, accessToken: token, flaw })
    const error = await rejection(validator.verifyRequest(await dpopRequest(token, proof)))
    expect(error.status).toBe(401)
    expect(error.scheme).toBe('DPoP')
    expect(['ERR_DPOP_PROOF_INVALID', 'ERR_TOKEN_BINDING_MISMATCH']).toContain(error.code)
  })

  it('refuses a missing proof (401) and several proofs (400)', async () => {
    const validator = make()
    const token = await issuer.mint({}, { dpop: key })
    const missing = await rejection(
      validator.verifyRequest({
        method: 'GET',
        url: '/orders',
        headers: { authorization: `DPoP ${token}` },
      }),
    )
    expect(missing.code).toBe('ERR_DPOP_PROOF_INVALID')
    const proof = await key.proof({ htm: 'GET', htu: `${ORIGIN}/orders`, accessToken: token })
    const twice = await rejection(validator.verifyRequest(await dpopRequest(token, [proof, proof])))
    expect(twice.status).toBe(400)
    const joined = await rejection(
      validator.verifyRequest(await dpopRequest(token, `${proof}, ${proof}`)),
    )
    expect(joined.status).toBe(400)
  })

  it('refuses a DPoP-bound token sent as Bearer (RFC 9449 §7.2), in a Bearer challenge', async () => {
    const token = await issuer.mint({}, { dpop: key })
    const error = await rejection(
      make().verifyRequest({ headers: { authorization: `Bearer ${token}` } }),
    )
    expect(error.code).toBe('ERR_TOKEN_BINDING_MISMATCH')
    expect(challenges(error)[0]?.scheme).toBe('Bearer')
  })

  it('refuses an unbound token with the DPoP scheme, even with a valid proof (documented choice)', async () => {
    const token = await issuer.mint()
    const error = await rejection(make().verifyRequest(await dpopRequest(token)))
    expect(error.code).toBe('ERR_TOKEN_BINDING_MISMATCH')
    expect(error.scheme).toBe('DPoP')
  })

  it('offers a second challenge, DPoP algs="…", on every 401 while DPoP is enabled (§7.1)', async () => {
    const error = await rejection(make().verifyRequest({ headers: {} }))
    const [bearer, dpop, ...rest] = challenges(error)
    expect(rest).toEqual([])
    expect(bearer?.scheme).toBe('Bearer')
    expect(dpop?.scheme).toBe('DPoP')
    expect(dpop?.params.algs?.split(' ')).toEqual(
      expect.arrayContaining(['ES256', 'EdDSA', 'RS256']),
    )
  })

  it('with DPoP off: the DPoP scheme is unknown (no credentials), and no DPoP challenge', async () => {
    const off = make({ dpop: false })
    const token = await issuer.mint({}, { dpop: key })
    const error = await rejection(off.verifyRequest(await dpopRequest(token)))
    expect(error.code).toBe('ERR_MISSING_CREDENTIALS')
    expect(challenges(error).map((c) => c.scheme)).toEqual(['Bearer'])
  })

  it('with DPoP required: a bearer token is refused in a DPoP challenge', async () => {
    const required = make({ dpop: { origin: ORIGIN, required: true } })
    const error = await rejection(
      required.verifyRequest({ headers: { authorization: `Bearer ${await issuer.mint()}` } }),
    )
    expect(error.code).toBe('ERR_DPOP_REQUIRED')
    expect(challenges(error)[0]?.scheme).toBe('DPoP')
  })

  it("per route (policy dpop: 'required'): bearer tokens refused in a DPoP challenge, bound tokens pass (§7.1)", async () => {
    const validator = make()
    const route = { allOf: ['orders:read'], dpop: 'required' } as const
    const bearerAuth = await validator.verifyRequest({
      headers: { authorization: `Bearer ${await issuer.mint({ scope: 'orders:read' })}` },
    })
    const error = await rejection(
      Promise.resolve().then(() => {
        authorize(bearerAuth, route)
      }),
    )
    expect(error.code).toBe('ERR_DPOP_REQUIRED')
    expect(error.status).toBe(401)
    const [challenge] = challenges(error)
    expect(challenge).toMatchObject({ scheme: 'DPoP', params: { error: 'invalid_token' } })
    // The other routes of the same validator still take the bearer token.
    expect(() => {
      authorize(bearerAuth, { allOf: ['orders:read'] })
    }).not.toThrow()
    const bound = await issuer.mint({ scope: 'orders:read' }, { dpop: key })
    const dpopAuth = await validator.verifyRequest(await dpopRequest(bound))
    expect(() => {
      authorize(dpopAuth, route)
    }).not.toThrow()
    // A certificate-bound token is sender-constrained too (as with dpop.required).
    const certificate = await generateClientCertificate()
    const proxied = make({ mtls: { certificateHeader: 'X-Client-Cert' } })
    const certAuth = await proxied.verifyRequest({
      headers: {
        authorization: `Bearer ${await issuer.mint({ scope: 'orders:read' }, { certificate })}`,
        'x-client-cert': encodeURIComponent(certificate.certPem),
      },
    })
    expect(() => {
      authorize(certAuth, route)
    }).not.toThrow()
    // A route can only tighten: nothing else is accepted.
    expect(() => {
      authorize(dpopAuth, { dpop: 'off' } as never)
    }).toThrow(/dpop/)
  })

  it('with nonces: use_dpop_nonce and a DPoP-Nonce header, then the nonce is accepted (§9)', async () => {
    const validator = make({ dpop: { origin: ORIGIN, nonce: { secret: 'x'.repeat(32) } } })
    const token = await issuer.mint({}, { dpop: key })
    const error = await rejection(validator.verifyRequest(await dpopRequest(token)))
    expect(error.code).toBe('ERR_DPOP_NONCE_REQUIRED')
    const nonce = error.headers['DPoP-Nonce'] as string
    expect(nonce).toMatch(/^[\x21\x23-\x5B\x5D-\x7E]+$/)
    const proof = await key.proof({
      htm: 'GET',
      htu: `${ORIGIN}/orders`,
      accessToken: token,
      nonce,
    })
    expect(await validator.verifyRequest(await dpopRequest(token, proof))).toBeTruthy()
  })

  it('fails closed when the replay store fails', async () => {
    const broken = make({
      dpop: {
        origin: ORIGIN,
        replayStore: {
          claimOnce: () => Promise.reject(new Error('store down')),
        },
      },
    })
    const token = await issuer.mint({}, { dpop: key })
    const error = await rejection(broken.verifyRequest(await dpopRequest(token)))
    expect(error.code).toBe('ERR_DPOP_PROOF_INVALID')
  })
})

describe('certificate-bound tokens (RFC 8705 §3)', () => {
  it('needs the certificate, from a header only when one is configured', async () => {
    const certificate = await generateClientCertificate()
    const other = await generateClientCertificate()
    const token = await issuer.mint({}, { certificate })
    const bearer = { authorization: `Bearer ${token}` }
    const noCertificate = await rejection(make().verifyRequest({ headers: bearer }))
    expect(noCertificate.code).toBe('ERR_TOKEN_BINDING_MISMATCH')
    const proxied = make({ mtls: { certificateHeader: 'X-Client-Cert' } })
    const header = (pem: string) => ({ ...bearer, 'x-client-cert': encodeURIComponent(pem) })
    expect(await proxied.verifyRequest({ headers: header(certificate.certPem) })).toBeTruthy()
    const wrong = await rejection(proxied.verifyRequest({ headers: header(other.certPem) }))
    expect(wrong.code).toBe('ERR_TOKEN_BINDING_MISMATCH')
    // Without a configured header, a header is never trusted.
    const untrusted = await rejection(
      make().verifyRequest({ headers: header(certificate.certPem) }),
    )
    expect(untrusted.code).toBe('ERR_TOKEN_BINDING_MISMATCH')
  })
})

describe('revocation, consulted on every request', () => {
  it('refuses a revoked jti and a subject revoked before the token, cache hits included', async () => {
    const revocation = new MemoryRevocationStore()
    const validator = make({ revocation })
    const token = await issuer.mint({ jti: 'j-1', sub: 'alice' })
    const request = { headers: { authorization: `Bearer ${token}` } }
    expect(await validator.verifyRequest(request)).toBeTruthy()
    revocation.revoke('j-1', Date.now() + 600_000)
    expect((await rejection(validator.verifyRequest(request))).code).toBe('ERR_TOKEN_REVOKED')
    const bobs = await issuer.mint({ jti: 'j-2', sub: 'bob' })
    const bob = { headers: { authorization: `Bearer ${bobs}` } }
    expect(await validator.verifyRequest(bob)).toBeTruthy()
    revocation.revokeSubject(issuer.issuer, 'bob', Date.now() + 1000)
    expect((await rejection(validator.verifyRequest(bob))).code).toBe('ERR_TOKEN_REVOKED')
  })
})

describe('errors of a DPoP request go in the DPoP challenge (RFC 9449 §7.1)', () => {
  it('an expired token and a missing scope, sent with DPoP, are refused in DPoP challenges', async () => {
    const validator = make()
    const expired = await issuer.mint({ exp: Math.floor(Date.now() / 1000) - 3600 }, { dpop: key })
    const error = await rejection(validator.verifyRequest(await dpopRequest(expired)))
    expect(error.code).toBe('ERR_TOKEN_EXPIRED')
    expect(challenges(error)[0]).toMatchObject({
      scheme: 'DPoP',
      params: { error: 'invalid_token' },
    })
    const token = await issuer.mint({}, { dpop: key })
    const auth = await validator.verifyRequest(await dpopRequest(token))
    const forbidden = await rejection(
      Promise.resolve().then(() => {
        authorize(auth, { allOf: ['orders:write'] })
      }),
    )
    expect(challenges(forbidden)[0]?.scheme).toBe('DPoP')
  })
})
