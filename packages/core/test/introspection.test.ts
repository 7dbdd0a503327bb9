/**
 * Opaque tokens verified by introspection (RFC 7662) against the real test issuer: what an
 * answer must say to be accepted, and that its members go through the checks, policies and
 * binding a JWT's claims go through.
 */
import { createTestIssuer, generateDpopKey, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  authorize,
  createAccessTokenValidator,
  InsufficientScopeError,
  type AccessTokenValidatorOptions,
  type IntrospectionSettings,
} from '../src/index.js'
import { AUDIENCE, expectInvalid, manualClock, rejection } from './support/helpers.js'

const CLIENT = { clientId: 'orders-api', clientSecret: 'p@ss word:1' }
const clock = manualClock()
let issuer: TestIssuer

beforeAll(async () => {
  issuer = await createTestIssuer({
    clock: clock.now,
    // Only Basic authentication works for this client: a validator that used another method
    // would get 401 from the endpoint, and its requests 503.
    clients: [{ ...CLIENT, tokenEndpointAuthMethod: 'client_secret_basic' }],
  })
})
afterAll(() => issuer.close())

function validator(
  introspection: Partial<IntrospectionSettings> = {},
  options: Partial<AccessTokenValidatorOptions> = {},
) {
  return createAccessTokenValidator({
    issuer: issuer.issuer,
    audience: AUDIENCE,
    clock: clock.now,
    introspection: { ...CLIENT, ...introspection },
    ...options,
  })
}

const seconds = () => Math.floor(clock.now() / 1000)

describe('RFC 7662 §2.2: an active answer', () => {
  it('accepts an opaque token the issuer says is active, with its members as claims', async () => {
    issuer.resetCounts()
    const token = issuer.mintOpaque({ scope: 'orders:read orders:write', sub: 'alice' })
    const auth = await validator().verify(token)
    expect(auth.claims).toMatchObject({
      active: true,
      iss: issuer.issuer,
      sub: 'alice',
      aud: AUDIENCE,
      client_id: 'test-client',
      token_type: 'Bearer',
    })
    expect([...auth.scopes]).toEqual(['orders:read', 'orders:write'])
    // No JOSE header and no local signature check: the issuer vouched for the token.
    expect(auth.header).toEqual({ alg: 'introspection' })
    expect(auth.token).toBe(token)
    expect(Object.isFrozen(auth.claims)).toBe(true)
    expect(issuer.requests.introspection).toBe(1)
  })

  it('verifyRequest takes the token from the Authorization header, as for a JWT', async () => {
    const token = issuer.mintOpaque({ sub: 'bob' })
    const auth = await validator().verifyRequest({
      method: 'GET',
      url: '/orders',
      headers: { authorization: `Bearer ${token}` },
    })
    expect(auth.claims.sub).toBe('bob')
  })

  it('route policies read the scopes of the answer (403 insufficient_scope)', async () => {
    const auth = await validator().verify(issuer.mintOpaque({ scope: 'orders:read' }))
    authorize(auth, { allOf: ['orders:read'] })
    const refused = await rejection(
      Promise.resolve().then(() => {
        authorize(auth, { allOf: ['orders:write'] })
      }),
    )
    expect(refused).toBeInstanceOf(InsufficientScopeError)
    expect(refused.params.scope).toBe('orders:write')
  })

  it('reads scopes from the configured scope claims', async () => {
    const token = issuer.mintOpaque({ permissions: ['read:all'] })
    const auth = await validator({}, { scopeClaims: ['permissions'] }).verify(token)
    expect([...auth.scopes]).toEqual(['read:all'])
  })
})

describe('RFC 7662 §2.2: an answer that is not active', () => {
  it('a revoked token: 401 invalid_token, ERR_TOKEN_INACTIVE', async () => {
    const token = issuer.mintOpaque()
    issuer.revoke(token)
    const error = await expectInvalid(validator().verify(token), 'ERR_TOKEN_INACTIVE')
    expect(error.message).not.toContain(token)
  })

  it('a token the issuer never issued: 401', async () => {
    await expectInvalid(validator().verify('bm90LWEtdG9rZW4'), 'ERR_TOKEN_INACTIVE')
  })

  it('a token expired at the issuer: 401', async () => {
    const token = issuer.mintOpaque({ exp: seconds() - 1 })
    await expectInvalid(validator().verify(token), 'ERR_TOKEN_INACTIVE')
  })
})

describe('the members of an active answer are checked as a JWT claims are', () => {
  it('iss, when present, must be the issuer (RFC 9068 §4 as for a JWT)', async () => {
    const token = issuer.mintOpaque({ iss: 'https://other.example.com' })
    await expectInvalid(validator().verify(token), 'ERR_TOKEN_ISSUER_INVALID')
  })

  it('iss, when absent, is the issuer that answered', async () => {
    const auth = await validator().verify(issuer.mintOpaque({ iss: undefined }))
    expect(auth.claims.iss).toBe(issuer.issuer)
  })

  it('aud, when present, must name this API (a string or an array)', async () => {
    await expectInvalid(
      validator().verify(issuer.mintOpaque({ aud: 'https://other.example.com' })),
      'ERR_TOKEN_AUDIENCE_INVALID',
    )
    await expectInvalid(
      validator().verify(issuer.mintOpaque({ aud: ['https://other.example.com'] })),
      'ERR_TOKEN_AUDIENCE_INVALID',
    )
    const auth = await validator().verify(
      issuer.mintOpaque({ aud: ['https://other.example.com', AUDIENCE] }),
    )
    expect(auth.claims.aud).toEqual(['https://other.example.com', AUDIENCE])
  })

  it('aud, when absent, is accepted unless requireAudience; the result carries none', async () => {
    const token = issuer.mintOpaque({ aud: undefined })
    const auth = await validator().verify(token)
    expect(auth.claims).not.toHaveProperty('aud')
    await expectInvalid(
      validator({ requireAudience: true }).verify(token),
      'ERR_TOKEN_AUDIENCE_INVALID',
    )
  })

  it('exp and nbf are checked with the validator clock too, not only by the issuer', async () => {
    // The issuer's clock is the shared one; an answer whose exp is past by the validator's own
    // clock (beyond the tolerance) is refused even though the issuer said active.
    const late = createAccessTokenValidator({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      clock: () => clock.now() + 600_000,
      introspection: CLIENT,
    })
    await expectInvalid(late.verify(issuer.mintOpaque()), 'ERR_TOKEN_EXPIRED')
    const early = createAccessTokenValidator({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      clock: () => clock.now() - 600_000,
      introspection: CLIENT,
    })
    await expectInvalid(early.verify(issuer.mintOpaque()), 'ERR_TOKEN_NOT_YET_VALID')
  })

  it('a NumericDate that is not a number is invalid (RFC 7519 §2)', async () => {
    await expectInvalid(
      validator().verify(issuer.mintOpaque({ exp: '9999999999' })),
      'ERR_TOKEN_CLAIM_INVALID',
    )
  })

  it('an answer without exp is accepted (RFC 7662 makes it optional); maxTokenAge needs iat', async () => {
    const token = issuer.mintOpaque({ exp: undefined })
    expect((await validator().verify(token)).claims.exp).toBeUndefined()
    await expectInvalid(
      validator({}, { maxTokenAge: 60 }).verify(issuer.mintOpaque({ iat: undefined })),
      'ERR_TOKEN_CLAIM_INVALID',
    )
  })

  it('client_id must be a string, required claims and values apply, ID-token shapes are refused', async () => {
    await expectInvalid(
      validator().verify(issuer.mintOpaque({ client_id: 7 })),
      'ERR_TOKEN_CLAIM_INVALID',
    )
    await expectInvalid(
      validator({}, { requiredClaimValues: { tenant: 'acme' } }).verify(issuer.mintOpaque()),
      'ERR_TOKEN_CLAIM_INVALID',
    )
    await expectInvalid(
      validator().verify(issuer.mintOpaque({ nonce: 'n' })),
      'ERR_TOKEN_TYPE_INVALID',
    )
  })
})

describe('cnf binds an introspected token as it binds a JWT (RFC 9449, RFC 8705)', () => {
  const origin = 'https://api.example.com'

  it('a DPoP-bound token needs the DPoP scheme and a proof by its key', async () => {
    const key = await generateDpopKey()
    const token = issuer.mintOpaque({ scope: 'orders:read' }, { dpop: key })
    const guarded = validator({}, { dpop: { origin } })
    // RFC 9449 §7.2: presented as a bearer token, it is refused.
    await expectInvalid(
      guarded.verifyRequest({
        method: 'GET',
        url: '/orders',
        headers: { authorization: `Bearer ${token}` },
      }),
      'ERR_TOKEN_BINDING_MISMATCH',
    )
    const proof = await key.proof({ htm: 'GET', htu: `${origin}/orders`, accessToken: token })
    const auth = await guarded.verifyRequest({
      method: 'GET',
      url: '/orders',
      headers: { authorization: `DPoP ${token}`, dpop: proof },
    })
    expect(auth.claims.token_type).toBe('DPoP')
    // Cached now: a second request still needs its own fresh proof.
    await expectInvalid(
      guarded.verifyRequest({
        method: 'GET',
        url: '/orders',
        headers: { authorization: `Bearer ${token}` },
      }),
      'ERR_TOKEN_BINDING_MISMATCH',
    )
  })

  it('a certificate-bound token without its certificate is refused (RFC 8705 §3)', async () => {
    const token = issuer.mintOpaque(
      {},
      { certificate: { thumbprint: 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' } },
    )
    await expectInvalid(
      validator().verifyRequest({ headers: { authorization: `Bearer ${token}` } }),
      'ERR_TOKEN_BINDING_MISMATCH',
    )
  })
})

describe('which tokens are introspected', () => {
  it('JWTs are still verified locally: no call to the introspection endpoint', async () => {
    issuer.resetCounts()
    const auth = await validator().verify(await issuer.mint({ scope: 'orders:read' }))
    expect(auth.header.alg).toBe('RS256')
    expect(issuer.requests.introspection).toBe(0)
  })

  it('a JWT naming an issuer that is not accepted is refused without a call', async () => {
    issuer.resetCounts()
    const other = await createTestIssuer()
    try {
      // One issuer: the JWT path refuses it (no key of the issuer signed it), as before.
      const error = await rejection(validator().verify(await other.mint()))
      expect(error.status).toBe(401)
    } finally {
      await other.close()
    }
    expect(issuer.requests.introspection).toBe(0)
  })

  it("tokens: 'jwt' introspects this issuer's JWTs: a revoked one is refused at once", async () => {
    const jwt = await issuer.mint({ scope: 'orders:read' })
    const introspecting = validator({ tokens: 'jwt' })
    const auth = await introspecting.verify(jwt)
    // The JWT's own header; the claims of the answer.
    expect(auth.header.typ).toBe('at+jwt')
    expect(auth.claims.active).toBe(true)
    const revoked = await issuer.mint()
    issuer.revoke(revoked)
    await expectInvalid(introspecting.verify(revoked), 'ERR_TOKEN_INACTIVE')
    // Opaque tokens are not taken with 'jwt' alone: they are malformed JWTs here.
    await expectInvalid(introspecting.verify(issuer.mintOpaque()), 'ERR_TOKEN_MALFORMED')
  })

  it("tokens: 'all' takes both", async () => {
    const both = validator({ tokens: 'all' })
    expect((await both.verify(issuer.mintOpaque())).header.alg).toBe('introspection')
    expect((await both.verify(await issuer.mint())).claims.active).toBe(true)
  })

  it('without introspection, an opaque token is a malformed JWT, as before', async () => {
    const plain = createAccessTokenValidator({ issuer: issuer.issuer, audience: AUDIENCE })
    await expectInvalid(plain.verify(issuer.mintOpaque()), 'ERR_TOKEN_MALFORMED')
  })

  it('several issuers: opaque tokens go to the one that takes them; JWTs to their own', async () => {
    const second = await createTestIssuer({ clients: [CLIENT] })
    try {
      const many = createAccessTokenValidator({
        issuer: [issuer.issuer, { issuer: second.issuer, introspection: CLIENT }],
        audience: AUDIENCE,
        clock: clock.now,
      })
      issuer.resetCounts()
      const auth = await many.verify(second.mintOpaque())
      expect(auth.claims.iss).toBe(second.issuer)
      expect(second.requests.introspection).toBe(1)
      // An opaque token of the first issuer is unknown to the second: never sent to the first.
      await expectInvalid(many.verify(issuer.mintOpaque()), 'ERR_TOKEN_INACTIVE')
      expect(issuer.requests.introspection).toBe(0)
      expect((await many.verify(await issuer.mint())).claims.iss).toBe(issuer.issuer)
    } finally {
      await second.close()
    }
  })

  it('an issuerResolver entry may introspect its JWTs', async () => {
    const resolved = createAccessTokenValidator({
      issuerResolver: {
        resolve: (iss) =>
          iss === issuer.issuer
            ? { issuer: iss, introspection: { ...CLIENT, tokens: 'jwt' } }
            : undefined,
      },
      audience: AUDIENCE,
      clock: clock.now,
    })
    const jwt = await issuer.mint()
    issuer.revoke(jwt)
    await expectInvalid(resolved.verify(jwt), 'ERR_TOKEN_INACTIVE')
  })
})

describe('readiness', () => {
  it('ready() finds the introspection endpoint by discovery', async () => {
    issuer.resetCounts()
    await validator().ready()
    // Keys (discovery + JWKS) and the introspection endpoint (discovery).
    expect(issuer.requests.discovery).toBe(2)
    expect(issuer.requests.jwks).toBe(1)
  })
})
