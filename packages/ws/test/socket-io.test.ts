/**
 * The README's Socket.IO recipe, proven: the README holds exactly the code of
 * support/socket-io-recipe.ts, and that code refuses and accepts real socket.io-client
 * connections over loopback, and disconnects a socket when core stops accepting its token.
 */
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAccessTokenValidator } from '@bearer-guard/core'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { Server, type DefaultEventsMap } from 'socket.io'
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { useBearerAuth, type BearerSocketData } from './support/socket-io-recipe.js'

const audience = 'https://api.example.com'
let issuer: TestIssuer
let http: HttpServer
let io: Server<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, BearerSocketData>
let url: string

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithm: 'ES256', audience })
  http = createServer()
  io = new Server(http)
  useBearerAuth(
    io,
    // A tolerance of 1 s: a socket is disconnected when core stops accepting its token.
    createAccessTokenValidator({
      issuer: issuer.issuer,
      audience,
      realm: 'chat',
      clockTolerance: 1,
    }),
    { allOf: ['chat:read'] },
  )
  io.on('connection', (socket) => {
    socket.emit('hello', { sub: socket.data.auth.claims.sub })
  })
  http.listen(0, '127.0.0.1')
  await once(http, 'listening')
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
})
afterAll(async () => {
  await io.close()
  await issuer.close()
})

interface ConnectOptions {
  auth?: Record<string, unknown>
  extraHeaders?: Record<string, string>
  transports?: ('websocket' | 'polling')[]
}

type Result =
  | { kind: 'connected'; socket: ClientSocket; hello: { sub: string } }
  | { kind: 'refused'; message: string; data: Record<string, unknown> }

async function attempt(options: ConnectOptions): Promise<Result> {
  const socket = connectClient(url, {
    reconnection: false,
    transports: options.transports ?? ['websocket'],
    auth: options.auth,
    extraHeaders: options.extraHeaders,
  })
  return new Promise<Result>((resolve) => {
    socket.once('hello', (hello: { sub: string }) => {
      resolve({ kind: 'connected', socket, hello })
    })
    socket.once('connect_error', (error: Error & { data?: Record<string, unknown> }) => {
      socket.close()
      resolve({ kind: 'refused', message: error.message, data: error.data ?? {} })
    })
  })
}

describe('the README recipe', () => {
  it('is in the README verbatim', () => {
    const recipe = readFileSync(new URL('./support/socket-io-recipe.ts', import.meta.url), 'utf8')
    const code = recipe.slice(
      recipe.indexOf('// recipe:start\n') + '// recipe:start\n'.length,
      recipe.indexOf('// recipe:end'),
    )
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    expect(readme).toContain('```ts\n' + code + '```')
  })
})

describe('Socket.IO with the recipe (socket.io-client over loopback)', () => {
  it('accepts a token in auth.token (what browsers send) and types socket.data.auth', async () => {
    const token = await issuer.mint({ scope: 'chat:read' })
    const result = await attempt({ auth: { token } })
    expect(result.kind).toBe('connected')
    if (result.kind === 'connected') {
      expect(result.hello.sub).toBe('user-123')
      result.socket.close()
    }
  })

  it('accepts an Authorization header (Node clients), over HTTP long-polling too', async () => {
    const token = await issuer.mint({ scope: 'chat:read' })
    const result = await attempt({
      extraHeaders: { authorization: `Bearer ${token}` },
      transports: ['polling'],
    })
    expect(result.kind).toBe('connected')
    if (result.kind === 'connected') result.socket.close()
  })

  it('no token: connect_error with status 401 and no error code (RFC 6750 §3.1)', async () => {
    const result = await attempt({})
    expect(result).toMatchObject({ kind: 'refused', data: { status: 401 } })
    if (result.kind === 'refused') expect(result.data.error).toBeUndefined()
  })

  it('a forged token: 401 invalid_token, nothing of the token in the error', async () => {
    const foreign = await issuer.generateKey('ES256')
    const token = await issuer.mint({ scope: 'chat:read' }, { key: foreign })
    const result = await attempt({ auth: { token } })
    expect(result).toMatchObject({ kind: 'refused', data: { status: 401, error: 'invalid_token' } })
    expect(JSON.stringify(result)).not.toContain(token.split('.')[1])
  })

  it('a token lacking the scope: 403 insufficient_scope', async () => {
    const token = await issuer.mint({ scope: 'other' })
    const result = await attempt({ auth: { token } })
    expect(result).toMatchObject({
      kind: 'refused',
      data: { status: 403, error: 'insufficient_scope' },
    })
  })

  it('a token in auth.token and in Authorization: 400 invalid_request (RFC 6750 §2)', async () => {
    const token = await issuer.mint({ scope: 'chat:read' })
    const result = await attempt({
      auth: { token },
      extraHeaders: { authorization: `Bearer ${token}` },
    })
    expect(result).toMatchObject({
      kind: 'refused',
      data: { status: 400, error: 'invalid_request' },
    })
  })

  it('a token that is not a string: 400 invalid_request', async () => {
    const result = await attempt({ auth: { token: 42 } })
    expect(result).toMatchObject({ kind: 'refused', data: { status: 400 } })
  })

  it('disconnects the socket when core stops accepting its token: exp + clockTolerance', async () => {
    const exp = Math.ceil(Date.now() / 1000) + 1
    const token = await issuer.mint({ scope: 'chat:read', exp })
    const result = await attempt({ auth: { token } })
    if (result.kind !== 'connected') throw new Error('refused')
    const reason = await new Promise<string>((resolve) => {
      result.socket.once('disconnect', resolve)
    })
    const at = Date.now()
    expect(reason).toBe('io server disconnect')
    expect(at).toBeGreaterThanOrEqual((exp + 1) * 1000)
    expect(at).toBeLessThan((exp + 1) * 1000 + 1_500)
  })
})
