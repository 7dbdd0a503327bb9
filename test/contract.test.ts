/**
 * CONTRACT.md, row by row, against every example API (see support/examples.ts), each started
 * as a user would start it and talking to a real in-process issuer over loopback HTTP.
 */
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  DPOP_PROOF_FLAWS,
  createTestIssuer,
  encodeToken,
  generateClientCertificate,
  generateDpopKey,
  type DpopKey,
  type DpopProofFlaw,
  type TestCertificate,
  type TestIssuer,
  type TestKey,
} from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { dpopHeaders, type DpopCall } from './support/dpop.js'
import { examples } from './support/examples.js'
import {
  freePort,
  runUntilExit,
  startExample,
  stopCleanly,
  type RunningExample,
} from './support/process.js'
import { bearerChallenge, dpopChallenge, parseWwwAuthenticate } from './support/www-authenticate.js'

const AUDIENCE = 'https://api.example.com'
/** The header the main instance of every example trusts for client certificates. */
const CERT_HEADER = 'x-client-cert'
/** The DPoP proof algorithms every DPoP challenge must list at least (CONTRACT.md Part 2). */
const DPOP_ALGS = ['ES256', 'EdDSA', 'RS256'] as const
/** RFC 9449 §8.1: `nonce = 1*NQCHAR`. */
const NONCE = /^[\x21\x23-\x5B\x5D-\x7E]+$/
const now = (): number => Math.floor(Date.now() / 1000)

/** What every key-set failure line starts with (core's message, whatever the logger adds). */
const KEY_SET_FAILURE = /bearer-guard: cannot obtain the signing keys of issuer/

/**
 * The lines of an example's output (stdout and stderr) that report a key-set failure, once the
 * first has arrived (output travels through a pipe, so it may lag behind the response).
 */
async function keySetFailureLines(api: RunningExample): Promise<string[]> {
  const lines = () =>
    api
      .output()
      .split('\n')
      .filter((line) => KEY_SET_FAILURE.test(line))
  await vi.waitFor(
    () => {
      expect(lines(), api.output()).not.toHaveLength(0)
    },
    { timeout: 5_000, interval: 50 },
  )
  await sleep(100) // a duplicate would arrive meanwhile
  return lines()
}

/** Asserts that no part of `token` (header, payload or signature) appears in `text`. */
function expectNoTokenIn(text: string, token: string): void {
  for (const part of token.split('.')) expect(text).not.toContain(part)
}

/** The DPoP keys and client certificates the tests use: made once for all examples (RSA is slow). */
interface Material {
  readonly keys: Readonly<Record<(typeof DPOP_ALGS)[number], DpopKey>>
  readonly certificate: TestCertificate
  readonly other: TestCertificate
}
let material: Promise<Material> | undefined
function sharedMaterial(): Promise<Material> {
  material ??= (async () => {
    const [es256, eddsa, rs256, certificate, other] = await Promise.all([
      generateDpopKey('ES256'),
      generateDpopKey('EdDSA'),
      generateDpopKey('RS256'),
      generateClientCertificate(),
      generateClientCertificate(),
    ])
    return { keys: { ES256: es256, EdDSA: eddsa, RS256: rs256 }, certificate, other }
  })()
  return material
}

interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly body: unknown
}

describe.each(examples)('CONTRACT.md: $name', (example) => {
  let issuer: TestIssuer
  let foreign: TestKey
  let api: RunningExample
  // Every status seen, to check that no request content ever causes a 500.
  const statuses: { readonly what: string; readonly status: number }[] = []

  beforeAll(async () => {
    issuer = await createTestIssuer({ audience: AUDIENCE })
    foreign = await issuer.generateKey()
    // DPOP unset: `allowed`, the default. CLIENT_CERT_HEADER changes nothing for tokens that are
    // not certificate-bound.
    api = await startExample(example.dir, {
      ...example.env,
      ISSUER: issuer.issuer,
      AUDIENCE,
      CLIENT_CERT_HEADER: CERT_HEADER,
    })
  })

  afterAll(async () => {
    try {
      await stopCleanly(api, example.dir)
    } finally {
      await issuer.close()
    }
  })

  async function call(
    method: string,
    path: string,
    options: { token?: string; authorization?: string; json?: unknown; on?: RunningExample } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = {}
    if (options.authorization !== undefined) headers.authorization = options.authorization
    else if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
    let body: string | undefined
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(options.json)
    }
    const response = await fetch((options.on ?? api).url + path, { method, headers, body })
    const text = await response.text()
    statuses.push({
      what: `${method} ${path} ${headers.authorization ?? ''}`,
      status: response.status,
    })
    return {
      status: response.status,
      headers: response.headers,
      body: text === '' ? undefined : (JSON.parse(text) as unknown),
    }
  }

  /**
   * Sends a request on a connection of its own, closed afterwards, and resolves with the status.
   * For requests after which a server may drop the connection without saying so (Fastify answers
   * a header overflow with a 431 that has no `Connection: close`, then destroys the socket): on
   * the shared keep-alive pool, the next request could be written to that socket and fail with
   * ECONNRESET, depending on timing.
   */
  function callAlone(method: string, path: string, authorization: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const request = httpRequest(
        api.url + path,
        { method, agent: false, headers: { authorization } },
        (response) => {
          response.resume()
          response.once('end', () => {
            const status = response.statusCode ?? 0
            statuses.push({ what: `${method} ${path} ${authorization.slice(0, 80)}`, status })
            resolve(status)
          })
        },
      )
      request.once('error', reject)
      request.end()
    })
  }

  /**
   * Sends a request with any headers (repeated ones as arrays, `Host` included) on a connection
   * of its own, for what `fetch` cannot send: several `DPoP` header lines, another `Host`.
   */
  function send(
    method: string,
    path: string,
    headers: OutgoingHttpHeaders,
    on: RunningExample = api,
  ): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const request = httpRequest(on.url + path, { method, agent: false, headers }, (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.once('end', () => {
          const status = response.statusCode ?? 0
          const text = Buffer.concat(chunks).toString()
          const received = new Headers()
          for (const [name, value] of Object.entries(response.headers)) {
            for (const one of Array.isArray(value) ? value : [value ?? '']) {
              received.append(name, one)
            }
          }
          statuses.push({ what: `${method} ${path} (DPoP/mTLS)`, status })
          resolve({
            status,
            headers: received,
            body: text === '' ? undefined : (JSON.parse(text) as unknown),
          })
        })
      })
      request.once('error', reject)
      request.end()
    })
  }

  /**
   * A refusal's parsed Bearer challenge, after checking what every refusal carries. While DPoP is
   * enabled (`dpop`, the examples' default), a 401 also offers DPoP: a second challenge,
   * `DPoP algs="…"`, without an error (RFC 9449 §7.1); with DPoP off, no DPoP challenge at all.
   */
  function refusal(reply: Reply, status: number, error: string | undefined, dpop = true) {
    expect(reply.status).toBe(status)
    const header = reply.headers.get('www-authenticate')
    const { params } = bearerChallenge(header)
    expect(params.realm, 'realm').toEqual(expect.stringMatching(/./))
    expect(params.error).toBe(error)
    if (error === undefined) {
      expect(reply.body).not.toHaveProperty('error')
      expect(params).not.toHaveProperty('error_description')
    } else {
      expect(reply.body).toEqual({ error, error_description: expect.any(String) })
      expect(params.error_description).toEqual(expect.any(String))
    }
    if (!dpop) {
      expect(parseWwwAuthenticate(header ?? '').map((c) => c.scheme.toLowerCase())).toEqual([
        'bearer',
      ])
    } else if (status === 401) {
      const offer = dpopChallenge(header).params
      expect(offer).not.toHaveProperty('error')
      expect(offer.algs?.split(' ')).toEqual(expect.arrayContaining([...DPOP_ALGS]))
    }
    return params
  }

  /**
   * A refusal in the `DPoP` challenge (the scheme the request used, RFC 9449 §7.1): the error,
   * its description and `algs` there, no error in any other challenge, and the Part 1 JSON body.
   */
  function dpopRefusal(reply: Reply, status: number, error: string) {
    expect(reply.status, JSON.stringify(reply.body)).toBe(status)
    const header = reply.headers.get('www-authenticate')
    const { params } = dpopChallenge(header)
    expect(params.error).toBe(error)
    expect(params.error_description).toEqual(expect.any(String))
    expect(params.algs?.split(' ')).toEqual(expect.arrayContaining([...DPOP_ALGS]))
    const others = parseWwwAuthenticate(header ?? '').filter((c) => c.scheme !== 'DPoP')
    expect(others.filter((c) => c.params.error !== undefined)).toEqual([])
    expect(reply.body).toEqual({ error, error_description: expect.any(String) })
    return params
  }

  const mint = (scope?: string, claims: Record<string, unknown> = {}) =>
    issuer.mint(scope === undefined ? claims : { scope, ...claims })

  describe('routes', () => {
    it('GET /health needs nothing', async () => {
      const reply = await call('GET', '/health')
      expect(reply).toMatchObject({ status: 200, body: { status: 'ok' } })
    })

    it('GET /me answers sub, client_id, scopes and claims for any valid token', async () => {
      const reply = await call('GET', '/me', { token: await mint('profile orders:read') })
      expect(reply.status).toBe(200)
      expect(reply.body).toEqual({
        sub: 'user-123',
        client_id: 'test-client',
        scopes: expect.arrayContaining(['profile', 'orders:read']),
        claims: expect.objectContaining({ iss: issuer.issuer, aud: AUDIENCE, sub: 'user-123' }),
      })
      expect((reply.body as { scopes: unknown[] }).scopes).toHaveLength(2)
    })

    it('GET /me works for a token without any scope', async () => {
      const reply = await call('GET', '/me', { token: await mint() })
      expect(reply).toMatchObject({ status: 200, body: { scopes: [] } })
    })

    it('GET /orders with orders:read answers a JSON array', async () => {
      const reply = await call('GET', '/orders', { token: await mint('orders:read') })
      expect(reply.status).toBe(200)
      expect(reply.body).toEqual(expect.any(Array))
    })

    it('POST /orders with orders:write answers 201 and a JSON object', async () => {
      const reply = await call('POST', '/orders', {
        token: await mint('orders:write'),
        json: { item: 'tea', quantity: 1 },
      })
      expect(reply.status).toBe(201)
      expect(reply.body).toEqual(expect.any(Object))
      expect(reply.body).not.toEqual(expect.any(Array))
    })

    it('DELETE /orders/:id with orders:write and orders:admin answers 204', async () => {
      const reply = await call('DELETE', '/orders/1', {
        token: await mint('orders:write orders:admin'),
      })
      expect(reply).toMatchObject({ status: 204, body: undefined })
    })

    it.each(['reports:read', 'admin'])(
      'GET /reports with %s answers a JSON array',
      async (scope) => {
        const reply = await call('GET', '/reports', { token: await mint(scope) })
        expect(reply.status).toBe(200)
        expect(reply.body).toEqual(expect.any(Array))
      },
    )

    it.each([
      ['an scp array', { scp: ['orders:read', 'other'] }],
      ['an scp string', { scp: 'other orders:read' }],
    ])('reads scopes from %s too', async (_what, claims) => {
      const reply = await call('GET', '/orders', { token: await mint(undefined, claims) })
      expect(reply.status).toBe(200)
    })
  })

  describe('401 without credentials: realm, no error', () => {
    it.each([
      ['GET', '/me'],
      ['GET', '/orders'],
      ['POST', '/orders'],
      ['DELETE', '/orders/1'],
      ['GET', '/reports'],
    ])('%s %s without an Authorization header', async (method, path) => {
      refusal(await call(method, path), 401, undefined)
    })

    it.each(['Basic dXNlcjpwYXNz', 'Digest username="u"', 'Token abc'])(
      'another scheme: %s',
      async (authorization) => {
        refusal(await call('GET', '/me', { authorization }), 401, undefined)
      },
    )

    it('a token in the URL query only (the query method is not enabled)', async () => {
      const token = await mint('orders:read')
      refusal(await call('GET', `/orders?access_token=${token}`), 401, undefined)
    })
  })

  describe('400 invalid_request', () => {
    it.each(['Bearer', 'Bearer ', 'bearer'])('Bearer with no token: %j', async (authorization) => {
      refusal(await call('GET', '/me', { authorization }), 400, 'invalid_request')
    })

    it.each(['abc def', 'a,b', 'to"ken', 'tok=en', 'abc\\def', '(abc)'])(
      'a token that is not token68: %j',
      async (token) => {
        refusal(
          await call('GET', '/me', { authorization: `Bearer ${token}` }),
          400,
          'invalid_request',
        )
      },
    )

    it('a token sent in the header and in the query', async () => {
      const token = await mint('orders:read')
      refusal(await call('GET', `/me?access_token=${token}`, { token }), 400, 'invalid_request')
    })
  })

  describe('401 invalid_token', () => {
    const payloadOf = (token: string): Record<string, unknown> =>
      JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<
        string,
        unknown
      >

    const cases: [string, () => Promise<string>][] = [
      ['a token that is not a JWT', () => Promise.resolve('not-a-jwt')],
      ['a JWT whose segments are not JSON', () => Promise.resolve('abc.def.ghi')],
      [
        'a JWT with a non-object header',
        () => Promise.resolve(encodeToken({ header: 'null', payload: {}, signature: 'c2ln' })),
      ],
      [
        'a bad signature',
        async () => {
          const [header, payload, signature] = (await mint()).split('.') as [string, string, string]
          const middle = Math.floor(signature.length / 2)
          const flipped = signature[middle] === 'A' ? 'B' : 'A'
          return `${header}.${payload}.${signature.slice(0, middle)}${flipped}${signature.slice(middle + 1)}`
        },
      ],
      [
        'a signature by a foreign key, with the real kid',
        () => issuer.mint({}, { key: foreign, header: { kid: issuer.activeKey.kid } }),
      ],
      ['an unknown kid', () => issuer.mint({}, { key: foreign })],
      [
        'alg none',
        async () =>
          encodeToken({
            header: { alg: 'none', typ: 'at+jwt', kid: issuer.activeKey.kid },
            payload: payloadOf(await mint('orders:read')),
          }),
      ],
      [
        'HS256 signed with the RSA public key PEM',
        () => issuer.mint({}, { secret: issuer.activeKey.publicKeyPem }),
      ],
      ['an expired token', () => mint(undefined, { iat: now() - 7200, exp: now() - 3600 })],
      ['a token not yet valid (nbf)', () => mint(undefined, { nbf: now() + 3600 })],
      ['a wrong issuer', () => mint(undefined, { iss: 'https://evil.example.com' })],
      ['a wrong audience', () => mint(undefined, { aud: 'https://other.example.com' })],
      ['a wrong typ', () => issuer.mint({}, { header: { typ: 'dpop+jwt' } })],
      [
        'a key embedded in the token (jwk)',
        () => issuer.mint({}, { key: foreign, header: { jwk: foreign.publicJwk } }),
      ],
      [
        'an oversized token',
        // Past the default 8192-character limit, within Node's 16 KiB of headers.
        () => Promise.resolve(`${'a'.repeat(6000)}.${'b'.repeat(6000)}.c`),
      ],
    ]

    it.each(cases)('%s', async (_what, makeToken) => {
      refusal(await call('GET', '/me', { token: await makeToken() }), 401, 'invalid_token')
    })

    it.each(['jku', 'x5u'])(
      'a key URL named in the token (%s) is never fetched',
      async (member) => {
        const before = issuer.requests.other
        const token = await issuer.mint(
          {},
          { key: foreign, header: { [member]: `${issuer.url}/attacker/keys.json` } },
        )
        refusal(await call('GET', '/me', { token }), 401, 'invalid_token')
        expect(issuer.requests.other).toBe(before)
      },
    )
  })

  describe('403 insufficient_scope naming the scopes needed', () => {
    const scopeSet = (scope: string | undefined): string[] => (scope ?? '').split(' ').sort()

    it.each([
      ['GET', '/orders', 'profile', 'orders:read'],
      ['POST', '/orders', 'orders:read', 'orders:write'],
      ['DELETE', '/orders/1', 'orders:write', 'orders:write orders:admin'],
      ['DELETE', '/orders/1', 'orders:admin', 'orders:write orders:admin'],
      ['GET', '/reports', 'orders:read reports:write', 'reports:read admin'],
    ])('%s %s with scope "%s"', async (method, path, granted, needed) => {
      const json = method === 'POST' ? { item: 'tea' } : undefined
      const reply = await call(method, path, { token: await mint(granted), json })
      const params = refusal(reply, 403, 'insufficient_scope')
      expect(scopeSet(params.scope)).toEqual(scopeSet(needed))
    })
  })

  describe('a CORS preflight is never refused by the guard', () => {
    it.each([
      ['GET', '/catalog'],
      ['GET', '/me'],
      ['GET', '/orders'],
      ['POST', '/orders'],
      ['DELETE', '/orders/1'],
      ['GET', '/reports'],
    ])('OPTIONS %s %s with Origin and Access-Control-Request-Method', async (method, path) => {
      const response = await fetch(api.url + path, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.example.com',
          'access-control-request-method': method,
          'access-control-request-headers': 'authorization',
        },
      })
      await response.arrayBuffer()
      statuses.push({ what: `OPTIONS ${path} (preflight for ${method})`, status: response.status })
      expect([400, 401, 403]).not.toContain(response.status)
      expect(response.headers.get('www-authenticate')).toBeNull()
    })
  })

  describe('GET /catalog: nothing needed, but a token, if sent, must be valid', () => {
    it.each([
      ['no Authorization header', {}],
      ['another scheme', { authorization: 'Basic dXNlcjpwYXNz' }],
    ])('200 {"sub": null} without credentials: %s', async (_what, options) => {
      const reply = await call('GET', '/catalog', options)
      expect(reply).toMatchObject({ status: 200, body: { sub: null } })
      expect(reply.body).toEqual({ sub: null })
      expect(reply.headers.get('www-authenticate')).toBeNull()
    })

    it('200 {"sub": null} for a token in the URL query only: it is not accepted there', async () => {
      const token = await mint('orders:read')
      const reply = await call('GET', `/catalog?access_token=${token}`)
      expect(reply).toMatchObject({ status: 200, body: { sub: null } })
    })

    it.each([
      ['with scopes', 'orders:read'],
      ['without any scope', undefined],
    ])('200 {"sub": …} for a valid token %s', async (_what, scope) => {
      const reply = await call('GET', '/catalog', { token: await mint(scope) })
      expect(reply.status).toBe(200)
      expect(reply.body).toEqual({ sub: 'user-123' })
    })

    it.each([
      ['a token that is not a JWT', () => Promise.resolve('not-a-jwt')],
      ['an unknown kid', () => issuer.mint({}, { key: foreign })],
      [
        'a signature by a foreign key, with the real kid',
        () => issuer.mint({}, { key: foreign, header: { kid: issuer.activeKey.kid } }),
      ],
      ['an expired token', () => mint(undefined, { iat: now() - 7200, exp: now() - 3600 })],
      ['a wrong issuer', () => mint(undefined, { iss: 'https://evil.example.com' })],
      ['a wrong audience', () => mint(undefined, { aud: 'https://other.example.com' })],
      ['a wrong typ', () => issuer.mint({}, { header: { typ: 'dpop+jwt' } })],
      [
        'an ID token',
        () =>
          issuer.mint(
            { azp: 'test-client', client_id: undefined, nonce: 'n-0S6_WzA2Mj' },
            { header: { typ: 'JWT' } },
          ),
      ],
    ])('401 invalid_token for %s', async (_what, makeToken) => {
      refusal(await call('GET', '/catalog', { token: await makeToken() }), 401, 'invalid_token')
    })

    it.each(['Bearer', 'Bearer ', 'Bearer abc def', 'Bearer to"ken'])(
      '400 invalid_request for a malformed header: %j',
      async (authorization) => {
        refusal(await call('GET', '/catalog', { authorization }), 400, 'invalid_request')
      },
    )

    it('400 invalid_request for a token in the header and in the query', async () => {
      const token = await mint()
      refusal(
        await call('GET', `/catalog?access_token=${token}`, { token }),
        400,
        'invalid_request',
      )
    })
  })

  describe('an OpenID Connect ID token is refused (401 invalid_token), even with typ JWT and the API as aud', () => {
    // Minted by the API's own issuer with `aud` = the API, signed with its published key, and
    // `typ: JWT` as most providers put on both kinds: only the claims say it is an ID token.
    const idToken = (claims: Record<string, unknown>) =>
      issuer.mint(claims, { header: { typ: 'JWT' } })
    const authTime = () => now() - 60

    it('an ID token as providers issue them (azp, nonce, at_hash, c_hash, auth_time)', async () => {
      const token = await idToken({
        azp: 'test-client',
        client_id: undefined,
        jti: undefined,
        nonce: 'n-0S6_WzA2Mj',
        at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q',
        c_hash: 'LDktKdoQak3Pk0cnXxCltA',
        auth_time: authTime(),
      })
      refusal(await call('GET', '/me', { token }), 401, 'invalid_token')
    })

    // Each marker alone, on an otherwise valid access token that the route would accept.
    it.each([
      ['nonce', { nonce: 'n-0S6_WzA2Mj' }],
      ['at_hash', { at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q' }],
      ['c_hash', { c_hash: 'LDktKdoQak3Pk0cnXxCltA' }],
    ])('%s, even next to scope and client_id', async (_marker, marker) => {
      const token = await idToken({ scope: 'orders:read', ...marker })
      refusal(await call('GET', '/orders', { token }), 401, 'invalid_token')
    })

    it('auth_time with azp and no scope or client_id', async () => {
      const token = await idToken({
        auth_time: authTime(),
        azp: 'test-client',
        client_id: undefined,
      })
      refusal(await call('GET', '/me', { token }), 401, 'invalid_token')
    })

    // Controls: what the markers are added to is accepted, so the marker alone is refused.
    it.each([
      ['typ JWT without any marker', { scope: 'orders:read' }, '/orders'],
      ['auth_time and azp with client_id', { auth_time: authTime(), azp: 'test-client' }, '/me'],
      [
        'auth_time and azp with a scope, no client_id',
        { auth_time: authTime(), azp: 'test-client', client_id: undefined, scope: 'orders:read' },
        '/orders',
      ],
    ])('but accepts an access token with %s', async (_what, claims, path) => {
      const reply = await call('GET', path, { token: await idToken(claims) })
      expect(reply.status).toBe(200)
    })
  })

  describe('ISSUER with several issuers, separated by spaces', () => {
    let first: TestIssuer
    let second: TestIssuer
    // A working authorization server that is not listed: it must never hear from the API.
    let unlisted: TestIssuer
    let multi: RunningExample
    const on = () => ({ on: multi })
    const total = (counts: TestIssuer['requests']) =>
      counts.discovery + counts.jwks + counts.token + counts.other

    const servers: TestIssuer[] = []
    const serve = async (path: string) => {
      const server = await createTestIssuer({ audience: AUDIENCE, path })
      servers.push(server)
      return server
    }

    beforeAll(async () => {
      first = await serve('/first')
      second = await serve('/second')
      unlisted = await serve('/unlisted')
      multi = await startExample(example.dir, {
        ...example.env,
        ISSUER: `${first.issuer} ${second.issuer}`,
        AUDIENCE,
      })
    })

    afterAll(async () => {
      try {
        await stopCleanly(multi, example.dir)
      } finally {
        await Promise.all(servers.map((server) => server.close()))
      }
    })

    it("verifies the first issuer's tokens with its keys, found by its own discovery", async () => {
      const reply = await call('GET', '/me', { token: await first.mint(), ...on() })
      expect(reply.status).toBe(200)
      expect(reply.body).toMatchObject({ claims: { iss: first.issuer } })
      expect(first.requests.discovery).toBeGreaterThan(0)
      expect(first.requests.jwks).toBeGreaterThan(0)
      // The other listed issuer is not asked about a token it did not issue.
      expect(total(second.requests)).toBe(0)
    })

    it("verifies the second issuer's tokens with its keys, found by its own discovery", async () => {
      const reply = await call('GET', '/me', { token: await second.mint(), ...on() })
      expect(reply.status).toBe(200)
      expect(reply.body).toMatchObject({ claims: { iss: second.issuer } })
      expect(second.requests.discovery).toBeGreaterThan(0)
      expect(second.requests.jwks).toBeGreaterThan(0)
    })

    it('enforces the routes the same way for every issuer', async () => {
      for (const listed of [first, second]) {
        const token = await listed.mint({ scope: 'orders:read' })
        expect((await call('GET', '/orders', { token, ...on() })).status).toBe(200)
        const catalog = await call('GET', '/catalog', { token, ...on() })
        expect(catalog).toMatchObject({ status: 200, body: { sub: 'user-123' } })
        const reply = await call('GET', '/reports', { token, ...on() })
        expect(refusal(reply, 403, 'insufficient_scope').scope).toEqual(expect.any(String))
      }
      refusal(await call('GET', '/me', on()), 401, undefined)
    })

    it.each([
      [
        "the first issuer's iss, signed with the second issuer's key",
        () => first.mint({}, { key: second.activeKey }),
      ],
      [
        "the first issuer's iss, signed with the second issuer's key under the first's kid",
        () => first.mint({}, { key: second.activeKey, header: { kid: first.activeKey.kid } }),
      ],
      [
        "the second issuer's iss, signed with the first issuer's key",
        () => second.mint({}, { key: first.activeKey }),
      ],
    ])('refuses %s (401 invalid_token)', async (_what, makeToken) => {
      refusal(await call('GET', '/me', { token: await makeToken(), ...on() }), 401, 'invalid_token')
    })

    it('refuses a token naming an issuer that is not listed, and makes no request to it', async () => {
      // Signed with the unlisted server's own published key: fetching its keys would verify it.
      refusal(
        await call('GET', '/me', { token: await unlisted.mint(), ...on() }),
        401,
        'invalid_token',
      )
      // Signed with a listed issuer's key, but naming the unlisted server.
      const claimed = await first.mint({ iss: unlisted.issuer })
      refusal(await call('GET', '/me', { token: claimed, ...on() }), 401, 'invalid_token')
      expect(total(unlisted.requests)).toBe(0)
    })

    it('refuses a token naming another path of a listed issuer, and makes no request for it', async () => {
      // Discovery of `${first.url}/tenant` would reach the same server, as a request it counts.
      const before = first.requests.other
      const token = await first.mint({ iss: `${first.url}/tenant` })
      refusal(await call('GET', '/me', { token, ...on() }), 401, 'invalid_token')
      expect(first.requests.other).toBe(before)
    })

    it('refuses to start when JWKS_URI is also set, saying why', async () => {
      const { exit, output } = await runUntilExit(example.dir, {
        ...example.env,
        ISSUER: `${first.issuer} ${second.issuer}`,
        AUDIENCE,
        JWKS_URI: first.jwksUri,
      })
      expect(exit.code, output).not.toBe(0)
      expect(exit.code, output).not.toBeNull()
      expect(output).toMatch(
        /cannot start: JWKS_URI is the key set of a single issuer, but ISSUER lists 2/,
      )
    })
  })

  describe('JWKS_URI with a single issuer', () => {
    let pinned: RunningExample
    let own: TestIssuer | undefined

    beforeAll(async () => {
      own = await createTestIssuer({ audience: AUDIENCE })
      pinned = await startExample(example.dir, {
        ...example.env,
        ISSUER: own.issuer,
        AUDIENCE,
        JWKS_URI: own.jwksUri,
      })
    })

    afterAll(async () => {
      try {
        await stopCleanly(pinned, example.dir)
      } finally {
        await own?.close()
      }
    })

    it('verifies tokens with that key set, without discovery', async () => {
      if (own === undefined) throw new Error('no issuer')
      const reply = await call('GET', '/me', { token: await own.mint(), on: pinned })
      expect(reply.status).toBe(200)
      expect(own.requests.jwks).toBeGreaterThan(0)
      expect(own.requests.discovery).toBe(0)
    })
  })

  describe('DPoP (RFC 9449), DPOP unset: allowed beside Bearer', () => {
    let keys: Material['keys']
    let key: DpopKey
    beforeAll(async () => {
      ;({ keys } = await sharedMaterial())
      key = keys.ES256
    })

    // PUBLIC_ORIGIN unset: http://127.0.0.1:<PORT>, the address this suite reaches the API at.
    const at = (path: string, more: Partial<DpopCall> = {}): DpopCall => ({
      origin: api.url,
      path,
      ...more,
    })
    const bound = (scope?: string, by: DpopKey = key) =>
      issuer.mint(scope === undefined ? {} : { scope }, { dpop: by })

    it.each(DPOP_ALGS)('200 for a bound token with a valid proof by a %s key', async (alg) => {
      const by = keys[alg]
      const token = await bound('orders:read', by)
      const reply = await send('GET', '/me', await dpopHeaders(by, token, at('/me')))
      expect(reply.status, JSON.stringify(reply.body)).toBe(200)
      expect(reply.body).toMatchObject({ sub: 'user-123', claims: { cnf: { jkt: by.thumbprint } } })
      // No server nonces here: nothing to hand out.
      expect(reply.headers.get('dpop-nonce')).toBeNull()
    })

    it("checks each request's method and path (its query aside), and the route's scopes", async () => {
      const token = await bound('orders:read orders:write')
      const list = await send(
        'GET',
        '/orders?limit=5',
        await dpopHeaders(key, token, at('/orders')),
      )
      expect(list.status).toBe(200)
      const post = await dpopHeaders(key, token, at('/orders', { method: 'POST' }))
      expect((await send('POST', '/orders', post)).status).toBe(201)
      const reports = await send('GET', '/reports', await dpopHeaders(key, token, at('/reports')))
      expect(reports.status).toBe(403)
      // The same proof for another route (its htu names /orders) is refused.
      const elsewhere = await dpopHeaders(key, token, at('/orders'))
      dpopRefusal(await send('GET', '/me', elsewhere), 401, 'invalid_dpop_proof')
    })

    it('401 invalid_dpop_proof without a DPoP proof', async () => {
      const reply = await send('GET', '/me', { authorization: `DPoP ${await bound()}` })
      dpopRefusal(reply, 401, 'invalid_dpop_proof')
    })

    it('400 invalid_request for several DPoP proofs (RFC 9449 §4.3: exactly one)', async () => {
      const token = await bound()
      const first = await dpopHeaders(key, token, at('/me'))
      const second = await dpopHeaders(key, token, at('/me'))
      const reply = await send('GET', '/me', { ...first, dpop: [first.dpop!, second.dpop!] })
      dpopRefusal(reply, 400, 'invalid_request')
    })

    // Each flaw breaks exactly one check of RFC 9449 §4.3. A proof by another key than the
    // token's `cnf.jkt` is a token-binding mismatch: invalid_token (RFC 9449 Figure 16).
    const flawError = (flaw: DpopProofFlaw) =>
      flaw === 'jwk-mismatch' ? 'invalid_token' : 'invalid_dpop_proof'
    it.each(DPOP_PROOF_FLAWS)('401 for a proof with the flaw %s', async (flaw) => {
      const token = await bound()
      const reply = await send('GET', '/me', await dpopHeaders(key, token, at('/me', { flaw })))
      dpopRefusal(reply, 401, flawError(flaw))
    })

    it('401 invalid_dpop_proof for a proof used before (replay)', async () => {
      const headers = await dpopHeaders(key, await bound(), at('/me'))
      expect((await send('GET', '/me', headers)).status).toBe(200)
      dpopRefusal(await send('GET', '/me', headers), 401, 'invalid_dpop_proof')
    })

    it('401 invalid_token for an unbound token with a valid proof (refused: docs/CONTRACT.md)', async () => {
      const reply = await send('GET', '/me', await dpopHeaders(key, await mint(), at('/me')))
      dpopRefusal(reply, 401, 'invalid_token')
    })

    it('401 Bearer invalid_token for a DPoP-bound token sent with the Bearer scheme', async () => {
      refusal(await call('GET', '/me', { token: await bound() }), 401, 'invalid_token')
      const catalog = await call('GET', '/catalog', { token: await bound() })
      refusal(catalog, 401, 'invalid_token')
    })

    it('builds htu from PUBLIC_ORIGIN only, never from Host or X-Forwarded-*', async () => {
      const token = await bound()
      const proof = await dpopHeaders(key, token, {
        origin: 'https://attacker.example',
        path: '/me',
      })
      const reply = await send('GET', '/me', {
        ...proof,
        host: 'attacker.example',
        'x-forwarded-host': 'attacker.example',
        'x-forwarded-proto': 'https',
      })
      dpopRefusal(reply, 401, 'invalid_dpop_proof')
    })

    it('every 401 offers DPoP as a second challenge: DPoP algs="…" (RFC 9449 §7.1)', async () => {
      // refusal() checks this on every 401 of the suite; here the whole header, once.
      for (const reply of [
        await call('GET', '/me'),
        await call('GET', '/me', { token: 'not-a-jwt' }),
      ]) {
        const challenges = parseWwwAuthenticate(reply.headers.get('www-authenticate') ?? '')
        expect(challenges.map((c) => c.scheme)).toEqual(['Bearer', 'DPoP'])
        expect(Object.keys(challenges[1]!.params)).toEqual(['algs'])
      }
    })
  })

  describe('certificate-bound tokens (RFC 8705), CLIENT_CERT_HEADER set', () => {
    let certificate: TestCertificate
    let other: TestCertificate
    beforeAll(async () => {
      ;({ certificate, other } = await sharedMaterial())
    })

    /** A bearer request, with `presented` in the header a TLS-terminating proxy would set. */
    const headers = (token: string, presented?: TestCertificate): OutgoingHttpHeaders => ({
      authorization: `Bearer ${token}`,
      ...(presented === undefined ? {} : { [CERT_HEADER]: encodeURIComponent(presented.certPem) }),
    })

    it('401 invalid_token without the certificate', async () => {
      const token = await issuer.mint({}, { certificate })
      refusal(await send('GET', '/me', headers(token)), 401, 'invalid_token')
    })

    it('200 with its certificate', async () => {
      const token = await issuer.mint({ scope: 'orders:read' }, { certificate })
      const reply = await send('GET', '/orders', headers(token, certificate))
      expect(reply.status).toBe(200)
    })

    it('401 invalid_token with another certificate', async () => {
      const token = await issuer.mint({}, { certificate })
      refusal(await send('GET', '/me', headers(token, other)), 401, 'invalid_token')
    })

    it('leaves tokens that are not certificate-bound alone', async () => {
      expect((await send('GET', '/me', headers(await mint(), other))).status).toBe(200)
    })
  })

  describe('DPOP=off; DPOP=required with DPOP_NONCE=1 and PUBLIC_ORIGIN (two more instances)', () => {
    const PUBLIC_ORIGIN = 'https://api.example.com'
    let off: RunningExample | undefined
    let strict: RunningExample | undefined
    let key: DpopKey
    const running = (which: RunningExample | undefined): RunningExample => {
      if (which === undefined) throw new Error('not started')
      return which
    }

    beforeAll(async () => {
      key = (await sharedMaterial()).keys.ES256
      const env = { ...example.env, ISSUER: issuer.issuer, AUDIENCE }
      // Side by side: the suite waits for one start-up, not two.
      const [offStart, strictStart] = await Promise.allSettled([
        startExample(example.dir, { ...env, DPOP: 'off' }),
        startExample(example.dir, {
          ...env,
          DPOP: 'required',
          DPOP_NONCE: '1',
          PUBLIC_ORIGIN,
          CLIENT_CERT_HEADER: CERT_HEADER,
        }),
      ])
      if (offStart.status === 'fulfilled') off = offStart.value
      if (strictStart.status === 'fulfilled') strict = strictStart.value
      for (const start of [offStart, strictStart]) {
        if (start.status === 'rejected') throw start.reason
      }
    })

    afterAll(async () => {
      const stops = await Promise.allSettled([
        stopCleanly(off, example.dir),
        stopCleanly(strict, example.dir),
      ])
      for (const stop of stops) if (stop.status === 'rejected') throw stop.reason
    })

    describe('DPOP=off', () => {
      it('DPoP is an unknown scheme: 401 without error, and no DPoP challenge', async () => {
        const api = running(off)
        const token = await issuer.mint({}, { dpop: key })
        const proof = await dpopHeaders(key, token, { origin: api.url, path: '/me' })
        refusal(await send('GET', '/me', proof, api), 401, undefined, false)
        // On the optional route, an unknown scheme is no credentials: anonymous.
        const catalog = await send(
          'GET',
          '/catalog',
          await dpopHeaders(key, token, { origin: api.url, path: '/catalog' }),
          api,
        )
        expect(catalog).toMatchObject({ status: 200, body: { sub: null } })
      })

      it('offers no DPoP challenge on any 401', async () => {
        refusal(await call('GET', '/me', { on: running(off) }), 401, undefined, false)
        const bad = await call('GET', '/me', { token: 'not-a-jwt', on: running(off) })
        refusal(bad, 401, 'invalid_token', false)
      })

      it('accepts bearer tokens, but never a DPoP-bound one', async () => {
        expect((await call('GET', '/me', { token: await mint(), on: running(off) })).status).toBe(
          200,
        )
        const bound = await issuer.mint({}, { dpop: key })
        refusal(
          await call('GET', '/me', { token: bound, on: running(off) }),
          401,
          'invalid_token',
          false,
        )
      })

      it('trusts no certificate header without CLIENT_CERT_HEADER', async () => {
        const { certificate } = await sharedMaterial()
        const token = await issuer.mint({}, { certificate })
        const reply = await send(
          'GET',
          '/me',
          {
            authorization: `Bearer ${token}`,
            [CERT_HEADER]: encodeURIComponent(certificate.certPem),
          },
          running(off),
        )
        refusal(reply, 401, 'invalid_token', false)
      })
    })

    describe(`DPOP=required, DPOP_NONCE=1, PUBLIC_ORIGIN=${PUBLIC_ORIGIN}`, () => {
      const at = (path: string, more: Partial<DpopCall> = {}): DpopCall => ({
        origin: PUBLIC_ORIGIN,
        path,
        ...more,
      })

      /** The `DPoP-Nonce` of the `use_dpop_nonce` refusal of a request with `headers`, checked. */
      async function nonceFrom(headers: OutgoingHttpHeaders): Promise<string> {
        const reply = await send('GET', '/me', headers, running(strict))
        dpopRefusal(reply, 401, 'use_dpop_nonce')
        const nonce = reply.headers.get('dpop-nonce')
        expect(nonce).toMatch(NONCE)
        return nonce ?? ''
      }

      it('401 use_dpop_nonce with a DPoP-Nonce without a nonce; the retry with it gets 200', async () => {
        const token = await issuer.mint({}, { dpop: key })
        const nonce = await nonceFrom(await dpopHeaders(key, token, at('/me')))
        const retry = await send(
          'GET',
          '/me',
          await dpopHeaders(key, token, at('/me', { nonce })),
          running(strict),
        )
        expect(retry.status, JSON.stringify(retry.body)).toBe(200)
        // A fresher nonce comes along only near the end of a nonce step (RFC 9449 §8.2).
        const next = retry.headers.get('dpop-nonce')
        if (next !== null) {
          expect(next).toMatch(NONCE)
          expect(next).not.toBe(nonce)
        }
      })

      it('401 use_dpop_nonce with the nonce to use for a wrong nonce', async () => {
        const token = await issuer.mint({}, { dpop: key })
        const wrong = await dpopHeaders(key, token, at('/me', { nonce: 'not-the-nonce' }))
        const nonce = await nonceFrom(wrong)
        const retry = await dpopHeaders(key, token, at('/me', { nonce }))
        expect((await send('GET', '/me', retry, running(strict))).status).toBe(200)
      })

      it('builds htu from PUBLIC_ORIGIN: a proof naming the address the request reached is refused', async () => {
        const token = await issuer.mint({}, { dpop: key })
        const nonce = await nonceFrom(await dpopHeaders(key, token, at('/me')))
        const reached = { origin: running(strict).url, path: '/me', nonce }
        const reply = await send(
          'GET',
          '/me',
          await dpopHeaders(key, token, reached),
          running(strict),
        )
        dpopRefusal(reply, 401, 'invalid_dpop_proof')
      })

      it('401 in a DPoP challenge for a bearer token', async () => {
        const reply = await call('GET', '/me', { token: await mint(), on: running(strict) })
        dpopRefusal(reply, 401, 'invalid_token')
      })

      it('401 without credentials offers DPoP beside Bearer', async () => {
        refusal(await call('GET', '/me', { on: running(strict) }), 401, undefined)
      })

      it('accepts a certificate-bound bearer token with its certificate: sender-constrained too', async () => {
        const { certificate } = await sharedMaterial()
        const token = await issuer.mint({}, { certificate })
        const headers = {
          authorization: `Bearer ${token}`,
          [CERT_HEADER]: encodeURIComponent(certificate.certPem),
        }
        expect((await send('GET', '/me', headers, running(strict))).status).toBe(200)
        const without = await send(
          'GET',
          '/me',
          { authorization: headers.authorization },
          running(strict),
        )
        expect(without.status).toBe(401)
      })
    })
  })

  describe('never a 500 for any request content', () => {
    it.each([
      ['two Authorization values', 'Bearer a.b.c, Bearer d.e.f'],
      ['a JSON-looking token', 'Bearer {"alg":"none"}'],
      ['lots of dots', `Bearer ${'.'.repeat(100)}`],
      ['Latin-1 bytes', 'Bearer t\u00e9st'],
      ['a huge header', `Bearer ${'x'.repeat(60_000)}`],
    ])('%s', async (_what, authorization) => {
      const status = await callAlone('GET', '/me', authorization)
      expect([400, 401, 431]).toContain(status)
    })

    it('a malformed JSON body on POST /orders', async () => {
      const response = await fetch(`${api.url}/orders`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await mint('orders:write')}`,
          'content-type': 'application/json',
        },
        body: '{"item":',
      })
      statuses.push({ what: 'POST /orders (malformed JSON)', status: response.status })
      expect(response.status).toBeLessThan(500)
    })

    it('no response so far was a 5xx', () => {
      expect(statuses.filter(({ status }) => status >= 500)).toEqual([])
    })
  })

  describe('503 when the issuer keys cannot be obtained', () => {
    let unavailable: RunningExample
    let jwksUri: string

    beforeAll(async () => {
      // JWKS_URI names a port nothing listens on: keys cannot be fetched, and none are cached.
      jwksUri = `http://127.0.0.1:${await freePort()}/jwks`
      unavailable = await startExample(example.dir, {
        ...example.env,
        ISSUER: issuer.issuer,
        AUDIENCE,
        JWKS_URI: jwksUri,
      })
    })

    afterAll(async () => {
      if ((unavailable as RunningExample | undefined) === undefined) return
      const exit = await unavailable.stop()
      expect(exit, unavailable.output()).toEqual({ code: 0, signal: null })
    })

    it('answers 503 with Retry-After, and accepts no token', async () => {
      for (let attempt = 0; attempt < 2; attempt++) {
        const response = await fetch(`${unavailable.url}/me`, {
          headers: { authorization: `Bearer ${await mint('orders:read')}` },
        })
        expect(response.status).toBe(503)
        expect(response.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/)
        expect(bearerChallenge(response.headers.get('www-authenticate')).params.realm).toEqual(
          expect.any(String),
        )
        expect(await response.json()).toMatchObject({ error_description: expect.any(String) })
      }
    })

    it('still answers unguarded routes', async () => {
      expect((await fetch(`${unavailable.url}/health`)).status).toBe(200)
    })

    it('logs one line for the failure episode, naming the unreachable key set', async () => {
      const lines = await keySetFailureLines(unavailable)
      expect(lines).toHaveLength(1)
      expect(lines[0]).toContain(jwksUri)
    })
  })

  describe('a configuration that cannot work: discovery names another issuer', () => {
    let misnamed: RunningExample
    // The test issuer's identifier has no trailing slash; its discovery document says so.
    const configured = () => `${issuer.issuer}/`

    beforeAll(async () => {
      misnamed = await startExample(example.dir, {
        ...example.env,
        ISSUER: configured(),
        AUDIENCE,
      })
    })

    afterAll(async () => {
      await stopCleanly(misnamed, example.dir)
    })

    it('starts, answers 503 with Retry-After, and logs one line per failure episode', async () => {
      const token = await mint('orders:read')
      const discoveries = issuer.requests.discovery
      for (let attempt = 0; attempt < 2; attempt++) {
        // The second request comes after the first back-off: discovery is tried, and fails, again.
        if (attempt > 0) await sleep(1_200)
        const response = await fetch(`${misnamed.url}/orders`, {
          headers: { authorization: `Bearer ${token}` },
        })
        expect(response.status).toBe(503)
        expect(response.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/)
        await response.arrayBuffer()
      }
      expect(issuer.requests.discovery - discoveries).toBeGreaterThanOrEqual(2)

      const lines = await keySetFailureLines(misnamed)
      expect(lines, misnamed.output()).toHaveLength(1)
      // The cause, with the expected (configured) and actual (discovered) values.
      expect(lines[0]).toContain(`'${configured()}'`)
      expect(lines[0]).toContain(`'${issuer.issuer}'`)
      expectNoTokenIn(misnamed.output(), token)
    })

    it('still answers unguarded routes', async () => {
      expect((await fetch(`${misnamed.url}/health`)).status).toBe(200)
    })
  })
})
