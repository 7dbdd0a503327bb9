/**
 * explain cannot drift from core: for each class of refusal, a real token is explained by the
 * built bin, and
 * - the verdict (status, code, `WWW-Authenticate`, `Retry-After`) equals what core itself answers
 *   for the same token and settings, in this process;
 * - the first step explain finds failing is the step that owns that code, and carries it;
 * - the exit code says the outcome (1 refused, 3 unavailable, 0 accepted).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  authorize,
  createAccessTokenValidator,
  isBearerGuardError,
  type AccessTokenValidatorOptions,
  type BearerGuardErrorCode,
} from '@bearer-guard/core'
import {
  createTestIssuer,
  encodeToken,
  generateDpopKey,
  type TestIssuer,
} from '@bearer-guard/testing'
import type { StepId } from '../src/explanation.js'
import { explainJson } from './support.js'

const audience = 'https://api.example.com'
const now = Date.UTC(2030, 0, 15, 12, 0, 0)
const seconds = Math.floor(now / 1000)
let issuer: TestIssuer
let other: TestIssuer
let down: TestIssuer
let dir: string

beforeAll(async () => {
  issuer = await createTestIssuer({ audience, clock: () => now })
  other = await createTestIssuer({ audience, clock: () => now })
  down = await createTestIssuer({ audience, clock: () => now })
  down.fail('all', { kind: 'status', status: 500 })
  dir = mkdtempSync(join(tmpdir(), 'bearer-guard-cli-'))
})

afterAll(async () => {
  await Promise.all([issuer.close(), other.close(), down.close()])
  rmSync(dir, { recursive: true, force: true })
})

interface Case {
  readonly name: string
  readonly token: () => Promise<string>
  /** The step that fails first, and the code core refuses with. */
  readonly step: StepId
  readonly code: BearerGuardErrorCode
  readonly status: number
  /** Validator options beyond issuer and audience (passed with --config). */
  readonly config?: Record<string, unknown>
  /** The issuers (default: the test issuer). */
  readonly issuers?: () => readonly string[]
  readonly allOf?: readonly string[]
}

const CASES: readonly Case[] = [
  {
    name: 'not in token68 syntax (RFC 6750 §2.1)',
    token: async () => (await issuer.mint()).replace('.', ' .'),
    step: 'format',
    code: 'ERR_INVALID_REQUEST',
    status: 400,
  },
  {
    name: 'larger than maxTokenLength',
    token: () => issuer.mint(),
    config: { maxTokenLength: 100 },
    step: 'format',
    code: 'ERR_TOKEN_TOO_LARGE',
    status: 401,
  },
  {
    name: 'not a JWT (opaque)',
    token: () => Promise.resolve('2YotnFZFEjr1zCsicMWpAA'),
    step: 'format',
    code: 'ERR_TOKEN_MALFORMED',
    status: 401,
  },
  {
    name: 'a header with a duplicate member (RFC 7515 §5.2)',
    token: () =>
      Promise.resolve(
        encodeToken({ header: '{"alg":"RS256","alg":"none"}', payload: {}, signature: 'AAAA' }),
      ),
    step: 'format',
    code: 'ERR_TOKEN_MALFORMED',
    status: 401,
  },
  {
    name: 'an issuer that is not accepted, among several (selection by iss)',
    token: () => issuer.mint({ iss: 'https://evil.example' }),
    issuers: () => [issuer.issuer, other.issuer],
    step: 'issuer-selection',
    code: 'ERR_TOKEN_ISSUER_INVALID',
    status: 401,
  },
  {
    name: "alg 'none' (RFC 8725 §3.1)",
    token: () =>
      Promise.resolve(
        encodeToken({
          header: { alg: 'none' },
          payload: { iss: issuer.issuer, aud: audience, exp: seconds + 60 },
        }),
      ),
    step: 'header',
    code: 'ERR_TOKEN_ALG_NOT_ALLOWED',
    status: 401,
  },
  {
    name: 'HMAC with the public key as secret (RFC 8725 §2.1)',
    token: () => issuer.mint({}, { secret: issuer.activeKey.publicKeyPem }),
    step: 'header',
    code: 'ERR_TOKEN_ALG_NOT_ALLOWED',
    status: 401,
  },
  {
    name: 'a crit header (RFC 7515 §4.1.11)',
    token: async () => {
      const [, payload, signature] = (await issuer.mint()).split('.')
      const header = Buffer.from(
        JSON.stringify({ alg: 'RS256', kid: issuer.activeKey.kid, crit: ['exp'] }),
      ).toString('base64url')
      return `${header}.${payload ?? ''}.${signature ?? ''}`
    },
    step: 'header',
    code: 'ERR_TOKEN_CRIT_UNSUPPORTED',
    status: 401,
  },
  {
    name: 'a typ that is not an access token type (RFC 9068 §2.1)',
    token: () => issuer.mint({}, { header: { typ: 'dpop+jwt' } }),
    step: 'header',
    code: 'ERR_TOKEN_TYPE_INVALID',
    status: 401,
  },
  {
    name: 'signed by a key the issuer does not publish (unknown kid)',
    token: async () => issuer.mint({}, { key: await issuer.generateKey() }),
    step: 'key',
    code: 'ERR_TOKEN_KEY_NOT_FOUND',
    status: 401,
  },
  {
    name: 'signed by another key carrying the published kid',
    token: async () =>
      issuer.mint({}, { key: await issuer.generateKey('RS256', { kid: issuer.activeKey.kid }) }),
    step: 'signature',
    code: 'ERR_TOKEN_SIGNATURE_INVALID',
    status: 401,
  },
  {
    name: 'expired (RFC 7519 §4.1.4)',
    token: () => issuer.mint({ iat: seconds - 600, exp: seconds - 192 }),
    step: 'time',
    code: 'ERR_TOKEN_EXPIRED',
    status: 401,
  },
  {
    name: 'not yet valid (nbf, RFC 7519 §4.1.5)',
    token: () => issuer.mint({ nbf: seconds + 600 }),
    step: 'time',
    code: 'ERR_TOKEN_NOT_YET_VALID',
    status: 401,
  },
  {
    name: 'older than maxTokenAge',
    token: () => issuer.mint({ iat: seconds - 4000, exp: seconds + 60 }),
    config: { maxTokenAge: 3600 },
    step: 'time',
    code: 'ERR_TOKEN_TOO_OLD',
    status: 401,
  },
  {
    name: 'without exp (RFC 9068 §2.2)',
    token: () => issuer.mint({ exp: undefined }),
    step: 'time',
    code: 'ERR_TOKEN_CLAIM_INVALID',
    status: 401,
  },
  {
    name: 'another issuer (RFC 9068 §4)',
    token: () => issuer.mint({ iss: `${issuer.issuer}/` }),
    step: 'issuer',
    code: 'ERR_TOKEN_ISSUER_INVALID',
    status: 401,
  },
  {
    name: 'another audience (RFC 9068 §4)',
    token: () => issuer.mint({ aud: 'https://other-api.example.com' }),
    step: 'audience',
    code: 'ERR_TOKEN_AUDIENCE_INVALID',
    status: 401,
  },
  {
    name: 'an OpenID Connect ID token (RFC 9068 §4)',
    token: () =>
      issuer.mint(
        { nonce: 'n-0S6_WzA2Mj', at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q', client_id: undefined },
        { header: { typ: 'JWT' } },
      ),
    step: 'token-type',
    code: 'ERR_TOKEN_TYPE_INVALID',
    status: 401,
  },
  {
    name: 'sub that is not a string',
    token: () => issuer.mint({ sub: 42 }),
    step: 'claims',
    code: 'ERR_TOKEN_CLAIM_INVALID',
    status: 401,
  },
  {
    name: 'a required claim value missing',
    token: () => issuer.mint({ token_use: 'id' }),
    config: { requiredClaimValues: { token_use: 'access' } },
    step: 'claims',
    code: 'ERR_TOKEN_CLAIM_INVALID',
    status: 401,
  },
  {
    name: 'a scope claim of the wrong type',
    token: () => issuer.mint({ scope: 42 }),
    step: 'scopes',
    code: 'ERR_TOKEN_CLAIM_INVALID',
    status: 401,
  },
  {
    name: 'DPoP-bound, sent as Bearer (RFC 9449 §7.2)',
    token: async () => issuer.mint({}, { dpop: await generateDpopKey() }),
    step: 'binding',
    code: 'ERR_TOKEN_BINDING_MISMATCH',
    status: 401,
  },
  {
    name: 'missing a scope the route needs (RFC 6750 §3.1)',
    token: () => issuer.mint({ scope: 'orders:read' }),
    allOf: ['orders:read', 'orders:write'],
    step: 'route',
    code: 'ERR_INSUFFICIENT_SCOPE',
    status: 403,
  },
  {
    name: "keys unavailable: the issuer's discovery answers 500",
    token: () => down.mint(),
    issuers: () => [down.issuer],
    step: 'key',
    code: 'ERR_KEYSET_UNAVAILABLE',
    status: 503,
  },
]

/** What core answers in this process for the same token and settings. */
async function coreAnswer(
  token: string,
  options: AccessTokenValidatorOptions,
  allOf: readonly string[] | undefined,
) {
  const validator = createAccessTokenValidator({ ...options, clock: () => now })
  try {
    const auth = await validator.verifyRequest({
      headers: { authorization: `Bearer ${token}` },
    })
    if (allOf !== undefined) authorize(auth, { allOf })
    return { status: 200, code: undefined, headers: {} }
  } catch (error) {
    if (!isBearerGuardError(error)) throw error
    return { status: error.status, code: error.code, headers: error.headers }
  }
}

describe('the first failed step named by explain is the one core refuses at', () => {
  test.each(CASES)('$name: $step, $code', async (c) => {
    const token = await c.token()
    const issuers = c.issuers?.() ?? [issuer.issuer]
    const args = [
      ...issuers.flatMap((i) => ['--issuer', i]),
      '--audience',
      audience,
      '--now',
      new Date(now).toISOString(),
      ...(c.allOf ?? []).flatMap((scope) => ['--scope', scope]),
    ]
    if (c.config !== undefined) {
      const file = join(dir, `${c.code}-${c.step}.json`)
      writeFileSync(file, JSON.stringify(c.config))
      args.push('--config', file)
    }
    const { result, explanation } = await explainJson(token, args)

    const expected = await coreAnswer(
      token,
      {
        issuer: issuers,
        audience,
        ...c.config,
      },
      c.allOf,
    )
    expect(expected.code).toBe(c.code)
    expect(explanation.verdict).toMatchObject({ status: c.status, code: c.code })
    // Byte for byte the headers core renders: WWW-Authenticate, and Retry-After with a 503.
    expect(explanation.verdict.headers).toEqual(expected.headers)
    const failed = explanation.steps.find((step) => step.status === 'fail')
    expect(failed).toMatchObject({ id: c.step, code: c.code, reached: true })
    expect(explanation.agrees).toBe(true)
    // Core stops at the first failure: nothing after it is reached.
    const at = explanation.steps.findIndex((step) => step === failed)
    expect(explanation.steps.slice(at + 1).every((step) => !step.reached)).toBe(true)
    expect(result.code).toBe(c.status === 503 ? 3 : 1)
  })

  test('a token core accepts: no step fails, exit 0, through a scope hierarchy too', async () => {
    const token = await issuer.mint({ scope: 'admin' })
    const config = join(dir, 'hierarchy.json')
    writeFileSync(
      config,
      JSON.stringify({ scopeHierarchy: { admin: ['orders:*'], 'orders:*': ['orders:read'] } }),
    )
    const { result, explanation } = await explainJson(token, [
      '--issuer',
      issuer.issuer,
      '--audience',
      audience,
      '--config',
      config,
      '--scope',
      'orders:read',
      '--now',
      String(seconds),
    ])
    expect(result.code).toBe(0)
    expect(explanation.verdict).toMatchObject({ outcome: 'accepted', status: 200 })
    expect(explanation.steps.filter((step) => step.status === 'fail')).toEqual([])
    expect(explanation.steps.every((step) => step.reached)).toBe(true)
    expect(explanation.agrees).toBe(true)
    const scopes = explanation.steps.find((step) => step.id === 'scopes')
    expect(scopes?.details.join(' ')).toContain('orders:read')
  })
})
