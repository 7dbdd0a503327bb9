/**
 * RFC 8705 certificate-bound tokens over gRPC with TLS client certificates: the guard reads the
 * certificate the client proved in the handshake (grpc-js `getAuthContext()`), and a token bound
 * to another certificate is refused.
 */
import {
  createTestIssuer,
  generateCertificateAuthority,
  generateClientCertificate,
  generateServerCertificate,
  type TestCertificate,
  type TestIssuer,
} from '@bearer-guard/testing'
import { ServerCredentials, credentials, status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearerChallenge } from '../../../test/support/www-authenticate.js'
import { bearerGuard, serviceAccess } from '../src/index.js'
import {
  Shop,
  bearer,
  catalogService,
  shopService,
  startServer,
  trailer,
  unary,
  type Running,
} from './support.js'

const AUDIENCE = 'https://api.example.com'

let issuer: TestIssuer
let client: TestCertificate
let other: TestCertificate
let api: Running

beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE })
  const authority = await generateCertificateAuthority()
  const [server, mine, theirs] = await Promise.all([
    generateServerCertificate({ hosts: ['localhost'], signedBy: authority }),
    generateClientCertificate({ subject: 'billing', signedBy: authority }),
    generateClientCertificate({ subject: 'someone-else', signedBy: authority }),
  ])
  client = mine
  other = theirs
  const guard = bearerGuard({
    issuer: issuer.issuer,
    audience: AUDIENCE,
    logger: false,
    services: [
      serviceAccess(shopService, 'authenticated'),
      serviceAccess(catalogService, 'public'),
    ],
  })
  const ca = Buffer.from(authority.certPem)
  api = await startServer({
    interceptors: [guard],
    // `true`: client certificates are required and verified against `ca` in the handshake.
    server: ServerCredentials.createSsl(
      ca,
      [{ cert_chain: Buffer.from(server.certPem), private_key: Buffer.from(server.keyPem) }],
      true,
    ),
    client: credentials.createSsl(ca, Buffer.from(client.keyPem), Buffer.from(client.certPem)),
    channel: { 'grpc.ssl_target_name_override': 'localhost' },
  })
})
afterAll(async () => {
  await api.close()
  await issuer.close()
})

describe('RFC 8705 §3: a certificate-bound token', () => {
  it('passes with the client certificate it is bound to', async () => {
    const token = await issuer.mint({ sub: 'billing' }, { certificate: client })
    const { value, error } = await unary(api.client(Shop), 'Get', bearer(token))
    expect(error).toBeUndefined()
    expect(value?.sub).toBe('billing')
  })

  it('is refused with another client certificate: UNAUTHENTICATED invalid_token', async () => {
    const token = await issuer.mint({ sub: 'billing' }, { certificate: other })
    const { error } = await unary(api.client(Shop), 'Get', bearer(token))
    expect(error?.code).toBe(status.UNAUTHENTICATED)
    expect(bearerChallenge(trailer(error, 'www-authenticate')).params.error).toBe('invalid_token')
  })
})
