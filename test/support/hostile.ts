/**
 * Helpers for hostile-input tests (attacks.test.ts, fuzz.test.ts, scripts/fuzz-long.mjs):
 * an HTTP client that sends header bytes exactly as given, a raw-socket client for what no HTTP
 * client will send, hand-made JWS signing over arbitrary bytes, and a checker of CONTRACT.md
 * refusals that reports what is wrong instead of throwing (the long run counts, tests assert).
 */
import { constants, createHmac, sign, type KeyObject } from 'node:crypto'
import { Agent, request, type IncomingHttpHeaders } from 'node:http'
import { connect } from 'node:net'
import { parseWwwAuthenticate } from './www-authenticate.js'

/** A response, its body kept as text and, when it parses, as JSON. */
export interface Reply {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly text: string
  /** The parsed body; `undefined` when it is empty or not JSON. */
  readonly json: unknown
}

/** One request; `authorization` is sent byte for byte (each char one latin1 byte). */
export interface Call {
  readonly method?: string
  readonly path?: string
  readonly authorization?: string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string | Buffer
}

/** A keep-alive HTTP/1.1 client of one origin. */
export interface Client {
  send(call: Call): Promise<Reply>
  /** Closes the pooled connections. */
  close(): void
}

function parseJson(text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/**
 * A client of `origin` over a keep-alive agent. Node's client refuses header values holding
 * control characters or code points above U+00FF (it throws before sending); everything else
 * (HTAB, SP, VCHAR, obs-text) goes out as latin1, one byte per char.
 */
export function createClient(origin: string, maxSockets = 8): Client {
  const agent = new Agent({ keepAlive: true, maxSockets })
  return {
    send(call) {
      return new Promise<Reply>((resolve, reject) => {
        const headers: Record<string, string> = { ...call.headers }
        if (call.authorization !== undefined) headers.authorization = call.authorization
        if (call.body !== undefined)
          headers['content-length'] = String(Buffer.byteLength(call.body))
        const req = request(
          origin + (call.path ?? '/me'),
          { method: call.method ?? 'GET', headers, agent },
          (res) => {
            const chunks: Buffer[] = []
            res.on('data', (chunk: Buffer) => chunks.push(chunk))
            res.on('error', reject)
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8')
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                text,
                json: parseJson(text),
              })
            })
          },
        )
        req.on('error', reject)
        req.end(call.body)
      })
    },
    close() {
      agent.destroy()
    },
  }
}

/** What came back on a raw socket: a parsed response, or how the connection ended without one. */
export interface RawReply {
  /** The response, when a complete status line and header block arrived. */
  readonly reply?: Reply
  /** A socket error (e.g. `ECONNRESET`, `EPIPE`), if one happened. */
  readonly error?: string
}

/**
 * Sends `bytes` on a fresh connection to 127.0.0.1:`port` and reads until the server closes it
 * (send `Connection: close`) or `timeoutMs` passes. Writes are chunked, so a server that answers
 * early (431) and closes is seen answering, not only as a reset.
 */
export function rawExchange(port: number, bytes: Buffer, timeoutMs = 15_000): Promise<RawReply> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    const received: Buffer[] = []
    let error: string | undefined
    const timer = setTimeout(() => {
      error ??= 'timeout'
      socket.destroy()
    }, timeoutMs)
    socket.on('data', (chunk: Buffer) => received.push(chunk))
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error ??= e.code ?? e.message
    })
    socket.on('close', () => {
      clearTimeout(timer)
      const reply = parseRawResponse(Buffer.concat(received))
      resolve(
        reply === undefined ? { error: error ?? 'closed without a response' } : { reply, error },
      )
    })
    socket.on('connect', () => {
      void (async () => {
        // Small chunks, yielding between them: once the server has answered (e.g. 431 after its
        // 16 KiB header limit) stop writing, so its close does not turn into a write error that
        // destroys the socket before the answer is read.
        const CHUNK = 16 * 1024
        for (let offset = 0; offset < bytes.length; offset += CHUNK) {
          if (socket.destroyed || error !== undefined || received.length > 0) return
          if (!socket.write(bytes.subarray(offset, offset + CHUNK))) {
            await new Promise((drained) => {
              socket.once('drain', drained)
              socket.once('close', drained)
            })
          }
          await new Promise(setImmediate)
        }
      })()
    })
  })
}

/** Parses one HTTP/1.1 response (content-length, chunked or read-to-close bodies). */
export function parseRawResponse(data: Buffer): Reply | undefined {
  const end = data.indexOf('\r\n\r\n')
  if (end === -1) return undefined
  const lines = data.subarray(0, end).toString('latin1').split('\r\n')
  const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')
  if (statusLine === null) return undefined
  const headers: IncomingHttpHeaders = {}
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    const previous = headers[name]
    headers[name] = typeof previous === 'string' ? `${previous}, ${value}` : value
  }
  let body = data.subarray(end + 4)
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const parts: Buffer[] = []
    let rest = body
    for (;;) {
      const lineEnd = rest.indexOf('\r\n')
      if (lineEnd === -1) break
      const size = Number.parseInt(rest.subarray(0, lineEnd).toString('latin1'), 16)
      if (!Number.isFinite(size) || size === 0) break
      parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size))
      rest = rest.subarray(lineEnd + 2 + size + 2)
    }
    body = Buffer.concat(parts)
  } else if (headers['content-length'] !== undefined) {
    body = body.subarray(0, Number(headers['content-length']))
  }
  const text = body.toString('utf8')
  return { status: Number(statusLine[1]), headers, text, json: parseJson(text) }
}

/** base64url without padding of bytes or of a string's UTF-8 bytes. */
export function b64u(value: string | Uint8Array): string {
  return (typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value)).toString(
    'base64url',
  )
}

/** The JWS algorithms {@link signJws} can sign with. */
export type SigningAlg = 'RS256' | 'PS256' | 'ES256' | 'HS256' | 'HS384' | 'HS512'

/**
 * A compact JWS over the exact bytes given, signed with node:crypto: unlike jose (behind
 * `TestIssuer.mint`), nothing is parsed, normalised or refused, so duplicate members, non-UTF-8
 * bytes and unusual numbers reach the verifier as written. `payload` is base64url-encoded unless
 * `unencoded` (RFC 7797 `b64: false`), when it is signed and placed as is.
 */
export function signJws(
  header: string | Uint8Array,
  payload: string | Uint8Array,
  key: KeyObject | Uint8Array | string,
  alg: SigningAlg,
  options: { unencoded?: boolean; detached?: boolean } = {},
): string {
  const payloadBytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload
  const protectedHeader = b64u(header)
  const payloadPart = options.unencoded === true ? Buffer.from(payloadBytes) : b64u(payloadBytes)
  const input = Buffer.concat([
    Buffer.from(`${protectedHeader}.`, 'latin1'),
    typeof payloadPart === 'string' ? Buffer.from(payloadPart, 'latin1') : payloadPart,
  ])
  let signature: Buffer
  switch (alg) {
    case 'RS256':
      signature = sign('sha256', input, key as KeyObject)
      break
    case 'PS256':
      signature = sign('sha256', input, {
        key: key as KeyObject,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
      })
      break
    case 'ES256':
      signature = sign('sha256', input, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' })
      break
    case 'HS256':
    case 'HS384':
    case 'HS512':
      signature = createHmac(`sha${alg.slice(2)}`, key)
        .update(input)
        .digest()
      break
  }
  const middle =
    options.detached === true
      ? ''
      : typeof payloadPart === 'string'
        ? payloadPart
        : payloadPart.toString('latin1')
  return `${protectedHeader}.${middle}.${signature.toString('base64url')}`
}

/** RFC 6750 `b64token` (RFC 7235 `token68`), as the guard checks it. */
export const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/

/** What a refusal must be: a status, and the `error` code (`undefined`: no `error`). */
export interface ExpectedRefusal {
  readonly status: 400 | 401 | 403
  readonly error: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | undefined
  /**
   * The request used the `DPoP` scheme (RFC 9449), which the examples accept by default: the
   * error may be carried by the `DPoP` challenge instead of the `Bearer` one, and where
   * `invalid_token` is expected, `invalid_dpop_proof` (a bad or missing proof) does too.
   */
  readonly dpop?: boolean
}

/**
 * Checks a refusal against CONTRACT.md and returns what is wrong with it, or `undefined`:
 * the status, a `WWW-Authenticate` that parses (RFC 9110) into exactly one Bearer challenge with
 * a non-empty `realm` and the expected `error`, and a JSON body carrying the same `error` and an
 * `error_description` (or no `error` when none is expected). With `expected` omitted, any
 * well-formed 400 `invalid_request` or 401 (`invalid_token` or no `error`) passes.
 */
export function refusalProblem(reply: Reply, expected?: ExpectedRefusal): string | undefined {
  const { status } = reply
  let error: string | undefined
  if (expected !== undefined) {
    if (status !== expected.status) return `status ${status}, expected ${expected.status}`
  } else if (status !== 400 && status !== 401) {
    return `status ${status}, expected 400 or 401`
  }
  const header = reply.headers['www-authenticate']
  if (typeof header !== 'string') return `status ${status} without a WWW-Authenticate header`
  let params: Readonly<Record<string, string>>
  try {
    const challenges = parseWwwAuthenticate(header)
    const bearer = challenges.filter((c) => c.scheme.toLowerCase() === 'bearer')
    const dpop = challenges.filter((c) => c.scheme.toLowerCase() === 'dpop')
    if (expected?.dpop === true && dpop.length === 1 && dpop[0]!.params.error !== undefined) {
      // The error in the challenge of the scheme the request used; no other one carries one.
      if (bearer.some((c) => c.params.error !== undefined)) return `two errors: ${header}`
      params = dpop[0]!.params
    } else {
      if (bearer.length !== 1) return `not exactly one Bearer challenge: ${header}`
      params = bearer[0]!.params
    }
  } catch (e) {
    return `unparsable WWW-Authenticate: ${e instanceof Error ? e.message : String(e)}`
  }
  if (typeof params.realm !== 'string' || params.realm === '') return `no realm: ${header}`
  if (expected !== undefined) {
    error = expected.error
    if (
      expected.dpop === true &&
      error === 'invalid_token' &&
      params.error === 'invalid_dpop_proof'
    ) {
      error = params.error
    }
    if (params.error !== error) return `error="${params.error}", expected ${String(error)}`
  } else {
    error = params.error
    const allowed = status === 400 ? ['invalid_request'] : ['invalid_token', undefined]
    if (!allowed.includes(error)) return `status ${status} with error="${String(error)}"`
  }
  if (!/^application\/json\b/i.test(reply.headers['content-type'] ?? '')) {
    return `content-type ${String(reply.headers['content-type'])}, expected JSON`
  }
  const body = reply.json
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return `body is not a JSON object: ${reply.text.slice(0, 200)}`
  }
  const fields = body as Record<string, unknown>
  if (error === undefined) {
    if ('error' in fields) return `body has an error without credentials: ${reply.text}`
    if (params.error_description !== undefined) return 'error_description without error'
  } else {
    if (fields.error !== error)
      return `body error ${JSON.stringify(fields.error)}, expected ${error}`
    if (typeof fields.error_description !== 'string') return 'body without error_description'
    if (typeof params.error_description !== 'string') return 'challenge without error_description'
  }
  return undefined
}
