/**
 * The token subprotocol (opt-in): `Sec-WebSocket-Protocol: <app>, base64url.bearer.<token>`,
 * what a browser can send (`new WebSocket(url, [app, entry])`). The entry is verified like an
 * `Authorization: Bearer` header, removed before `ws` selects a subprotocol, and refused (400)
 * when the mode is not enabled.
 */
import { once } from 'node:events'
import { request, type IncomingMessage } from 'node:http'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearerChallenge } from '../../../test/support/www-authenticate.js'
import {
  connect,
  startServer,
  tokenProtocol,
  type Harness,
  type Outcome,
} from './support/harness.js'

const audience = 'https://api.example.com'
let issuer: TestIssuer
let api: Harness
let plain: Harness

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithm: 'ES256', audience })
  api = await startServer(
    { issuer: issuer.issuer, audience, subprotocol: true, policy: { anyOf: ['chat:read'] } },
    // The application's own choice among what is left of the offer.
    { handleProtocols: (protocols) => (protocols.has('chat.v2') ? 'chat.v2' : false) },
  )
  plain = await startServer({ issuer: issuer.issuer, audience })
})
afterAll(async () => {
  await api.close()
  await plain.close()
  await issuer.close()
})

function refused(outcome: Outcome): Extract<Outcome, { kind: 'refused' }> {
  if (outcome.kind !== 'refused') {
    outcome.ws.terminate()
    throw new Error('the upgrade was accepted')
  }
  return outcome
}

describe('subprotocol: true', () => {
  it('accepts the token entry; the application subprotocol is selected, never the token', async () => {
    const token = await issuer.mint({ scope: 'chat:read' })
    const outcome = await connect(api, { protocols: ['chat.v2', tokenProtocol(token)] })
    expect(outcome.kind).toBe('open')
    if (outcome.kind !== 'open') return
    expect(outcome.ws.protocol).toBe('chat.v2')
    expect(outcome.headers['sec-websocket-protocol']).toBe('chat.v2')
    const { auth, request } = api.accepted.at(-1)!
    expect(auth.token).toBe(token)
    // Nothing of the token is left on the request the application (and its logs) sees.
    expect(request.headers['sec-websocket-protocol']).toBe('chat.v2')
    expect(request.headers.authorization).toBeUndefined()
    expect(request.rawHeaders.join('\n')).not.toContain(tokenProtocol(token))
    outcome.ws.close()
  })

  it('the token entry may come first: ws still selects the application subprotocol', async () => {
    const token = await issuer.mint({ scope: 'chat:read' })
    const outcome = await connect(api, { protocols: [tokenProtocol(token), 'chat.v2'] })
    expect(outcome.kind).toBe('open')
    if (outcome.kind === 'open') {
      expect(outcome.ws.protocol).toBe('chat.v2')
      outcome.ws.close()
    }
  })

  it('a token entry alone: 400, a browser would fail a handshake that selects none (WHATWG)', async () => {
    const token = await issuer.mint({ scope: 'chat:read' })
    const r = refused(await connect(api, { protocols: [tokenProtocol(token)] }))
    expect(r.status).toBe(400)
    expect(bearerChallenge(r.headers['www-authenticate']).params.error).toBe('invalid_request')
  })

  it('a token entry and an Authorization header: 400, one method only (RFC 6750 §2)', async () => {
    const token = await issuer.mint({ scope: 'chat:read' })
    const r = refused(
      await connect(api, {
        protocols: ['chat.v2', tokenProtocol(token)],
        headers: { authorization: `Bearer ${token}` },
      }),
    )
    expect(r.status).toBe(400)
    expect(r.body.error).toBe('invalid_request')
  })

  it('two token entries: 400', async () => {
    const a = await issuer.mint({ scope: 'chat:read' })
    const b = await issuer.mint({ scope: 'chat:read' })
    const r = refused(
      await connect(api, { protocols: ['chat.v2', tokenProtocol(a), tokenProtocol(b)] }),
    )
    expect(r.status).toBe(400)
  })

  it.each([
    ['padding (= is not allowed in a subprotocol)', 'base64url.bearer.YWJj='],
    ['standard base64 characters', 'base64url.bearer.a+b/'],
    ['an impossible length', 'base64url.bearer.abcde'],
    ['non-canonical trailing bits (RFC 4648 §3.5)', 'base64url.bearer.YR'],
    ['nothing after the prefix', 'base64url.bearer.'],
    ['a decoded token with a space', tokenProtocol('a b')],
  ])('a malformed entry, %s: 400 invalid_request', async (_name, entry) => {
    const r = await rawUpgrade(api, `chat.v2, ${entry}`)
    expect(r.status).toBe(400)
    expect(r.text).toContain('invalid_request')
  })

  it('a forged token in the entry: 401 invalid_token', async () => {
    const foreign = await issuer.generateKey('ES256')
    const token = await issuer.mint({ scope: 'chat:read' }, { key: foreign })
    const r = refused(await connect(api, { protocols: ['chat.v2', tokenProtocol(token)] }))
    expect(r.status).toBe(401)
    expect(bearerChallenge(r.headers['www-authenticate']).params.error).toBe('invalid_token')
  })

  it('a token entry lacking the scope: 403 insufficient_scope', async () => {
    const token = await issuer.mint({ scope: 'other' })
    const r = refused(await connect(api, { protocols: ['chat.v2', tokenProtocol(token)] }))
    expect(r.status).toBe(403)
    expect(bearerChallenge(r.headers['www-authenticate']).params.scope).toBe('chat:read')
  })

  it('other subprotocols alone are left to ws and the application', async () => {
    const token = await issuer.mint({ scope: 'chat:read' })
    const outcome = await connect(api, {
      protocols: ['chat.v1', 'chat.v2'],
      headers: { authorization: `Bearer ${token}` },
    })
    expect(outcome.kind).toBe('open')
    if (outcome.kind === 'open') {
      expect(outcome.ws.protocol).toBe('chat.v2')
      outcome.ws.close()
    }
  })

  it('a custom prefix (Kubernetes clients)', async () => {
    const prefix = 'base64url.bearer.authorization.k8s.io.'
    const k8s = await startServer({
      issuer: issuer.issuer,
      audience,
      subprotocol: { prefix },
    })
    try {
      const token = await issuer.mint()
      const outcome = await connect(k8s, {
        protocols: [tokenProtocol(token, prefix), 'base64.channel.k8s.io'],
      })
      expect(outcome.kind).toBe('open')
      if (outcome.kind === 'open') {
        expect(outcome.ws.protocol).toBe('base64.channel.k8s.io')
        outcome.ws.close()
      }
    } finally {
      await k8s.close()
    }
  })
})

describe('subprotocol not enabled (the default)', () => {
  it('a token entry is refused with 400 invalid_request (RFC 6750 §3.1, unsupported parameter)', async () => {
    const token = await issuer.mint({ scope: 'chat:read' })
    const r = refused(await connect(plain, { protocols: ['chat.v2', tokenProtocol(token)] }))
    expect(r.status).toBe(400)
    expect(bearerChallenge(r.headers['www-authenticate']).params.error).toBe('invalid_request')
    expect(plain.accepted).toEqual([])
  })

  it('even beside a valid Authorization header: the entry would be echoed otherwise', async () => {
    const token = await issuer.mint({ scope: 'chat:read' })
    const r = refused(
      await connect(plain, {
        protocols: [tokenProtocol(token), 'chat.v2'],
        headers: { authorization: `Bearer ${token}` },
      }),
    )
    expect(r.status).toBe(400)
  })
})

/** An upgrade with a hand-written Sec-WebSocket-Protocol value, over a raw HTTP request. */
async function rawUpgrade(
  harness: Harness,
  protocolHeader: string,
): Promise<{ status: number; text: string }> {
  const req = request(`${harness.origin}/socket`, {
    headers: {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-protocol': protocolHeader,
    },
  })
  req.end()
  const [res] = (await once(req, 'response')) as [IncomingMessage]
  const chunks: Buffer[] = []
  for await (const chunk of res) chunks.push(chunk as Buffer)
  return { status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }
}
