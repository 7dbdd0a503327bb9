/**
 * RFC 8705 §3 certificate-bound access tokens: a token with `cnf["x5t#S256"]` is accepted only
 * with the client certificate it names, read from the request's TLS connection or, behind a
 * TLS-terminating proxy, from the one header that proxy is configured to set.
 */
import { X509Certificate } from 'node:crypto'
import { InvalidTokenError } from '../challenge/errors.js'
import { fail, isObject } from '../options/checks.js'
import type { BearerRequest } from '../request.js'
import { certificateThumbprint, sameThumbprint } from './thumbprint.js'

/** Where the client certificate is read. */
export interface CertificateSource {
  /**
   * The header in which a trusted TLS-terminating proxy passes the client certificate, as
   * URL-encoded PEM (nginx `$ssl_client_escaped_cert`, `encodeURIComponent` of one PEM). When set,
   * the certificate is read from this header only, never from the connection (which is the
   * proxy's); the proxy must remove or overwrite the header on every request it forwards. When
   * unset, no header is ever trusted and the certificate is the TLS connection's. Default: unset.
   */
  readonly header?: string | undefined
}

const PEM = /^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\r?\n?$/
/** A PEM certificate of a few KiB URL-encodes well under this; a longer header is refused. */
const MAX_HEADER_LENGTH = 16_384
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/**
 * Checks a certificate source once, at start-up: the header name, lower-cased as Node's
 * `IncomingMessage.headers` holds names.
 *
 * @throws `TypeError` for a header name that is not an RFC 9110 token.
 */
export function certificateSource(options: CertificateSource = {}): CertificateSource {
  const { header } = options
  if (header === undefined) return Object.freeze({})
  if (typeof header !== 'string' || !HEADER_NAME.test(header)) {
    fail('"header" must be an HTTP header name')
  }
  return Object.freeze({ header: header.toLowerCase() })
}

/**
 * The DER bytes of the client certificate the request presents, or `undefined` when it presents
 * none (or an unreadable one).
 *
 * From the TLS connection, the certificate is the one the client proved possession of in the
 * handshake (its `CertificateVerify`), whether or not its chain was validated: RFC 8705 §6.2 says
 * it "is not necessary for the resource server to validate the trust chain", and self-signed
 * certificates (§2.2) never validate. So `socket.authorized` is not required; a server that wants
 * CA-issued certificates only sets `rejectUnauthorized: true`, and the handshake enforces it.
 */
export function presentedCertificate(
  request: BearerRequest,
  source: CertificateSource,
): Buffer | undefined {
  if (source.header !== undefined) return fromHeader(request.headers[source.header])
  return fromSocket(request.socket)
}

/**
 * RFC 8705 §3: when the token's `cnf` claim holds `x5t#S256`, the request must present the
 * certificate with that SHA-256 thumbprint (compared in constant time). A token without it is not
 * certificate-bound and passes.
 *
 * @param claims the verified claims of the access token.
 * @throws {@link InvalidTokenError} (401 `invalid_token`, `ERR_TOKEN_BINDING_MISMATCH`) when the
 * token is bound and no certificate, or another one, is presented; RFC 8705 §3: "rejected with an
 * error, per [RFC6750], using an HTTP 401 status code and the invalid_token error code".
 */
export function checkCertificateBinding(
  claims: Readonly<Record<string, unknown>>,
  request: BearerRequest,
  source: CertificateSource,
): void {
  const cnf = claims.cnf
  if (!isObject(cnf) || !Object.hasOwn(cnf, 'x5t#S256')) return
  const expected = cnf['x5t#S256']
  const certificate = presentedCertificate(request, source)
  if (
    typeof expected !== 'string' ||
    certificate === undefined ||
    !sameThumbprint(certificateThumbprint(certificate), expected)
  ) {
    throw new InvalidTokenError(
      'ERR_TOKEN_BINDING_MISMATCH',
      'The access token is bound to a client certificate the request does not present',
    )
  }
}

/** A certificate from a `tls.TLSSocket` (HTTPS, or the socket proxy of an HTTP/2 session). */
function fromSocket(socket: unknown): Buffer | undefined {
  if (!isObject(socket) || socket.encrypted !== true) return undefined
  const read = socket.getPeerX509Certificate
  if (typeof read !== 'function') return undefined
  try {
    const certificate: unknown = read.call(socket)
    return certificate instanceof X509Certificate ? certificate.raw : undefined
  } catch {
    return undefined
  }
}

/** One URL-encoded PEM certificate, decoded; anything else (several values, junk) is none. */
function fromHeader(value: string | readonly string[] | undefined): Buffer | undefined {
  if (typeof value !== 'string' || value === '' || value.length > MAX_HEADER_LENGTH) {
    return undefined
  }
  let pem: string
  try {
    pem = decodeURIComponent(value)
  } catch {
    return undefined
  }
  if (!PEM.test(pem)) return undefined
  try {
    return new X509Certificate(pem).raw
  } catch {
    return undefined
  }
}
