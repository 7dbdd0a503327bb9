/**
 * RFC 8705 §3 certificate-bound tokens, with a real certificate over a real TLS connection on
 * 127.0.0.1 (the server asks for the client certificate, as a resource server does) and through a
 * trusted proxy header.
 */
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Agent, createServer, request as httpsRequest, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  certificateSource,
  checkCertificateBinding,
  presentedCertificate,
} from '../src/binding/mtls.js'
import { InvalidTokenError } from '../src/index.js'
import type { BearerRequest } from '../src/request.js'

const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')
const CERT = fixture('cert.pem')
const KEY = fixture('cert-key.pem')
/** `x5t#S256` computed without our code: Node's own SHA-256 fingerprint, hex to base64url. */
const X5T = Buffer.from(
  new X509Certificate(CERT).fingerprint256.replaceAll(':', ''),
  'hex',
).toString('base64url')
const bound = { cnf: { 'x5t#S256': X5T } }

function expectMismatch(claims: Record<string, unknown>, request: BearerRequest, header?: string) {
  let error: unknown
  try {
    checkCertificateBinding(claims, request, certificateSource({ header }))
  } catch (caught) {
    error = caught
  }
  expect(error).toBeInstanceOf(InvalidTokenError)
  const refusal = error as InvalidTokenError
  expect(refusal.code).toBe('ERR_TOKEN_BINDING_MISMATCH')
  expect(refusal.status).toBe(401)
  expect(refusal.challenge).toMatch(/^Bearer error="invalid_token", error_description="[^"]+"$/)
}

describe('certificate binding over a real mutual-TLS connection', () => {
  let server: Server
  /** Runs on the server, while the request is live, as an adapter's handler would. */
  let inspect: (request: BearerRequest) => void = () => undefined

  beforeAll(async () => {
    // requestCert, and no CA check: RFC 8705 §6.2, the binding is by thumbprint.
    server = createServer({ key: KEY, cert: CERT, requestCert: true, rejectUnauthorized: false })
    server.on('request', (req, res) => {
      let failure: unknown
      try {
        inspect({ headers: req.headers, socket: req.socket })
      } catch (error) {
        failure = error
      }
      res.statusCode = failure === undefined ? 200 : 500
      res.end(failure instanceof Error ? `${failure.name}: ${failure.message}` : '')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  })
  afterAll(async () => {
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve()
      }),
    )
  })

  /** Connects with (or without) a client certificate and runs `check` on the server side. */
  async function connect(
    client: { cert?: string; key?: string; agent?: Agent },
    check: (request: BearerRequest) => void,
  ): Promise<void> {
    inspect = check
    const { port } = server.address() as AddressInfo
    const { status, body } = await new Promise<{ status: number; body: string }>(
      (resolve, reject) => {
        const options = { host: '127.0.0.1', port, path: '/orders', ca: CERT, agent: false }
        const req = httpsRequest(
          { ...options, checkServerIdentity: () => undefined, ...client },
          (res) => {
            let body = ''
            res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
            res.on('end', () => {
              resolve({ status: res.statusCode ?? 0, body })
            })
          },
        )
        req.on('error', reject).end()
      },
    )
    expect(body).toBe('')
    expect(status).toBe(200)
  }

  it('reads the certificate the client presented from the TLS socket, unvalidated', async () => {
    await connect({ cert: CERT, key: KEY }, (request) => {
      expect((request.socket as TLSSocket).authorized).toBe(false)
      const der = presentedCertificate(request, certificateSource())
      expect(der?.equals(new X509Certificate(CERT).raw)).toBe(true)
      checkCertificateBinding(bound, request, certificateSource())
    })
  })

  it('still reads it on a resumed TLS session (the session keeps the peer certificate)', async () => {
    const agent = new Agent({ keepAlive: false, maxCachedSessions: 4 })
    const reused: boolean[] = []
    for (let i = 0; i < 2; i++) {
      await connect({ cert: CERT, key: KEY, agent }, (request) => {
        reused.push((request.socket as TLSSocket).isSessionReused())
        checkCertificateBinding(bound, request, certificateSource())
      })
    }
    expect(reused).toEqual([false, true])
  })

  it('refuses a bound token on a connection with another certificate, or none', async () => {
    await connect({ cert: CERT, key: KEY }, (request) => {
      expectMismatch({ cnf: { 'x5t#S256': `${X5T.slice(0, -1)}A` } }, request)
      expectMismatch({ cnf: { 'x5t#S256': 7 } }, request)
    })
    await connect({}, (request) => {
      expect(presentedCertificate(request, certificateSource())).toBeUndefined()
      expectMismatch(bound, request)
    })
  })

  it('ignores the socket once a proxy header is configured: the connection is the proxy', async () => {
    await connect({ cert: CERT, key: KEY }, (request) => {
      expectMismatch(bound, request, 'x-client-cert')
    })
  })

  it('lets unbound tokens through, with or without a certificate', async () => {
    for (const client of [{}, { cert: CERT, key: KEY }]) {
      await connect(client, (request) => {
        checkCertificateBinding({}, request, certificateSource())
        checkCertificateBinding({ cnf: { jkt: 'abc' } }, request, certificateSource())
      })
    }
  })
})

describe('certificate binding through a trusted proxy header', () => {
  const source = certificateSource({ header: 'X-Client-Cert' })
  const withHeader = (value: string | string[] | undefined): BearerRequest => ({
    headers: { 'x-client-cert': value },
  })

  it('reads one URL-encoded PEM certificate from the configured header', () => {
    checkCertificateBinding(bound, withHeader(encodeURIComponent(CERT)), source)
    checkCertificateBinding(
      bound,
      withHeader(encodeURIComponent(CERT.replaceAll('\n', '\r\n'))),
      source,
    )
  })

  it('never trusts the header unless configured', () => {
    expectMismatch(bound, withHeader(encodeURIComponent(CERT)))
  })

  it('takes nothing else: absent, repeated, two certificates, junk, a bare PEM body', () => {
    const body = CERT.split('\n').slice(1, -2).join('')
    for (const value of [
      undefined,
      '',
      [encodeURIComponent(CERT), encodeURIComponent(CERT)],
      encodeURIComponent(CERT + CERT),
      encodeURIComponent(CERT.replace('MII', 'XXX')),
      '%E0%A4%A',
      body,
      encodeURIComponent(KEY),
    ]) {
      expectMismatch(bound, withHeader(value), 'x-client-cert')
    }
  })

  it('checks the header name once', () => {
    expect(source).toEqual({ header: 'x-client-cert' })
    expect(() => certificateSource({ header: 'bad header' })).toThrow(TypeError)
    expect(() => certificateSource({ header: '' })).toThrow(TypeError)
  })

  it('reads no certificate from something that is not a TLS socket', () => {
    for (const socket of [undefined, {}, { encrypted: true }, { encrypted: false }]) {
      expect(presentedCertificate({ headers: {}, socket }, certificateSource())).toBeUndefined()
    }
  })
})
