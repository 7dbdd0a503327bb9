/**
 * A real HTTP server on 127.0.0.1 with a `ws` server behind the guard, and a real `ws` client
 * that reports either the opened socket or the HTTP refusal it got instead.
 */
import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import WebSocket, { WebSocketServer } from 'ws'
import type { ValidatorSource, VerifiedAccessToken } from '@bearer-guard/core'
import { bearerGuard, type WebSocketGuardAdapterOptions } from '../../src/index.js'

/** What the server saw of one accepted socket. */
export interface Accepted {
  readonly ws: WebSocket
  readonly auth: VerifiedAccessToken
  readonly request: IncomingMessage
}

export interface Harness {
  /** `ws://127.0.0.1:PORT`. */
  readonly url: string
  /** The origin DPoP proofs name: `http://127.0.0.1:PORT`. */
  readonly origin: string
  /** Every socket the guard accepted, in order. */
  readonly accepted: Accepted[]
  /** Warnings the guard's logger received. */
  readonly warnings: string[]
  close(): Promise<void>
}

/** The guard's options without `wss` (the harness makes it), and without `logger`. */
export type HarnessOptions = ValidatorSource &
  Omit<WebSocketGuardAdapterOptions<WebSocket>, 'wss' | 'logger'>

/**
 * Starts a server whose accepted sockets send `{ sub, scopes }` once, then echo every message.
 * `options` may be a function of the origin (for DPoP, whose `origin` is the server's own).
 */
export async function startServer(
  options: HarnessOptions | ((origin: string) => HarnessOptions),
  wssOptions: ConstructorParameters<typeof WebSocketServer>[0] = {},
): Promise<Harness> {
  const server = createServer((_req, res) => {
    res.writeHead(426).end()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const origin = `http://127.0.0.1:${port}`
  const wss = new WebSocketServer({ ...wssOptions, noServer: true })
  const warnings: string[] = []
  const accepted: Accepted[] = []
  const resolved = typeof options === 'function' ? options(origin) : options
  const guard = bearerGuard({
    ...resolved,
    wss,
    logger: { warn: (message: string) => warnings.push(message) },
  })
  server.on('upgrade', (request: IncomingMessage, socket, head: Buffer) => {
    guard.handleUpgrade(request, socket, head, (ws, auth, req) => {
      accepted.push({ ws, auth, request: req })
      ws.send(JSON.stringify({ sub: auth.claims.sub, scopes: [...auth.scopes] }))
      ws.on('message', (data, isBinary) => {
        ws.send(data, { binary: isBinary })
      })
    })
  })
  return {
    url: `ws://127.0.0.1:${port}`,
    origin,
    accepted,
    warnings,
    close: async () => {
      for (const client of wss.clients) client.terminate()
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
}

/** A connection attempt's outcome: an open socket, or the HTTP response that refused it. */
export type Outcome =
  | {
      readonly kind: 'open'
      readonly ws: WebSocket
      /** The server's first message: `{ sub, scopes }`. */
      readonly hello: { sub?: string; scopes: string[] }
      /** The `101` response's headers. */
      readonly headers: IncomingHttpHeaders
    }
  | {
      readonly kind: 'refused'
      readonly status: number
      readonly headers: IncomingHttpHeaders
      readonly body: Record<string, unknown>
      readonly text: string
    }

export interface ConnectOptions {
  readonly headers?: Record<string, string>
  readonly protocols?: string[]
  readonly path?: string
}

/** Opens a WebSocket with the real `ws` client and waits for the server's hello or a refusal. */
export async function connect(harness: Harness, options: ConnectOptions = {}): Promise<Outcome> {
  const ws = new WebSocket(`${harness.url}${options.path ?? '/socket'}`, options.protocols, {
    headers: options.headers,
  })
  return new Promise<Outcome>((resolve, reject) => {
    let upgradeHeaders: IncomingHttpHeaders = {}
    ws.once('upgrade', (res) => {
      upgradeHeaders = res.headers
    })
    ws.once('unexpected-response', (req, res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        req.destroy()
        let body: Record<string, unknown> = {}
        try {
          body = JSON.parse(text) as Record<string, unknown>
        } catch {
          // Left empty: the test asserts on `text`.
        }
        resolve({ kind: 'refused', status: res.statusCode ?? 0, headers: res.headers, body, text })
      })
    })
    ws.once('message', (data) => {
      resolve({
        kind: 'open',
        ws,
        hello: JSON.parse((data as Buffer).toString('utf8')) as { sub?: string; scopes: string[] },
        headers: upgradeHeaders,
      })
    })
    ws.once('error', (error) => {
      // After 'unexpected-response', ws reports the aborted request too: already resolved.
      reject(error)
    })
  })
}

/** Opens a WebSocket and resolves once it is open (nothing awaited from the server). */
export async function openRaw(harness: Harness, options: ConnectOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(`${harness.url}${options.path ?? '/socket'}`, options.protocols, {
    headers: options.headers,
  })
  await once(ws, 'open')
  return ws
}

/** Resolves with the close code and reason the client receives. */
export async function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  if (ws.readyState === WebSocket.CLOSED) throw new Error('already closed')
  const [code, reason] = (await once(ws, 'close')) as [number, Buffer]
  return { code, reason: reason.toString('utf8') }
}

/**
 * The messages a client receives, as text, in order: `next()` resolves with the next one. Every
 * message is kept from the moment this is called, so messages that arrive in one chunk (emitted
 * back to back) are not lost between two awaits.
 */
export function inbox(ws: WebSocket): { next(): Promise<string> } {
  const queued: string[] = []
  const waiting: ((text: string) => void)[] = []
  ws.on('message', (data: Buffer) => {
    const text = data.toString('utf8')
    const take = waiting.shift()
    if (take === undefined) queued.push(text)
    else take(text)
  })
  return {
    next: () => {
      const text = queued.shift()
      if (text !== undefined) return Promise.resolve(text)
      return new Promise((resolve) => waiting.push(resolve))
    },
  }
}

/** The token subprotocol entry a client offers: prefix + base64url (RFC 4648 §5, no padding). */
export function tokenProtocol(token: string, prefix = 'base64url.bearer.'): string {
  return prefix + Buffer.from(token, 'latin1').toString('base64url')
}
