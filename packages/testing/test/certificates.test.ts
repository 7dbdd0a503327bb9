import { createHash, X509Certificate } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { connect, createServer } from 'node:tls'
import type { PeerCertificate, TLSSocket } from 'node:tls'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createTestIssuer,
  generateCertificateAuthority,
  generateClientCertificate,
  generateDpopKey,
  generateServerCertificate,
} from '../src/index.js'
import type { TestCertificate, TestIssuer } from '../src/index.js'

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2'
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1'

interface Handshake {
  /** What the server saw: whether the client certificate verified, and its DER. */
  readonly authorized: boolean
  readonly authorizationError: string | undefined
  readonly peerRaw: Buffer | undefined
  /** The client side's error, when the server refused the handshake. */
  readonly clientError: Error | undefined
}

/**
 * A real TLS handshake on 127.0.0.1: a server that asks for a client certificate and trusts
 * `trust`, and a client that presents `client` (or nothing).
 */
async function handshake(
  server: TestCertificate,
  trust: string,
  client: TestCertificate | undefined,
  rejectUnauthorized = true,
): Promise<Handshake> {
  let seen: Omit<Handshake, 'clientError'> | undefined
  const tlsServer = createServer(
    { key: server.keyPem, cert: server.certPem, ca: trust, requestCert: true, rejectUnauthorized },
    (socket: TLSSocket) => {
      const peer = socket.getPeerCertificate(true) as Partial<PeerCertificate>
      seen = {
        authorized: socket.authorized,
        authorizationError: socket.authorized ? undefined : String(socket.authorizationError),
        peerRaw: peer.raw,
      }
      socket.end('hello')
    },
  )
  // A refused handshake is an error on the server's socket too: it is the expected outcome here.
  tlsServer.on('tlsClientError', () => undefined)
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve))
  const { port } = tlsServer.address() as AddressInfo
  try {
    const clientError = await new Promise<Error | undefined>((resolve) => {
      const socket = connect({
        host: '127.0.0.1',
        port,
        ca: trust,
        ...(client === undefined ? {} : { cert: client.certPem, key: client.keyPem }),
      })
      socket.setEncoding('utf8')
      let data = ''
      socket.on('data', (chunk: string) => (data += chunk))
      socket.on('end', () => {
        resolve(data === 'hello' ? undefined : new Error(`closed after ${JSON.stringify(data)}`))
      })
      socket.on('error', resolve)
    })
    return {
      ...(seen ?? { authorized: false, authorizationError: undefined, peerRaw: undefined }),
      clientError,
    }
  } finally {
    await new Promise<void>((resolve) =>
      tlsServer.close(() => {
        resolve()
      }),
    )
  }
}

describe('certificates', () => {
  let authority: TestCertificate
  let server: TestCertificate
  let client: TestCertificate
  beforeAll(async () => {
    authority = await generateCertificateAuthority()
    ;[server, client] = await Promise.all([
      generateServerCertificate({ signedBy: authority }),
      generateClientCertificate({ subject: 'billing', signedBy: authority }),
    ])
  })

  it('a CA-signed client certificate works for real mutual TLS on 127.0.0.1', async () => {
    const result = await handshake(server, authority.certPem, client)
    expect(result.clientError).toBeUndefined()
    expect(result.authorized).toBe(true)
    expect(result.peerRaw).toBeDefined()
    // What the server received hashes to the token binding (RFC 8705 §3.1).
    expect(createHash('sha256').update(result.peerRaw!).digest('base64url')).toBe(client.thumbprint)
  })

  it('the server refuses a missing, an untrusted and an expired client certificate', async () => {
    const none = await handshake(server, authority.certPem, undefined)
    expect(none.clientError).toBeDefined()
    expect(none.authorized).toBe(false)

    const stranger = await generateClientCertificate() // self-signed, not trusted by the server
    const untrusted = await handshake(server, authority.certPem, stranger)
    expect(untrusted.clientError).toBeDefined()

    const expired = await generateClientCertificate({
      signedBy: authority,
      notBefore: new Date(Date.now() - 3 * 86_400_000),
      validDays: 1,
    })
    const late = await handshake(server, authority.certPem, expired, false)
    expect(late.authorized).toBe(false)
    expect(late.authorizationError).toBe('CERT_HAS_EXPIRED')
  })

  it('a self-signed client certificate works when the server trusts it (RFC 8705 §2.2)', async () => {
    const selfSigned = await generateClientCertificate({ subject: 'self' })
    const result = await handshake(server, `${authority.certPem}${selfSigned.certPem}`, selfSigned)
    expect(result.clientError).toBeUndefined()
    expect(result.authorized).toBe(true)
    expect(createHash('sha256').update(result.peerRaw!).digest('base64url')).toBe(
      selfSigned.thumbprint,
    )
  })

  it('has the documented shape: subject, issuer, usages, validity, DER and thumbprint', () => {
    const ca = new X509Certificate(authority.certPem)
    expect(ca.ca).toBe(true)
    expect(ca.subject).toBe('CN=bearer-guard test CA')
    expect(ca.checkIssued(ca)).toBe(true)

    const leaf = new X509Certificate(client.certPem)
    expect(client.subject).toBe('billing')
    expect(leaf.subject).toBe('CN=billing')
    expect(leaf.issuer).toBe('CN=bearer-guard test CA')
    expect(leaf.ca).toBe(false)
    expect(leaf.checkIssued(ca)).toBe(true)
    expect(leaf.verify(ca.publicKey)).toBe(true)
    expect(leaf.keyUsage).toEqual([CLIENT_AUTH])
    expect(leaf.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048)
    expect(leaf.raw.equals(client.der)).toBe(true)
    expect(client.thumbprint).toBe(createHash('sha256').update(client.der).digest('base64url'))
    expect(client.thumbprint).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)).toBe(86_400_000)
    expect(client.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)

    const host = new X509Certificate(server.certPem)
    expect(host.keyUsage).toEqual([SERVER_AUTH])
    expect(host.subject).toBe('CN=localhost')
    expect(host.subjectAltName).toBe(
      'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    )
    expect(host.checkHost('localhost')).toBe('localhost')
    expect(host.checkIP('127.0.0.1')).toBe('127.0.0.1')
  })

  it('serial numbers are random and positive; options are checked', async () => {
    const [a, b] = await Promise.all([generateClientCertificate(), generateClientCertificate()])
    const serialA = new X509Certificate(a.certPem).serialNumber
    expect(serialA).not.toBe(new X509Certificate(b.certPem).serialNumber)
    expect(Number.parseInt(serialA.slice(0, 1), 16)).toBeLessThan(8)

    await expect(generateClientCertificate({ validDays: 0 })).rejects.toThrow(TypeError)
    await expect(generateClientCertificate({ subject: '' })).rejects.toThrow(TypeError)
    await expect(generateClientCertificate({ notBefore: new Date(Number.NaN) })).rejects.toThrow(
      TypeError,
    )
    await expect(generateClientCertificate({ signedBy: {} as TestCertificate })).rejects.toThrow(
      TypeError,
    )
    await expect(generateClientCertificate({ subjet: 'typo' } as never)).rejects.toThrow(
      /unknown option "subjet"/,
    )
    await expect(generateServerCertificate({ hosts: [] })).rejects.toThrow(TypeError)
    await expect(generateCertificateAuthority({ signedBy: authority } as never)).rejects.toThrow(
      TypeError,
    )
  })
})

describe('bound tokens', () => {
  let issuer: TestIssuer
  beforeAll(async () => {
    issuer = await createTestIssuer()
  })
  afterAll(() => issuer.close())

  it('mint({ certificate }) binds to the certificate, mint({ dpop }) to the key', async () => {
    const [certificate, key] = await Promise.all([generateClientCertificate(), generateDpopKey()])
    expect(decodeJwt(await issuer.mint({}, { certificate })).cnf).toEqual({
      'x5t#S256': certificate.thumbprint,
    })
    expect(decodeJwt(await issuer.mint({}, { dpop: key })).cnf).toEqual({ jkt: key.thumbprint })
    expect(decodeJwt(await issuer.mint({}, { dpop: key, certificate })).cnf).toEqual({
      jkt: key.thumbprint,
      'x5t#S256': certificate.thumbprint,
    })
    // A cnf claim given explicitly wins, and undefined removes it.
    expect(decodeJwt(await issuer.mint({ cnf: { jkt: 'other' } }, { dpop: key })).cnf).toEqual({
      jkt: 'other',
    })
    expect(decodeJwt(await issuer.mint({ cnf: undefined }, { dpop: key }))).not.toHaveProperty(
      'cnf',
    )
    expect(decodeJwt(await issuer.mint())).not.toHaveProperty('cnf')
    await expect(issuer.mint({}, { dpop: {} as never })).rejects.toThrow(TypeError)
  })
})
