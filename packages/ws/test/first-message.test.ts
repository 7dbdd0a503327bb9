/**
 * First-message authentication (opt-in): the handshake completes without credentials and the
 * first (text) message must be `Bearer <token>`. The application's callback sees the socket only
 * once that token verifies; every refusal is a close frame (RFC 6455 §7.4.1). Without the option,
 * an upgrade without credentials is a 401, as always.
 */
import { once } from 'node:events'
import { connect as connectRaw, type Socket } from 'node:net'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closed, connect, inbox, openRaw, startServer, type Harness } from './support/harness.js'

const audience = 'https://api.example.com'
let issuer: TestIssuer
let api: Harness

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithm: 'ES256', audience })
  api = await startServer({
    issuer: issuer.issuer,
    audience,
    policy: { allOf: ['chat:read'] },
    firstMessage: { timeout: 0.3, maxBytes: 4096 },
  })
})
afterAll(async () => {
  await api.close()
  await issuer.close()
})

describe('firstMessage enabled', () => {
  it('authenticates with the first message, then delivers the messages sent right after it', async () => {
    const token = await issuer.mint({ scope: 'chat:read' })
    const before = api.accepted.length
    const ws = await openRaw(api)
    const messages = inbox(ws)
    // Sent back to back, in one write: they arrive while the token is being verified.
    ws.send(`Bearer ${token}`)
    ws.send('one')
    ws.send('two')
    const hello = JSON.parse(await messages.next()) as { sub: string }
    expect(hello.sub).toBe('user-123')
    expect(await messages.next()).toBe('one')
    expect(await messages.next()).toBe('two')
    expect(api.accepted.length).toBe(before + 1)
    expect(api.accepted.at(-1)!.auth.token).toBe(token)
    ws.close()
  })

  it('a token in the upgrade is still verified there: a bad one gets the HTTP 401', async () => {
    const foreign = await issuer.generateKey('ES256')
    const token = await issuer.mint({ scope: 'chat:read' }, { key: foreign })
    const outcome = await connect(api, { headers: { authorization: `Bearer ${token}` } })
    expect(outcome.kind).toBe('refused')
    if (outcome.kind === 'refused') expect(outcome.status).toBe(401)
  })

  it('no message within the timeout: closed with 1008 authentication timeout', async () => {
    const ws = await openRaw(api)
    const started = Date.now()
    expect(await closed(ws)).toEqual({ code: 1008, reason: 'authentication timeout' })
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
  })

  it('a forged token: closed with 1008 invalid_token, the application never sees the socket', async () => {
    const before = api.accepted.length
    const foreign = await issuer.generateKey('ES256')
    const token = await issuer.mint({ scope: 'chat:read' }, { key: foreign })
    const ws = await openRaw(api)
    ws.send(`Bearer ${token}`)
    const { code, reason } = await closed(ws)
    expect(code).toBe(1008)
    expect(reason).toMatch(/^invalid_token: /)
    expect(reason).not.toContain(token.split('.')[1])
    expect(api.accepted.length).toBe(before)
  })

  it('a token lacking the scope: closed with 1008 insufficient_scope', async () => {
    const token = await issuer.mint({ scope: 'other' })
    const ws = await openRaw(api)
    ws.send(`Bearer ${token}`)
    const { code, reason } = await closed(ws)
    expect(code).toBe(1008)
    expect(reason).toMatch(/^insufficient_scope: /)
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123) // RFC 6455 §5.5
  })

  it('a first message that is not a credential: closed with 1008', async () => {
    const ws = await openRaw(api)
    ws.send('hello')
    const { code, reason } = await closed(ws)
    expect(code).toBe(1008)
    expect(reason).toMatch(/^invalid_request: /)
  })

  it('a binary first message: closed with 1008', async () => {
    const token = await issuer.mint({ scope: 'chat:read' })
    const ws = await openRaw(api)
    ws.send(Buffer.from(`Bearer ${token}`))
    expect(await closed(ws)).toEqual({
      code: 1008,
      reason: 'invalid_request: the first message must be a text message',
    })
  })

  it('keys that cannot be obtained: closed with 1013 Try Again Later (the 503 of this mode)', async () => {
    const down = await createTestIssuer({ audience })
    down.fail('all', { kind: 'status', status: 500 })
    const server = await startServer({ issuer: down.issuer, audience, firstMessage: true })
    try {
      const ws = await openRaw(server)
      ws.send(`Bearer ${await down.mint()}`)
      const { code, reason } = await closed(ws)
      expect(code).toBe(1013)
      expect(reason).toMatch(/^temporarily_unavailable: /)
      expect(server.accepted).toEqual([])
    } finally {
      await server.close()
      await down.close()
    }
  })

  it('more bytes than maxBytes before authenticating: closed with 1009', async () => {
    const ws = await openRaw(api)
    ws.send('x'.repeat(8192))
    expect(await closed(ws)).toEqual({ code: 1009, reason: 'authentication message too large' })
  })

  it('a peer streaming one endless frame is cut off after 2 x maxBytes, long before the timeout', async () => {
    const server = await startServer({
      issuer: issuer.issuer,
      audience,
      firstMessage: { timeout: 10, maxBytes: 4096 },
    })
    try {
      const { port } = new URL(server.origin)
      const peer = connectRaw(Number(port), '127.0.0.1')
      await handshake(peer)
      // A masked text frame (RFC 6455 §5.2) announcing 1 MiB, of which only the start is sent.
      const header = Buffer.from([0x81, 0xff, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 2, 3, 4])
      peer.write(header)
      const started = Date.now()
      const chunk = Buffer.alloc(1024, 0x61)
      let sent = 0
      const ended = once(peer, 'close')
      while (!peer.destroyed && sent < 64 * 1024) {
        peer.write(chunk)
        sent += chunk.length
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
      await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 3000))])
      expect(peer.destroyed).toBe(true)
      expect(Date.now() - started).toBeLessThan(2000)
      expect(sent).toBeLessThan(64 * 1024)
    } finally {
      await server.close()
    }
  })

  it('a client gone while its token is verified never reaches the application', async () => {
    const slow = await createTestIssuer({ algorithm: 'ES256', audience })
    slow.fail('all', { kind: 'delay', ms: 300 })
    const server = await startServer({
      issuer: slow.issuer,
      audience,
      firstMessage: { timeout: 5 },
    })
    try {
      const ws = await openRaw(server)
      ws.send(`Bearer ${await slow.mint()}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
      ws.terminate()
      await once(ws, 'close')
      await new Promise((resolve) => setTimeout(resolve, 700))
      expect(slow.requests.jwks).toBe(1) // the verification did run to its end
      expect(server.accepted).toEqual([])
    } finally {
      await server.close()
      await slow.close()
    }
  })
})

describe('firstMessage not enabled (the default)', () => {
  it('an upgrade without credentials is refused with the HTTP 401: no socket to send a token on', async () => {
    const plain = await startServer({ issuer: issuer.issuer, audience })
    try {
      const outcome = await connect(plain)
      expect(outcome.kind).toBe('refused')
      if (outcome.kind === 'refused') expect(outcome.status).toBe(401)
    } finally {
      await plain.close()
    }
  })
})

/** Sends a WebSocket opening handshake (RFC 6455 §4.1) without credentials and reads the 101. */
async function handshake(peer: Socket): Promise<void> {
  await once(peer, 'connect')
  peer.write(
    'GET /socket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  )
  const [data] = (await once(peer, 'data')) as [Buffer]
  expect(data.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /)
  peer.on('error', () => undefined) // the reset that cuts it off
}
