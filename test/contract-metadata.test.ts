/**
 * CONTRACT.md Part 2, the `RESOURCE` rows: RFC 9728 protected resource metadata, the
 * `resource_metadata` parameter of every 401 and 403 challenge, and the step-up route
 * `GET /admin/audit` (RFC 9470), against every example API (see support/examples.ts), each
 * started as a user would start it and talking to real in-process issuers over loopback HTTP.
 */
import { createTestIssuer, generateDpopKey, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dpopHeaders } from './support/dpop.js'
import { examples } from './support/examples.js'
import { startExample, stopCleanly, type RunningExample } from './support/process.js'
import { bearerChallenge, parseWwwAuthenticate } from './support/www-authenticate.js'

/** A resource identifier with a path, so the well-known path gets it appended (RFC 9728 §3.1). */
const RESOURCE = 'https://api.example.com/p'
const METADATA_PATH = '/.well-known/oauth-protected-resource/p'
/** Every scope a route of the examples can need (CONTRACT.md Part 1 routes and /admin/audit). */
const ALL_SCOPES = ['admin', 'orders:admin', 'orders:read', 'orders:write', 'reports:read']
const MFA = 'urn:example:mfa'
const now = (): number => Math.floor(Date.now() / 1000)

interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly body: unknown
}

async function get(
  api: RunningExample,
  path: string,
  init: { token?: string; headers?: Record<string, string>; method?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...init.headers }
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`
  const response = await fetch(api.url + path, { method: init.method ?? 'GET', headers })
  const text = await response.text()
  let body: unknown = text
  try {
    body = text === '' ? undefined : JSON.parse(text)
  } catch {
    // Not JSON: kept as text, for the failure message.
  }
  return { status: response.status, headers: response.headers, body }
}

describe.each(examples)('CONTRACT.md RESOURCE rows: $name', (example) => {
  let issuer: TestIssuer
  let api: RunningExample

  beforeAll(async () => {
    // No AUDIENCE: RESOURCE is the default audience. DPOP unset: `allowed`.
    issuer = await createTestIssuer({ audience: RESOURCE })
    api = await startExample(example.dir, {
      ...example.env,
      ISSUER: issuer.issuer,
      RESOURCE,
    })
  })

  afterAll(async () => {
    try {
      await stopCleanly(api, example.dir)
    } finally {
      await issuer.close()
    }
  })

  /** The URL every challenge must name: PUBLIC_ORIGIN (here its default) + the well-known path. */
  const metadataUrl = (): string => `${api.url}${METADATA_PATH}`

  describe(`GET ${METADATA_PATH} (RFC 9728 §3)`, () => {
    it('answers 200 with the RFC 9728 JSON document, without credentials', async () => {
      const reply = await get(api, METADATA_PATH)
      expect(reply.status, JSON.stringify(reply.body)).toBe(200)
      // §3.2: "using the application/json content type".
      expect(reply.headers.get('content-type')).toMatch(/^application\/json\b/)
      const document = reply.body as Record<string, unknown>
      expect(document.resource).toBe(RESOURCE)
      expect(document.authorization_servers).toEqual([issuer.issuer])
      expect([...(document.scopes_supported as string[])].sort()).toEqual(ALL_SCOPES)
      expect(document.bearer_methods_supported).toEqual(['header'])
      // DPOP unset (allowed): the proof algorithms are announced (§2).
      expect(document.dpop_signing_alg_values_supported).toEqual(
        expect.arrayContaining(['ES256', 'EdDSA', 'RS256']),
      )
    })

    it('is readable by browser clients of any origin (CORS)', async () => {
      const reply = await get(api, METADATA_PATH, {
        headers: { origin: 'https://app.example.com' },
      })
      expect(reply.headers.get('access-control-allow-origin')).toBe('*')
    })

    it('is not served at the path without the resource path', async () => {
      const reply = await get(api, '/.well-known/oauth-protected-resource')
      expect(reply.status).not.toBe(200)
    })
  })

  describe('RESOURCE is the default AUDIENCE', () => {
    it('accepts a token for RESOURCE, refuses one for another audience', async () => {
      expect((await get(api, '/me', { token: await issuer.mint() })).status).toBe(200)
      const other = await issuer.mint({ aud: 'https://api.example.com' })
      const reply = await get(api, '/me', { token: other })
      expect(reply.status).toBe(401)
      expect(bearerChallenge(reply.headers.get('www-authenticate')).params.error).toBe(
        'invalid_token',
      )
    })
  })

  describe('every challenge (401 and 403) carries resource_metadata (RFC 9728 §5.1)', () => {
    it.each([
      ['no credentials', () => Promise.resolve(undefined), '/me', 401, undefined],
      ['a bad token', () => Promise.resolve('e30.e30.e30'), '/me', 401, 'invalid_token'],
      [
        'a missing scope',
        () => issuer.mint({ scope: 'profile' }),
        '/orders',
        403,
        'insufficient_scope',
      ],
      [
        'a step-up',
        () => issuer.mint({ scope: 'admin', auth_time: now() }),
        '/admin/audit',
        401,
        'insufficient_user_authentication',
      ],
    ])('%s', async (_, token, path, status, error) => {
      const reply = await get(api, path, { token: await token() })
      expect(reply.status).toBe(status)
      const params = bearerChallenge(reply.headers.get('www-authenticate')).params
      expect(params.error).toBe(error)
      expect(params.resource_metadata).toBe(metadataUrl())
    })

    it('in the DPoP challenge too', async () => {
      const key = await generateDpopKey('ES256')
      const token = await issuer.mint({ scope: 'profile' }, { dpop: key })
      const headers = await dpopHeaders(key, token, { origin: api.url, path: '/orders' })
      const reply = await get(api, '/orders', { headers })
      expect(reply.status).toBe(403)
      const challenges = parseWwwAuthenticate(reply.headers.get('www-authenticate') ?? '')
      expect(challenges.length).toBeGreaterThan(0)
      for (const challenge of challenges) {
        expect(challenge.params.resource_metadata, challenge.scheme).toBe(metadataUrl())
      }
    })
  })

  describe('GET /admin/audit: scope admin, acr urn:example:mfa, auth_time within 300 s (RFC 9470)', () => {
    it('answers 200 with a JSON array', async () => {
      const token = await issuer.mint({ scope: 'admin', acr: MFA, auth_time: now() - 30 })
      const reply = await get(api, '/admin/audit', { token })
      expect(reply.status).toBe(200)
      expect(Array.isArray(reply.body)).toBe(true)
    })

    it.each([
      ['no acr', {}],
      ['another acr', { acr: 'urn:example:password' }],
      ['an acr that is not a string', { acr: [MFA] }],
    ])('%s: 401 insufficient_user_authentication with acr_values', async (_, claims) => {
      const token = await issuer.mint({ scope: 'admin', auth_time: now(), ...claims })
      const reply = await get(api, '/admin/audit', { token })
      expect(reply.status).toBe(401)
      const params = bearerChallenge(reply.headers.get('www-authenticate')).params
      expect(params).toMatchObject({
        error: 'insufficient_user_authentication',
        acr_values: MFA,
      })
      expect(params.error_description).toBeTruthy()
      expect(reply.body).toMatchObject({ error: 'insufficient_user_authentication' })
    })

    it.each([
      ['authenticated 301 s ago', { auth_time: now() - 301 }],
      ['no auth_time', { auth_time: undefined }],
      ['an auth_time that is not a number', { auth_time: String(now()) }],
    ])('%s: 401 insufficient_user_authentication with max_age', async (_, claims) => {
      const token = await issuer.mint({ scope: 'admin', acr: MFA, ...claims })
      const reply = await get(api, '/admin/audit', { token })
      expect(reply.status).toBe(401)
      expect(bearerChallenge(reply.headers.get('www-authenticate')).params).toMatchObject({
        error: 'insufficient_user_authentication',
        max_age: '300',
      })
    })

    it('without scope admin: 403 insufficient_scope', async () => {
      const token = await issuer.mint({ scope: 'orders:read', acr: MFA, auth_time: now() })
      const reply = await get(api, '/admin/audit', { token })
      expect(reply.status).toBe(403)
      expect(bearerChallenge(reply.headers.get('www-authenticate')).params).toMatchObject({
        error: 'insufficient_scope',
        scope: 'admin',
      })
    })
  })

  describe('RESOURCE without a path, several issuers, DPOP=off, PUBLIC_ORIGIN (another instance)', () => {
    const PUBLIC_ORIGIN = 'https://api.example.com'
    let second: TestIssuer
    let other: RunningExample

    beforeAll(async () => {
      second = await createTestIssuer({ audience: PUBLIC_ORIGIN })
      other = await startExample(example.dir, {
        ...example.env,
        ISSUER: `${issuer.issuer} ${second.issuer}`,
        RESOURCE: PUBLIC_ORIGIN,
        PUBLIC_ORIGIN,
        DPOP: 'off',
      })
    })

    afterAll(async () => {
      try {
        await stopCleanly(other, example.dir)
      } finally {
        await second.close()
      }
    })

    it('serves /.well-known/oauth-protected-resource: the issuers, no DPoP algorithms', async () => {
      const reply = await get(other, '/.well-known/oauth-protected-resource')
      expect(reply.status).toBe(200)
      const document = reply.body as Record<string, unknown>
      expect(document.resource).toBe(PUBLIC_ORIGIN)
      expect(document.authorization_servers).toEqual([issuer.issuer, second.issuer])
      expect(document).not.toHaveProperty('dpop_signing_alg_values_supported')
      expect([...(document.scopes_supported as string[])].sort()).toEqual(ALL_SCOPES)
    })

    it('names the document on PUBLIC_ORIGIN in its challenges, not the origin it was reached on', async () => {
      const reply = await get(other, '/me')
      expect(reply.status).toBe(401)
      expect(bearerChallenge(reply.headers.get('www-authenticate')).params.resource_metadata).toBe(
        `${PUBLIC_ORIGIN}/.well-known/oauth-protected-resource`,
      )
    })
  })
})
