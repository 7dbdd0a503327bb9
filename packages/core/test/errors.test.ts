import { describe, expect, it } from 'vitest'
import {
  BearerGuardError,
  InsufficientScopeError,
  InvalidDpopProofError,
  InvalidRequestError,
  InvalidTokenError,
  KeySetUnavailableError,
  MissingCredentialsError,
  UseDpopNonceError,
  isBearerGuardError,
  type AnyBearerGuardError,
} from '../src/index.js'

describe('errors render RFC 6750 challenges and bodies', () => {
  it('sends no error attribute and no body error without credentials (RFC 6750 §3.1)', () => {
    const error = new MissingCredentialsError({ realm: 'api' })
    expect(error.status).toBe(401)
    expect(error.headers).toEqual({ 'WWW-Authenticate': 'Bearer realm="api"' })
    expect(error.body).toEqual({ error_description: error.message })
    expect(new MissingCredentialsError().challenge).toBe('Bearer')
  })

  it('renders error, error_description and scope; replaces " and \\ in descriptions, which RFC 6750 §3 forbids even escaped (issue 9, item 1)', () => {
    const error = new InsufficientScopeError('needs "a" \\ b', ['orders:write', 'orders:admin'], {
      realm: 'my "api"',
    })
    // The realm is a quoted-string auth-param (RFC 9110 §11.2) and may be escaped; the
    // description may not hold the characters at all.
    expect(error.challenge).toBe(
      'Bearer realm="my \\"api\\"", error="insufficient_scope", error_description="needs \'a\' / b", scope="orders:write orders:admin"',
    )
    expect(error.status).toBe(403)
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      error: 'insufficient_scope',
      error_description: "needs 'a' / b",
    })
  })

  it('replaces characters RFC 6750 does not allow in challenge parameters', () => {
    const error = new InvalidRequestError('line\r\nbreak é', { realm: 'r\u0000' })
    expect(error.challenge).toBe(
      'Bearer realm="r?", error="invalid_request", error_description="line??break ?"',
    )
    expect(error.headers['WWW-Authenticate']).not.toMatch(/[\r\n]/)
  })

  it('gives 503 a Retry-After and a temporarily_unavailable body, without invalid_token', () => {
    const error = new KeySetUnavailableError('keys unavailable', 9.2, { realm: 'api' })
    expect(error.status).toBe(503)
    expect(error.headers).toEqual({ 'WWW-Authenticate': 'Bearer realm="api"', 'Retry-After': '10' })
    expect(error.body.error).toBe('temporarily_unavailable')
    expect(error.challenge).not.toContain('invalid_token')
  })

  it('exposes status, statusCode, expose and a stable code for framework error handlers', () => {
    const error = new InvalidTokenError('ERR_TOKEN_EXPIRED', 'expired', { cause: new Error('x') })
    expect(error.statusCode).toBe(401)
    expect(error.expose).toBe(true)
    expect(error.name).toBe('InvalidTokenError')
    expect(error.cause).toBeInstanceOf(Error)
    const codes = (e: AnyBearerGuardError): string => {
      switch (e.code) {
        case 'ERR_MISSING_CREDENTIALS':
        case 'ERR_INVALID_REQUEST':
        case 'ERR_INSUFFICIENT_SCOPE':
        case 'ERR_INSUFFICIENT_USER_AUTHENTICATION':
        case 'ERR_KEYSET_UNAVAILABLE':
        case 'ERR_DPOP_PROOF_INVALID':
        case 'ERR_DPOP_NONCE_REQUIRED':
          return 'other'
        case 'ERR_TOKEN_MALFORMED':
        case 'ERR_TOKEN_TOO_LARGE':
        case 'ERR_TOKEN_ALG_NOT_ALLOWED':
        case 'ERR_TOKEN_TYPE_INVALID':
        case 'ERR_TOKEN_CRIT_UNSUPPORTED':
        case 'ERR_TOKEN_KEY_NOT_FOUND':
        case 'ERR_TOKEN_SIGNATURE_INVALID':
        case 'ERR_TOKEN_EXPIRED':
        case 'ERR_TOKEN_NOT_YET_VALID':
        case 'ERR_TOKEN_TOO_OLD':
        case 'ERR_TOKEN_ISSUER_INVALID':
        case 'ERR_TOKEN_AUDIENCE_INVALID':
        case 'ERR_TOKEN_CLAIM_INVALID':
        case 'ERR_TOKEN_BINDING_MISMATCH':
        case 'ERR_TOKEN_REVOKED':
        case 'ERR_TOKEN_INACTIVE':
        case 'ERR_DPOP_REQUIRED':
          return e.error
      }
    }
    expect(codes(error)).toBe('invalid_token')
  })

  it('recognises errors from another installed copy through the global brand', () => {
    const foreign = Object.create(null) as object
    Object.defineProperty(foreign, Symbol.for('bearer-guard.error'), { value: true })
    expect(foreign instanceof BearerGuardError).toBe(true)
    expect(isBearerGuardError(foreign)).toBe(true)
    expect(isBearerGuardError(new Error('plain'))).toBe(false)
    expect(isBearerGuardError(null)).toBe(false)
    expect(new InvalidRequestError('x') instanceof InvalidRequestError).toBe(true)
    expect(new InvalidRequestError('x') instanceof InvalidTokenError).toBe(false)
  })
})

describe('DPoP errors render DPoP challenges (RFC 9449 §7.1, §9)', () => {
  it('renders invalid_dpop_proof in a DPoP challenge with realm and algs', () => {
    const error = new InvalidDpopProofError('The DPoP proof is too old', {
      realm: 'api',
      algs: ['ES256', 'EdDSA'],
    })
    expect(error.scheme).toBe('DPoP')
    expect(error.status).toBe(401)
    expect(error.challenge).toBe(
      'DPoP realm="api", error="invalid_dpop_proof", error_description="The DPoP proof is too old", algs="ES256 EdDSA"',
    )
    expect(error.body).toEqual({ error: 'invalid_dpop_proof', error_description: error.message })
    expect(new InvalidDpopProofError('x').challenge).toBe(
      'DPoP error="invalid_dpop_proof", error_description="x"',
    )
  })

  it('sends the nonce to retry with in DPoP-Nonce, uncacheable, and refuses a nonce outside NQCHAR', () => {
    const error = new UseDpopNonceError('eyJ7S_zG.eyJH0-Z.HX4w-7v', 'nonce required')
    expect(error.headers).toEqual({
      'WWW-Authenticate': 'DPoP error="use_dpop_nonce", error_description="nonce required"',
      'DPoP-Nonce': 'eyJ7S_zG.eyJH0-Z.HX4w-7v',
      'Cache-Control': 'no-store',
    })
    expect(error.body.error).toBe('use_dpop_nonce')
    for (const nonce of ['', 'a b', 'a"b', 'a\r\nSet-Cookie: x', 'é']) {
      expect(() => new UseDpopNonceError(nonce, 'x')).toThrow(TypeError)
    }
  })

  it('renders any error in the scheme the request used: invalid_token in DPoP (Figure 16)', () => {
    const error = new InvalidTokenError('ERR_TOKEN_BINDING_MISMATCH', 'Invalid DPoP key binding', {
      scheme: 'DPoP',
    })
    expect(error.challenge).toBe(
      'DPoP error="invalid_token", error_description="Invalid DPoP key binding"',
    )
    expect(new InvalidTokenError('ERR_TOKEN_EXPIRED', 'x').scheme).toBe('Bearer')
    expect(new MissingCredentialsError({ scheme: 'DPoP' }).challenge).toBe('DPoP')
  })
})
