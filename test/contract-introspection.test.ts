/**
 * CONTRACT.md Part 2, the introspection rows, against every example API started with
 * `INTROSPECTION_CLIENT_ID` and `INTROSPECTION_CLIENT_SECRET`, talking to the real test issuer's
 * RFC 7662 endpoint over loopback:
 *
 * - an opaque token the introspection endpoint says is not `active` (client authentication
 *   `client_secret_basic`; an answer's `iss` and `aud`, when present, must fit as for a JWT; a
 *   result is cached at most until its `exp`) → 401 `invalid_token`;
 * - the introspection endpoint unreachable or failing, and no cached result (a cached result keeps
 *   answering) → 503 `Retry-After`.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { examples } from './support/examples.js'
import { runUntilExit, startExample, stopCleanly, type RunningExample } from './support/process.js'
import { bearerChallenge } from './support/www-authenticate.js'

const AUDIENCE = 'https://api.example.com'
const CLIENT_ID = 'orders-api'
// Every character RFC 6749 §2.3.1 makes a client form-encode before base64.
const CLIENT_SECRET = 'p@ss:w+rd %41'
const now = (): number => Math.floor(Date.now() / 1000)

interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly body: unknown
}

describe.each(examples)('CONTRACT.md introspection: $name', (example) => {
  let issuer: TestIssuer
  let api: RunningExample
  const statuses: number[] = []

  beforeAll(async () => {
    issuer = await createTestIssuer({
      audience: AUDIENCE,
      // The endpoint accepts this client by client_secret_basic only: an example that used
      // another method would get 401 there, and its requests 503.
      clients: [
        {
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          tokenEndpointAuthMethod: 'client_secret_basic',
        },
      ],
    })
    api = await startExample(example.dir, {
      ...example.env,
      ISSUER: issuer.issuer,
      AUDIENCE,
      INTROSPECTION_CLIENT_ID: CLIENT_ID,
      INTROSPECTION_CLIENT_SECRET: CLIENT_SECRET,
    })
  })

  afterAll(async () => {
    try {
      await stopCleanly(api, example.dir)
    } finally {
      await issuer.close()
    }
    // No request content ever causes a 500.
    expect(statuses.filter((status) => status >= 500 && status !== 503)).toEqual([])
  })

  async function call(method: string, path: string, token: string): Promise<Reply> {
    const response = await fetch(api.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: method === 'POST' ? '{}' : undefined,
    })
    statuses.push(response.status)
    const text = await response.text()
    return {
      status: response.status,
      headers: response.headers,
      body: text === '' ? undefined : (JSON.parse(text) as unknown),
    }
  }

  function invalidToken(reply: Reply): void {
    expect(reply.status).toBe(401)
    const { params } = bearerChallenge(reply.headers.get('www-authenticate'))
    expect(params.error).toBe('invalid_token')
    expect(reply.body).toEqual({ error: 'invalid_token', error_description: expect.any(String) })
  }

  it('an active opaque token is accepted; its scopes authorise as a JWT’s do', async () => {
    issuer.resetCounts()
    const token = issuer.mintOpaque({ scope: 'orders:read', sub: 'alice' })
    const me = await call('GET', '/me', token)
    expect(me.status).toBe(200)
    expect(me.body).toMatchObject({
      sub: 'alice',
      client_id: 'test-client',
      scopes: ['orders:read'],
    })
    expect((await call('GET', '/orders', token)).status).toBe(200)
    const refused = await call('POST', '/orders', token)
    expect(refused.status).toBe(403)
    expect(bearerChallenge(refused.headers.get('www-authenticate')).params).toMatchObject({
      error: 'insufficient_scope',
      scope: 'orders:write',
    })
    // Three requests, one introspection call: the answer is cached.
    expect(issuer.requests.introspection).toBe(1)
  })

  it('200 concurrent requests with one new opaque token: one introspection call', async () => {
    issuer.resetCounts()
    const token = issuer.mintOpaque({ scope: 'orders:read' })
    const replies = await Promise.all(
      Array.from({ length: 200 }, () => call('GET', '/orders', token)),
    )
    expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 200))
    expect(issuer.requests.introspection).toBe(1)
  })

  it('JWTs are still verified locally, without an introspection call', async () => {
    issuer.resetCounts()
    const me = await call('GET', '/me', await issuer.mint({ scope: 'orders:read' }))
    expect(me.status).toBe(200)
    expect(issuer.requests.introspection).toBe(0)
  })

  it('not active (revoked): 401 invalid_token', async () => {
    const token = issuer.mintOpaque({ scope: 'orders:read' })
    issuer.revoke(token)
    invalidToken(await call('GET', '/me', token))
  })

  it('not active (unknown to the issuer): 401 invalid_token', async () => {
    invalidToken(await call('GET', '/me', 'bm8tc3VjaC10b2tlbi1hdC1hbGw'))
  })

  it('an answer whose iss is another issuer: 401 invalid_token', async () => {
    invalidToken(await call('GET', '/me', issuer.mintOpaque({ iss: 'https://other.example.com' })))
  })

  it('an answer whose aud is another API: 401; without aud: accepted', async () => {
    invalidToken(await call('GET', '/me', issuer.mintOpaque({ aud: 'https://other.example.com' })))
    expect((await call('GET', '/me', issuer.mintOpaque({ aud: undefined }))).status).toBe(200)
  })

  it('a result is cached at most until its exp', async () => {
    issuer.resetCounts()
    const exp = now() + 2
    const token = issuer.mintOpaque({ exp })
    expect((await call('GET', '/me', token)).status).toBe(200)
    expect((await call('GET', '/me', token)).status).toBe(200)
    expect(issuer.requests.introspection).toBe(1)
    await sleep(exp * 1000 - Date.now() + 100)
    // Past exp: not served from any cache; the issuer, asked again, says it is not active.
    invalidToken(await call('GET', '/me', token))
    expect(issuer.requests.introspection).toBe(2)
  })

  it('the endpoint failing and no cached result: 503 Retry-After; a cached result keeps answering', async () => {
    const cached = issuer.mintOpaque({ scope: 'orders:read' })
    expect((await call('GET', '/me', cached)).status).toBe(200)
    issuer.fail('introspection', { kind: 'status', status: 500 })
    try {
      expect((await call('GET', '/me', cached)).status).toBe(200)
      const fresh = await call('GET', '/me', issuer.mintOpaque())
      expect(fresh.status).toBe(503)
      expect(fresh.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/)
      expect(fresh.body).toEqual({
        error: 'temporarily_unavailable',
        error_description: expect.any(String),
      })
      expect(bearerChallenge(fresh.headers.get('www-authenticate')).params).not.toHaveProperty(
        'error',
      )
      // One log line naming the cause, never the token.
      await vi.waitFor(
        () => {
          expect(api.output()).toMatch(/cannot introspect access tokens at issuer/)
        },
        { timeout: 5000, interval: 50 },
      )
      expect(api.output()).not.toContain(cached)
    } finally {
      issuer.fail('introspection', null)
    }
  })

  it('INTROSPECTION_CLIENT_ID without INTROSPECTION_CLIENT_SECRET: refuses to start', async () => {
    const { exit, output } = await runUntilExit(example.dir, {
      ...example.env,
      ISSUER: issuer.issuer,
      AUDIENCE,
      INTROSPECTION_CLIENT_ID: CLIENT_ID,
    })
    expect(exit.code, output).not.toBe(0)
    expect(exit.code, output).not.toBeNull()
    expect(output).toMatch(/INTROSPECTION_CLIENT_SECRET is required/)
  })

  it('the endpoint answering garbage, or not at all: 503, never 401 or 500', async () => {
    issuer.fail('introspection', { kind: 'body', body: '{"active":"true"}' })
    try {
      // The pause after the previous failure may still run: 503 either way.
      expect((await call('GET', '/me', issuer.mintOpaque())).status).toBe(503)
      await sleep(1100)
      issuer.fail('introspection', { kind: 'reset' })
      expect((await call('GET', '/me', issuer.mintOpaque())).status).toBe(503)
    } finally {
      issuer.fail('introspection', null)
    }
  })
})
