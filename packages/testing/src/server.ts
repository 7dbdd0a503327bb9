import { createServer } from 'node:http'
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { GARBAGE_BODY } from './faults.js'
import type { Fault, FaultEndpoint } from './faults.js'

/** A response to send. */
export interface Reply {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/** A JSON response. */
export function json(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(value),
  }
}

/**
 * Headers of every token endpoint answer: responses carrying tokens or credentials must not be
 * cached (RFC 6749 §5.1).
 */
export const NO_STORE: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  pragma: 'no-cache',
})

/** A request as the token endpoint sees it, body read in full. */
export interface ReceivedRequest {
  readonly method: string
  readonly headers: IncomingHttpHeaders
  /** The body decoded as UTF-8. */
  readonly body: string
}

/** Which counter a request belongs to, and how it is answered. */
export type Route =
  | {
      readonly endpoint: 'discovery' | 'jwks' | 'other'
      /** Called when the answer is sent (so a delayed answer reflects the keys of that moment). */
      readonly reply: () => Reply
    }
  | {
      /** The token endpoint serves no faults; the introspection endpoint does. */
      readonly endpoint: 'token' | 'introspection'
      /** Called with the whole request once its body is read (and any fault has let it through). */
      readonly handle: (request: ReceivedRequest) => Promise<Reply>
    }

/** Largest token request body read, in bytes; a larger one is refused with 413. */
const MAX_BODY = 64 * 1024

/** Live request counters. */
export interface RequestCounts {
  /** Requests to a served discovery document URL. */
  readonly discovery: number
  /** Requests to the JWKS URL. */
  readonly jwks: number
  /** Requests to the token endpoint, whatever their outcome. */
  readonly token: number
  /** Requests to the introspection endpoint, whatever their outcome (faults included). */
  readonly introspection: number
  /** Every other request (answered 404). */
  readonly other: number
}

/** The loopback HTTP server behind a test issuer. */
export interface IssuerServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  readonly counts: RequestCounts
  resetCounts(): void
  setFault(endpoint: FaultEndpoint, fault: Fault | null): void
  close(): Promise<void>
}

/** The endpoints that serve faults. */
type FaultyEndpoint = 'discovery' | 'jwks' | 'introspection'

interface Pending {
  readonly request: IncomingMessage
  readonly response: ServerResponse
  readonly route: {
    readonly endpoint: FaultyEndpoint
    readonly reply: () => Reply | Promise<Reply>
  }
}

function send(response: ServerResponse, reply: Reply): void {
  if (response.destroyed || response.headersSent) return
  response.writeHead(reply.status, { ...reply.headers })
  response.end(reply.body)
}

/** Sends a reply that may still be in the making; a handler that throws answers 500. */
function deliver(response: ServerResponse, reply: () => Reply | Promise<Reply>): void {
  let made: Reply | Promise<Reply>
  try {
    made = reply()
  } catch {
    made = json(500, { error: 'server_error' }, { ...NO_STORE })
  }
  if (!(made instanceof Promise)) {
    send(response, made)
    return
  }
  made.then(
    (value) => {
      send(response, value)
    },
    () => {
      send(response, json(500, { error: 'server_error' }, { ...NO_STORE }))
    },
  )
}

/** Reads the whole body, then answers with what `handle` makes of the request. */
function receive(
  request: IncomingMessage,
  response: ServerResponse,
  handle: (request: ReceivedRequest) => void,
): void {
  const chunks: Buffer[] = []
  let size = 0
  request.on('data', (chunk: Buffer) => {
    size += chunk.length
    if (size <= MAX_BODY) chunks.push(chunk)
  })
  request.on('error', () => {
    response.destroy()
  })
  request.on('end', () => {
    if (size > MAX_BODY) {
      const error = { error: 'invalid_request', error_description: 'the body is too large' }
      send(response, json(413, error, { ...NO_STORE }))
      return
    }
    const received = {
      method: request.method ?? 'GET',
      headers: request.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    }
    handle(received)
  })
}

/** Starts the server on 127.0.0.1:`port` (0: any free port). */
export async function startServer(
  port: number,
  route: (pathname: string) => Route,
): Promise<IssuerServer> {
  const counts = { discovery: 0, jwks: 0, token: 0, introspection: 0, other: 0 }
  const faults: Record<FaultyEndpoint, Fault | null> = {
    discovery: null,
    jwks: null,
    introspection: null,
  }
  const hanging = new Set<Pending>()
  const timers = new Set<NodeJS.Timeout>()
  const sockets = new Set<Socket>()
  let closing: Promise<void> | undefined

  const serve = (pending: Pending): void => {
    const { request, response, route: target } = pending
    const fault = faults[target.endpoint]
    if (fault === null) {
      deliver(response, target.reply)
      return
    }
    switch (fault.kind) {
      case 'status': {
        const headers: Record<string, string> = { ...fault.headers }
        const hasType = Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')
        if (!hasType && fault.body !== undefined) headers['content-type'] = 'text/plain'
        send(response, { status: fault.status, headers, body: fault.body ?? '' })
        return
      }
      case 'hang':
        hanging.add(pending)
        response.once('close', () => hanging.delete(pending))
        return
      case 'delay': {
        const timer = setTimeout(() => {
          timers.delete(timer)
          deliver(response, target.reply)
        }, fault.ms)
        timers.add(timer)
        response.once('close', () => {
          clearTimeout(timer)
          timers.delete(timer)
        })
        return
      }
      case 'garbage':
        send(response, {
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: GARBAGE_BODY,
        })
        return
      case 'reset':
        request.socket.destroy()
        return
      case 'body':
        send(response, {
          status: 200,
          headers: { 'content-type': fault.contentType ?? 'application/json' },
          body: fault.body,
        })
        return
    }
  }

  const server = createServer((request, response) => {
    // Not `new URL(...)`: a request target such as `//x` must not be read as a host.
    const pathname = (request.url ?? '/').split('?', 1)[0] ?? '/'
    const target = route(pathname)
    counts[target.endpoint] += 1
    switch (target.endpoint) {
      case 'other':
        send(response, target.reply())
        return
      case 'token':
        receive(request, response, (received) => {
          deliver(response, () => target.handle(received))
        })
        return
      case 'introspection':
        // The body is read first, so a fault answers a whole request, as a real server would.
        receive(request, response, (received) => {
          serve({
            request,
            response,
            route: { endpoint: 'introspection', reply: () => target.handle(received) },
          })
        })
        return
      case 'discovery':
      case 'jwks':
        serve({ request, response, route: { endpoint: target.endpoint, reply: target.reply } })
    }
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('unexpected server address')
  const url = `http://127.0.0.1:${address.port}`

  const view: RequestCounts = {
    get discovery() {
      return counts.discovery
    },
    get jwks() {
      return counts.jwks
    },
    get token() {
      return counts.token
    },
    get introspection() {
      return counts.introspection
    },
    get other() {
      return counts.other
    },
  }
  // Show numbers, not `[Getter]`, in console.log and assertion messages.
  Object.defineProperty(view, Symbol.for('nodejs.util.inspect.custom'), {
    value: () => ({ ...counts }),
  })

  return {
    url,
    counts: view,
    resetCounts() {
      counts.discovery = 0
      counts.jwks = 0
      counts.token = 0
      counts.introspection = 0
      counts.other = 0
    },
    setFault(endpoint, fault) {
      if (endpoint === 'all' || endpoint === 'discovery') faults.discovery = fault
      if (endpoint === 'all' || endpoint === 'jwks') faults.jwks = fault
      if (endpoint === 'introspection') faults.introspection = fault
      // Requests held by a `hang` that no longer applies are served by the new state.
      for (const pending of [...hanging]) {
        if (faults[pending.route.endpoint]?.kind !== 'hang') {
          hanging.delete(pending)
          serve(pending)
        }
      }
    },
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer)
        timers.clear()
        hanging.clear()
        server.close((error) => {
          if (error) reject(error)
          else resolve()
        })
        server.closeAllConnections()
        for (const socket of sockets) socket.destroy()
      })
      return closing
    },
  }
}
