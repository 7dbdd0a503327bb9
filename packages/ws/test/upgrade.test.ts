/**
 * Verification at the HTTP upgrade, over loopback with the real `ws` client: every refusal is an
 * ordinary HTTP response (RFC 6455 §4.2.2) carrying the status, `WWW-Authenticate` and RFC 6750
 * JSON body of any other bearer-guard refusal, and no socket is opened.
 */
import { createTestIssuer, generateDpopKey, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import type { WebSocket } from 'ws'
import type { IncomingMessage } from 'node:http'
import { WebSocketServer } from 'ws'
import type { VerifiedAccessToken } from '@bearer-guard/core'
import { bearerChallenge, dpopChallenge } from '../../../test/support/www-authenticate.js'
import { bearerGuard } from '../src/index.js'
import { connect, startServer, type Harness, type Outcome } from './support/harness.js'

const audience = 'https://api.example.com'
let issuer: TestIssuer
let api: Harness

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithm: 'ES256', audience })
  api = await startServer({
    issuer: issuer.issuer,
    audience,
    realm: 'chat',
    policy: { allOf: ['chat:read'] },
  })
})
afterAll(async () => {
  await api.close()
  await issuer.close()
})

function refused(outcome: Outcome): Extract<Outcome, { kind: 'refused' }> {
  if (outcome.kind !== 'refused') {
    outcome.ws.terminate()
    throw new Error('the upgrade was accepted')
  }
  return outcome
}

describe('an accepted upgrade', () => {
  it('opens the socket and hands the verified token to the callback', async () => {
    const token = await issuer.mint({ scope: 'chat:read chat:write' })
    const outcome = await connect(api, { headers: { authorization: `Bearer ${token}` } })
    expect(outcome.kind).toBe('open')
    if (outcome.kind !== 'open') return
    expect(outcome.hello).toEqual({ sub: 'user-123', scopes: ['chat:read', 'chat:write'] })
    const last = api.accepted.at(-1)!
    expect(last.auth.token).toBe(token)
    expect(last.request.url).toBe('/socket')
    outcome.ws.close()
  })

  it('types the callback: the ws socket, the verified token, the request', () => {
    const wss = new WebSocketServer({ noServer: true })
    const guard = bearerGuard({ issuer: issuer.issuer, audience, wss, logger: false })
    expectTypeOf(guard.handleUpgrade)
      .parameter(3)
      .toEqualTypeOf<(ws: WebSocket, auth: VerifiedAccessToken, request: IncomingMessage) => void>()
    wss.close()
  })
})

describe('refusals at the upgrade (RFC 6750 §3.1, RFC 6455 §4.2.2)', () => {
  it('no credentials: 401 with a Bearer challenge without error (RFC 6750 §3.1)', async () => {
    const r = refused(await connect(api))
    expect(r.status).toBe(401)
    expect(bearerChallenge(r.headers['www-authenticate']).params).toEqual({ realm: 'chat' })
    expect(r.headers['content-type']).toBe('application/json')
    expect(r.headers.connection).toBe('close')
    expect(r.body).toEqual({ error_description: expect.any(String) })
    expect(api.accepted.length).toBe(1) // only the accepted socket of the first test
  })

  it('another scheme is no credentials: 401 without error (RFC 6750 §3.1)', async () => {
    const r = refused(await connect(api, { headers: { authorization: 'Basic dXNlcjpwYXNz' } }))
    expect(r.status).toBe(401)
    expect(bearerChallenge(r.headers['www-authenticate']).params.error).toBeUndefined()
  })

  it.each([
    ['Bearer without a token', 'Bearer '],
    ['a token outside token68 (RFC 6750 §2.1)', 'Bearer a"b'],
  ])('malformed, %s: 400 invalid_request', async (_name, authorization) => {
    const r = refused(await connect(api, { headers: { authorization } }))
    expect(r.status).toBe(400)
    const { params } = bearerChallenge(r.headers['www-authenticate'])
    expect(params.error).toBe('invalid_request')
    expect(params.realm).toBe('chat')
    expect(r.body.error).toBe('invalid_request')
  })

  it('a token sent twice, in the header and the query: 400 (RFC 6750 §2)', async () => {
    const token = await issuer.mint({ scope: 'chat:read' })
    const r = refused(
      await connect(api, {
        headers: { authorization: `Bearer ${token}` },
        path: `/socket?access_token=${token}`,
      }),
    )
    expect(r.status).toBe(400)
    expect(r.body.error).toBe('invalid_request')
  })

  it('a token signed by a foreign key: 401 invalid_token, nothing of the token echoed', async () => {
    const foreign = await issuer.generateKey('ES256')
    const token = await issuer.mint({ scope: 'chat:read' }, { key: foreign })
    const r = refused(await connect(api, { headers: { authorization: `Bearer ${token}` } }))
    expect(r.status).toBe(401)
    expect(bearerChallenge(r.headers['www-authenticate']).params.error).toBe('invalid_token')
    expect(r.body.error).toBe('invalid_token')
    const all = `${JSON.stringify(r.headers)}${r.text}`
    for (const part of token.split('.')) expect(all).not.toContain(part)
  })

  it('an expired token: 401 invalid_token (RFC 7519 §4.1.4)', async () => {
    const now = Math.floor(Date.now() / 1000)
    const token = await issuer.mint({ scope: 'chat:read', iat: now - 600, exp: now - 300 })
    const r = refused(await connect(api, { headers: { authorization: `Bearer ${token}` } }))
    expect(r.status).toBe(401)
    expect(r.body.error).toBe('invalid_token')
  })

  it('a valid token without the required scope: 403 insufficient_scope naming it (RFC 6750 §3.1)', async () => {
    const token = await issuer.mint({ scope: 'chat:write' })
    const r = refused(await connect(api, { headers: { authorization: `Bearer ${token}` } }))
    expect(r.status).toBe(403)
    const { params } = bearerChallenge(r.headers['www-authenticate'])
    expect(params.error).toBe('insufficient_scope')
    expect(params.scope).toBe('chat:read')
    expect(r.body.error).toBe('insufficient_scope')
  })

  it('keys that cannot be obtained: 503 with Retry-After, one log line, no token accepted', async () => {
    const down = await createTestIssuer({ audience })
    down.fail('all', { kind: 'status', status: 500 })
    const broken = await startServer({ issuer: down.issuer, audience, retryAfter: 7 })
    try {
      const token = await down.mint()
      const r = refused(await connect(broken, { headers: { authorization: `Bearer ${token}` } }))
      expect(r.status).toBe(503)
      expect(r.headers['retry-after']).toBe('7')
      expect(r.body.error).toBe('temporarily_unavailable')
      expect(broken.accepted).toEqual([])
      expect(broken.warnings.length).toBe(1)
      expect(broken.warnings[0]).not.toContain(token.split('.')[1])
    } finally {
      await broken.close()
      await down.close()
    }
  })
})

describe('the URL query (RFC 6750 §2.3), only where the validator allows it', () => {
  it('allowQuery: a token in ?access_token= is accepted', async () => {
    const queryApi = await startServer({ issuer: issuer.issuer, audience, allowQuery: true })
    try {
      const token = await issuer.mint()
      const outcome = await connect(queryApi, { path: `/socket?access_token=${token}` })
      expect(outcome.kind).toBe('open')
      if (outcome.kind === 'open') outcome.ws.close()
    } finally {
      await queryApi.close()
    }
  })

  it('by default, a token in the query is no credentials: 401 without error', async () => {
    const token = await issuer.mint({ scope: 'chat:read' })
    const r = refused(await connect(api, { path: `/socket?access_token=${token}` }))
    expect(r.status).toBe(401)
    expect(bearerChallenge(r.headers['www-authenticate']).params.error).toBeUndefined()
  })
})

describe('DPoP at the upgrade (RFC 9449): the handshake is an HTTP GET', () => {
  let dpopApi: Harness
  beforeAll(async () => {
    dpopApi = await startServer((origin) => ({
      issuer: issuer.issuer,
      audience,
      dpop: { origin },
    }))
  })
  afterAll(async () => {
    await dpopApi.close()
  })

  it('a DPoP-bound token with a valid proof for GET and the socket URL is accepted (§4.3)', async () => {
    const key = await generateDpopKey()
    const token = await issuer.mint({ scope: 'chat:read' }, { dpop: key })
    const dpop = await key.proof({
      htm: 'GET',
      htu: `${dpopApi.origin}/socket`,
      accessToken: token,
    })
    const outcome = await connect(dpopApi, { headers: { authorization: `DPoP ${token}`, dpop } })
    expect(outcome.kind).toBe('open')
    if (outcome.kind === 'open') outcome.ws.close()
  })

  it('a DPoP-bound token sent as a bearer token: 401 invalid_token (§7.1)', async () => {
    const key = await generateDpopKey()
    const token = await issuer.mint({ scope: 'chat:read' }, { dpop: key })
    const r = refused(await connect(dpopApi, { headers: { authorization: `Bearer ${token}` } }))
    expect(r.status).toBe(401)
    expect(bearerChallenge(r.headers['www-authenticate']).params.error).toBe('invalid_token')
  })

  it('the DPoP scheme without a proof: 401 invalid_dpop_proof in the DPoP challenge (§7.1)', async () => {
    const key = await generateDpopKey()
    const token = await issuer.mint({ scope: 'chat:read' }, { dpop: key })
    const r = refused(await connect(dpopApi, { headers: { authorization: `DPoP ${token}` } }))
    expect(r.status).toBe(401)
    const challenge = dpopChallenge(r.headers['www-authenticate'])
    expect(challenge.params.error).toBe('invalid_dpop_proof')
    expect(challenge.params.algs).toContain('ES256')
  })

  it('a proof for another URL: 401 invalid_dpop_proof (§4.3 check 9)', async () => {
    const key = await generateDpopKey()
    const token = await issuer.mint({ scope: 'chat:read' }, { dpop: key })
    const dpop = await key.proof({ htm: 'GET', htu: `${dpopApi.origin}/other`, accessToken: token })
    const r = refused(await connect(dpopApi, { headers: { authorization: `DPoP ${token}`, dpop } }))
    expect(r.status).toBe(401)
    expect(dpopChallenge(r.headers['www-authenticate']).params.error).toBe('invalid_dpop_proof')
  })

  it('with nonces, a fresh DPoP-Nonce rides on the 101 response (§8.2)', async () => {
    // The validator's clock is injected: mid-step first, then in the step's last 30 s, where a
    // response hands out the next step's nonce ahead of time.
    const stepStart = Math.floor(Date.now() / 300_000) * 300_000
    let now = stepStart + 1_000
    const nonceApi = await startServer((origin) => ({
      issuer: issuer.issuer,
      audience,
      clock: () => now,
      dpop: { origin, nonce: { secret: 'a fixed secret of at least 32 bytes', step: 300 } },
    }))
    try {
      const key = await generateDpopKey()
      const iat = Math.floor(stepStart / 1000)
      const token = await issuer.mint({ scope: 'chat:read', iat, exp: iat + 3600 }, { dpop: key })
      const htu = `${nonceApi.origin}/socket`
      const proof = (nonce?: string): Promise<string> =>
        key.proof({ htm: 'GET', htu, accessToken: token, iat: Math.floor(now / 1000), nonce })
      const first = refused(
        await connect(nonceApi, {
          headers: { authorization: `DPoP ${token}`, dpop: await proof() },
        }),
      )
      expect(first.status).toBe(401)
      expect(dpopChallenge(first.headers['www-authenticate']).params.error).toBe('use_dpop_nonce')
      const nonce = first.headers['dpop-nonce'] as string
      expect(nonce).toMatch(/^[\w-]{22}$/)

      now = stepStart + 300_000 - 5_000
      const opened = await connect(nonceApi, {
        headers: { authorization: `DPoP ${token}`, dpop: await proof(nonce) },
      })
      expect(opened.kind).toBe('open')
      if (opened.kind !== 'open') return
      expect(opened.headers['dpop-nonce']).toMatch(/^[\w-]{22}$/)
      expect(opened.headers['dpop-nonce']).not.toBe(nonce)
      opened.ws.close()
    } finally {
      await nonceApi.close()
    }
  })
})
