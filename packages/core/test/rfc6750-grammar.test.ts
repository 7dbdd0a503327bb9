/**
 * Every error code bearer-guard can produce, rendered and checked against the grammar of
 * RFC 6750 §3 itself, not against our own output (issue 9, item 1):
 *
 *   "Values for the "error" and "error_description" attributes … MUST NOT include characters
 *    outside the set %x20-21 / %x23-5B / %x5D-7E."
 *   "Values for the "scope" attribute … MUST NOT include characters outside the set %x21 /
 *    %x23-5B / %x5D-7E for representing scope values and %x20 for delimiters between scope
 *    values."
 *
 * So `"` and `\` never appear in those values, escaped or not: the raw header must carry each
 * value between plain DQUOTEs, with no quoted-pair inside.
 */
import { createTestIssuer, encodeToken, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseWwwAuthenticate } from '../../../test/support/www-authenticate.js'
import {
  BearerGuardError,
  authorize,
  createAccessTokenValidator,
  type AccessTokenValidatorOptions,
  type BearerGuardErrorCode,
  type VerifiedAccessToken,
} from '../src/index.js'
import { checkDpopProof, dpopRules } from '../src/binding/dpop.js'
import { checkCertificateBinding, certificateSource } from '../src/binding/mtls.js'
import { DpopNonces } from '../src/binding/nonce.js'
import { proofKey, signProof } from './support/dpop.js'
import { AUDIENCE, rejection } from './support/helpers.js'

const ERROR = /^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/
const ERROR_DESCRIPTION = /^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+(?: [\x21\x23-\x5B\x5D-\x7E]+)*$/
// RFC 9470 §3: acr_values is a space-separated list (OIDC Core §3.1.2.1), max_age a number of
// seconds (a non-negative integer).
const ACR_VALUES = SCOPE
const MAX_AGE = /^[0-9]+$/

function checkGrammar(error: BearerGuardError): void {
  const raw = error.headers['WWW-Authenticate'] as string
  const [challenge, ...others] = parseWwwAuthenticate(raw)
  expect(others).toEqual([])
  // Bearer, or DPoP for the RFC 9449 errors, whose parameters follow the same grammar.
  expect(challenge?.scheme).toBe(error.scheme)
  const params = challenge?.params ?? {}
  for (const [name, grammar] of [
    ['error', ERROR],
    ['error_description', ERROR_DESCRIPTION],
    ['scope', SCOPE],
    ['algs', SCOPE],
    ['acr_values', ACR_VALUES],
    ['max_age', MAX_AGE],
  ] as const) {
    const value = params[name]
    if (value === undefined) continue
    expect(value, `${error.code} ${name}`).toMatch(grammar)
    // Sent as is: no quoted-pair was needed (or used) for it.
    expect(raw).toContain(`${name}="${value}"`)
  }
  // The JSON body says exactly what the challenge says.
  if (params.error_description !== undefined) {
    expect(error.body.error_description).toBe(params.error_description)
  }
}

describe('RFC 6750 §3: every error code renders attributes within the allowed characters', () => {
  let issuer: TestIssuer
  let down: TestIssuer
  const make = (options: Partial<AccessTokenValidatorOptions> = {}) =>
    createAccessTokenValidator({ issuer: issuer.issuer, audience: AUDIENCE, ...options })
  const now = () => Math.floor(Date.now() / 1000)
  const dpop = dpopRules({ origin: 'https://api.example.com' })
  const nonces = new DpopNonces()
  const dpopRequest = { method: 'GET', url: '/orders', now: Date.now() }
  const proof = (claims: Record<string, unknown>) =>
    signProof(proofKey(), {
      jti: 'j',
      htm: 'GET',
      htu: 'https://api.example.com/orders',
      ...claims,
    })

  beforeAll(async () => {
    issuer = await createTestIssuer()
    down = await createTestIssuer()
    down.fail('all', { kind: 'status', status: 500 })
  })
  afterAll(async () => {
    await issuer.close()
    await down.close()
  })

  async function verified(claims: Record<string, unknown>): Promise<VerifiedAccessToken> {
    return make().verify(await issuer.mint(claims))
  }

  function refusal(run: () => unknown): Promise<BearerGuardError> {
    return rejection(Promise.resolve().then(run))
  }

  // A Record over the code union: a new code fails to compile until it has scenarios here.
  const scenarios: Record<BearerGuardErrorCode, () => Promise<BearerGuardError>[]> = {
    ERR_MISSING_CREDENTIALS: () => [rejection(make().verifyRequest({ headers: {} }))],
    ERR_INVALID_REQUEST: () => [
      rejection(make().verifyRequest({ headers: { authorization: 'Bearer ' } })),
      rejection(make().verifyRequest({ headers: { authorization: 'Bearer a"b\\c' } })),
      rejection(make().verifyRequest({ headers: { authorization: ['Bearer a', 'Bearer b'] } })),
      rejection(
        make().verifyRequest({
          headers: { authorization: 'Bearer abc' },
          query: { access_token: 'x' },
        }),
      ),
    ],
    ERR_TOKEN_MALFORMED: () => [
      rejection(make().verify('abc')),
      rejection(make().verify('a.b.c.d.e')),
      rejection(make().verify(encodeToken({ header: { alg: 'RS256', kid: 7 }, payload: {} }))),
    ],
    ERR_TOKEN_TOO_LARGE: () => [rejection(make().verify('a'.repeat(9000)))],
    ERR_TOKEN_ALG_NOT_ALLOWED: () => [
      rejection(make().verify(encodeToken({ header: { alg: 'none' }, payload: {} }))),
    ],
    ERR_TOKEN_TYPE_INVALID: () => [
      issuer.mint({}, { header: { typ: 'id+jwt' } }).then((t) => rejection(make().verify(t))),
      issuer.mint({ nonce: 'n' }).then((t) => rejection(make().verify(t))),
    ],
    ERR_TOKEN_CRIT_UNSUPPORTED: () => [
      rejection(
        make().verify(
          encodeToken({
            header: { alg: 'RS256', crit: ['x'], x: 1 },
            payload: {},
            signature: 'AAAA',
          }),
        ),
      ),
    ],
    ERR_TOKEN_KEY_NOT_FOUND: () => [
      issuer
        .generateKey()
        .then((key) => issuer.mint({}, { key }))
        .then((t) => rejection(make().verify(t))),
    ],
    ERR_TOKEN_SIGNATURE_INVALID: () => [
      issuer.mint({}).then((t) => rejection(make().verify(`${t.slice(0, -4)}AAAA`))),
    ],
    ERR_TOKEN_EXPIRED: () => [
      issuer.mint({ exp: now() - 100 }).then((t) => rejection(make().verify(t))),
    ],
    ERR_TOKEN_NOT_YET_VALID: () => [
      issuer.mint({ nbf: now() + 100 }).then((t) => rejection(make().verify(t))),
      issuer.mint({ iat: now() + 100 }).then((t) => rejection(make().verify(t))),
    ],
    ERR_TOKEN_TOO_OLD: () => [
      issuer.mint({ iat: now() - 100 }).then((t) => rejection(make({ maxTokenAge: 10 }).verify(t))),
    ],
    ERR_TOKEN_ISSUER_INVALID: () => [
      issuer.mint({ iss: 'https://other.example' }).then((t) => rejection(make().verify(t))),
    ],
    ERR_TOKEN_AUDIENCE_INVALID: () => [
      issuer.mint({ aud: 'https://other.example' }).then((t) => rejection(make().verify(t))),
    ],
    ERR_TOKEN_CLAIM_INVALID: () => [
      issuer.mint({ exp: 'soon' }).then((t) => rejection(make().verify(t))),
      issuer.mint({ nbf: 'soon' }).then((t) => rejection(make().verify(t))),
      issuer.mint({ iat: 'then' }).then((t) => rejection(make().verify(t))),
      issuer.mint({ sub: 1 }).then((t) => rejection(make().verify(t))),
      issuer.mint({ scope: 7 }).then((t) => rejection(make().verify(t))),
      issuer.mint({ jti: undefined }).then((t) => rejection(make({ strict: true }).verify(t))),
      issuer.mint({}).then((t) => rejection(make({ requiredClaims: ['tenant'] }).verify(t))),
      issuer.mint({ iat: undefined }).then((t) => rejection(make({ maxTokenAge: 5 }).verify(t))),
    ],
    ERR_INSUFFICIENT_SCOPE: () => [
      verified({ scope: 'a' }).then((auth) =>
        refusal(() => {
          authorize(auth, { allOf: ['orders:read', 'orders:write'] })
        }),
      ),
      verified({ scope: 'a' }).then((auth) =>
        refusal(() => {
          authorize(auth, { anyOf: ['reports:read', 'admin'] })
        }),
      ),
      // An application-supplied description with every forbidden kind of character.
      verified({ scope: 'a' }).then((auth) =>
        refusal(() => {
          authorize(auth, {
            claims: () => false,
            description: 'Tenant "acme" only \\ no\r\nline breaks, no é or 🔑',
          })
        }),
      ),
    ],
    ERR_TOKEN_BINDING_MISMATCH: () => [
      refusal(() => {
        const claims = { cnf: { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' } }
        checkCertificateBinding(claims, { headers: {} }, certificateSource())
      }),
    ],
    ERR_TOKEN_REVOKED: () => [
      issuer.mint({ jti: 'revoked' }).then((t) =>
        rejection(
          make({
            revocation: {
              isRevoked: () => true,
              revoke: () => undefined,
              revokeSubject: () => undefined,
            },
          }).verifyRequest({ headers: { authorization: `Bearer ${t}` } }),
        ),
      ),
    ],
    ERR_TOKEN_INACTIVE: () => {
      // RFC 7662 §2.2: the issuer answers `active: false` for a revoked opaque token.
      issuer.registerClient({ clientId: 'introspector', clientSecret: 's3cret' })
      const token = issuer.mintOpaque()
      issuer.revoke(token)
      const introspection = { clientId: 'introspector', clientSecret: 's3cret' }
      return [rejection(make({ introspection }).verify(token))]
    },
    ERR_DPOP_REQUIRED: () => [
      issuer.mint({}).then((t) =>
        rejection(
          make({ dpop: { origin: 'https://api.example.com', required: true } }).verifyRequest({
            headers: { authorization: `Bearer ${t}` },
          }),
        ),
      ),
    ],
    ERR_DPOP_PROOF_INVALID: () => [
      refusal(() => checkDpopProof('abc', dpopRequest, dpop)),
      proof({ iat: now() - 3600 }).then((p) => refusal(() => checkDpopProof(p, dpopRequest, dpop))),
    ],
    ERR_DPOP_NONCE_REQUIRED: () => [
      proof({ iat: now() }).then((p) =>
        refusal(() => checkDpopProof(p, dpopRequest, dpopRules({ origin: dpop.origin, nonces }))),
      ),
    ],
    ERR_INSUFFICIENT_USER_AUTHENTICATION: () => [
      verified({ acr: 'urn:example:pwd' }).then((auth) =>
        refusal(() => {
          authorize(auth, { acr: ['urn:example:mfa', 'urn:example:hwk'] })
        }),
      ),
      verified({ auth_time: now() - 3600 }).then((auth) =>
        refusal(() => {
          authorize(auth, { maxAge: 300 })
        }),
      ),
    ],
    ERR_KEYSET_UNAVAILABLE: () => [
      issuer
        .mint({})
        .then((t) =>
          rejection(
            createAccessTokenValidator({ issuer: down.issuer, audience: AUDIENCE }).verify(t),
          ),
        ),
    ],
  }

  for (const [code, produce] of Object.entries(scenarios)) {
    it(`${code}: error, error_description and scope within RFC 6750 §3's characters`, async () => {
      const errors = await Promise.all(produce())
      expect(errors.length).toBeGreaterThan(0)
      for (const error of errors) {
        expect(error.code).toBe(code)
        checkGrammar(error)
      }
    })
  }

  it('an application description is rewritten, never escaped: quotes become apostrophes', async () => {
    const auth = await verified({})
    const error = await refusal(() => {
      authorize(auth, { claims: () => false, description: 'Tenant "acme" \\ only' })
    })
    expect(error.message).toBe("Tenant 'acme' / only")
  })
})
