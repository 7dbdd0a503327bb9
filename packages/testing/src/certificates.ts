import { createHash, generateKeyPair, randomBytes } from 'node:crypto'
import { isIP } from 'node:net'
import { promisify } from 'node:util'
// node-forge is CommonJS: its `module.exports` is the default import.
import forge from 'node-forge'
import { assertKnownKeys } from './option-keys.js'

/**
 * An X.509 certificate generated for tests, with its private key: pass `certPem` and `keyPem` as
 * `cert` and `key` to `tls.connect`/`https.request` (a client) or `tls.createServer` (a server),
 * and a CA's `certPem` as `ca` to the side that verifies.
 */
export interface TestCertificate {
  /** The subject's common name (CN). The certificate has no other subject attribute. */
  readonly subject: string
  /** The certificate in PEM (`-----BEGIN CERTIFICATE-----`). */
  readonly certPem: string
  /** The private key, RSA 2048 bits, as unencrypted PKCS #8 PEM (`-----BEGIN PRIVATE KEY-----`). */
  readonly keyPem: string
  /** The certificate's DER encoding: what a TLS peer sends, `getPeerCertificate().raw`. */
  readonly der: Buffer
  /**
   * The RFC 8705 §3.1 certificate thumbprint: base64url (no padding) of the SHA-256 of `der`. It is
   * the `x5t#S256` member of the `cnf` claim of a token bound to this certificate.
   */
  readonly thumbprint: string
}

/** Options of {@link generateCertificateAuthority}. */
export interface CertificateAuthorityOptions {
  /** The CA's common name. Default `'bearer-guard test CA'`. */
  readonly subject?: string
  /** Validity in days from `notBefore` (fractions allowed). Default `1`. */
  readonly validDays?: number
  /** Start of validity. Default: now. A past date and a short `validDays` make an expired CA. */
  readonly notBefore?: Date
}

/** Options of {@link generateClientCertificate}. */
export interface ClientCertificateOptions {
  /** The subject's common name. Default `'test-client'`. */
  readonly subject?: string
  /** Validity in days from `notBefore` (fractions allowed). Default `1`. */
  readonly validDays?: number
  /**
   * Start of validity. Default: now. `notBefore` in the past with a short `validDays` makes an
   * expired certificate; a future one, a certificate that is not yet valid.
   */
  readonly notBefore?: Date
  /**
   * The certificate authority that signs it (normally from {@link generateCertificateAuthority}):
   * a TLS server trusts it with `ca: authority.certPem`. Default: none, the certificate is
   * self-signed (the RFC 8705 §2.2 self-signed method; a server trusts it with `ca:
   * certificate.certPem`).
   */
  readonly signedBy?: TestCertificate
}

/** Options of {@link generateServerCertificate}. */
export interface ServerCertificateOptions extends ClientCertificateOptions {
  /**
   * The host names and IP addresses the certificate is valid for (its subjectAltName). Default
   * `['localhost', '127.0.0.1', '::1']`. The subject defaults to the first one.
   */
  readonly hosts?: readonly string[]
}

const CA_KEYS = { subject: true, validDays: true, notBefore: true } as const
const CLIENT_KEYS = { ...CA_KEYS, signedBy: true } as const
const SERVER_KEYS = { ...CLIENT_KEYS, hosts: true } as const

const DAY_MS = 86_400_000
const generateRsaKeyPair = promisify(generateKeyPair)

/** Which extensions to give a certificate. */
type Profile =
  | { readonly kind: 'ca' }
  | { readonly kind: 'client' }
  | { readonly kind: 'server'; readonly hosts: readonly string[] }

interface Request {
  readonly subject: string
  readonly notBefore: Date
  readonly notAfter: Date
  readonly signedBy: TestCertificate | undefined
  readonly profile: Profile
}

/**
 * Generates a certificate authority (RSA 2048, SHA-256, `basicConstraints` CA, `keyCertSign`) to
 * sign client and server certificates with (`signedBy`), and for a TLS peer to trust (`ca:
 * authority.certPem`).
 *
 * > **Warning**: a test CA. Never add it to a real trust store.
 *
 * @throws TypeError when an option is invalid or unknown.
 * @example
 * ```ts
 * const authority = await generateCertificateAuthority()
 * const client = await generateClientCertificate({ subject: 'billing', signedBy: authority })
 * ```
 */
export async function generateCertificateAuthority(
  options: CertificateAuthorityOptions = {},
): Promise<TestCertificate> {
  const where = 'generateCertificateAuthority()'
  assertKnownKeys(options, CA_KEYS, where)
  return await issue({
    ...validity(options, where),
    subject: commonName(options.subject, 'bearer-guard test CA', where),
    signedBy: undefined,
    profile: { kind: 'ca' },
  })
}

/**
 * Generates a TLS client certificate (RSA 2048, SHA-256, extended key usage `clientAuth`),
 * self-signed or signed by `signedBy`. Its `thumbprint` is the `cnf` `x5t#S256` of a token bound
 * to it (RFC 8705 §3.1): `issuer.mint(claims, { certificate })` mints one.
 *
 * @throws TypeError when an option is invalid or unknown.
 * @example
 * ```ts
 * const authority = await generateCertificateAuthority()
 * const certificate = await generateClientCertificate({ signedBy: authority })
 * // A token bound to it: cnf: { 'x5t#S256': certificate.thumbprint }
 * const token = await issuer.mint({}, { certificate })
 * // Present it: tls.connect({ cert: certificate.certPem, key: certificate.keyPem, ... })
 * ```
 */
export async function generateClientCertificate(
  options: ClientCertificateOptions = {},
): Promise<TestCertificate> {
  const where = 'generateClientCertificate()'
  assertKnownKeys(options, CLIENT_KEYS, where)
  return await issue({
    ...validity(options, where),
    subject: commonName(options.subject, 'test-client', where),
    signedBy: signer(options.signedBy, where),
    profile: { kind: 'client' },
  })
}

/**
 * Generates a TLS server certificate (RSA 2048, SHA-256, extended key usage `serverAuth`) for
 * `hosts`, self-signed or signed by `signedBy`: what an HTTPS server needs to ask for client
 * certificates in a test.
 *
 * @throws TypeError when an option is invalid or unknown.
 * @example
 * ```ts
 * const authority = await generateCertificateAuthority()
 * const server = await generateServerCertificate({ signedBy: authority })
 * // https.createServer({ cert: server.certPem, key: server.keyPem, ca: authority.certPem,
 * //   requestCert: true, rejectUnauthorized: true }, app)
 * ```
 */
export async function generateServerCertificate(
  options: ServerCertificateOptions = {},
): Promise<TestCertificate> {
  const where = 'generateServerCertificate()'
  assertKnownKeys(options, SERVER_KEYS, where)
  const hosts: unknown = options.hosts ?? ['localhost', '127.0.0.1', '::1']
  if (!isHostList(hosts)) {
    throw new TypeError(`${where}: hosts must be a non-empty array of host names or IP addresses`)
  }
  return await issue({
    ...validity(options, where),
    subject: commonName(options.subject, hosts[0] ?? 'localhost', where),
    signedBy: signer(options.signedBy, where),
    profile: { kind: 'server', hosts },
  })
}

function isHostList(value: unknown): value is readonly string[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((host) => typeof host === 'string' && host !== '')
  )
}

function commonName(value: unknown, fallback: string, where: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`${where}: subject must be a non-empty string (the common name)`)
  }
  return value
}

function validity(
  options: { readonly validDays?: number; readonly notBefore?: Date },
  where: string,
): { notBefore: Date; notAfter: Date } {
  const days = options.validDays ?? 1
  if (typeof days !== 'number' || !Number.isFinite(days) || days <= 0) {
    throw new TypeError(`${where}: validDays must be a positive number of days`)
  }
  const notBefore = options.notBefore ?? new Date()
  if (!(notBefore instanceof Date) || Number.isNaN(notBefore.getTime())) {
    throw new TypeError(`${where}: notBefore must be a valid Date`)
  }
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * DAY_MS) }
}

function signer(value: TestCertificate | undefined, where: string): TestCertificate | undefined {
  if (value === undefined) return undefined
  if (
    typeof value !== 'object' ||
    typeof (value as Partial<TestCertificate>).certPem !== 'string' ||
    typeof (value as Partial<TestCertificate>).keyPem !== 'string'
  ) {
    throw new TypeError(`${where}: signedBy must be a certificate with its key (certPem, keyPem)`)
  }
  return value
}

/** A random positive serial number of 16 bytes (RFC 5280 §4.1.2.2 allows up to 20), in hex. */
function serialNumber(): string {
  const bytes = randomBytes(16)
  bytes[0] = (bytes[0] ?? 0) & 0x7f // the DER INTEGER must stay positive
  return bytes.toString('hex')
}

function extensions(
  profile: Profile,
  authorityKeyId: string | undefined,
): Record<string, unknown>[] {
  const common: Record<string, unknown>[] = [{ name: 'subjectKeyIdentifier' }]
  if (authorityKeyId !== undefined) {
    common.push({ name: 'authorityKeyIdentifier', keyIdentifier: authorityKeyId })
  }
  switch (profile.kind) {
    case 'ca':
      return [
        { name: 'basicConstraints', cA: true, critical: true },
        {
          name: 'keyUsage',
          keyCertSign: true,
          cRLSign: true,
          digitalSignature: true,
          critical: true,
        },
        ...common,
      ]
    case 'client':
      return [
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', clientAuth: true },
        ...common,
      ]
    case 'server':
      return [
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          // GeneralName types (RFC 5280 §4.2.1.6): 2 dNSName, 7 iPAddress.
          altNames: profile.hosts.map((host) =>
            isIP(host) === 0 ? { type: 2, value: host } : { type: 7, ip: host },
          ),
        },
        ...common,
      ]
  }
}

async function issue(request: Request): Promise<TestCertificate> {
  // The key is made by Node.js (native, fast); node-forge only encodes and signs the certificate.
  const pair = await generateRsaKeyPair('rsa', { modulusLength: 2048 })
  const keyPem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString()

  const certificate = forge.pki.createCertificate()
  certificate.publicKey = forge.pki.publicKeyFromPem(publicPem)
  certificate.serialNumber = serialNumber()
  certificate.validity.notBefore = request.notBefore
  certificate.validity.notAfter = request.notAfter
  const subject = [{ name: 'commonName', value: request.subject }]
  certificate.setSubject(subject)

  let signingKeyPem = keyPem
  let authorityKeyId: string | undefined
  if (request.signedBy === undefined) {
    certificate.setIssuer(subject)
  } else {
    const authority = forge.pki.certificateFromPem(request.signedBy.certPem)
    certificate.setIssuer(authority.subject.attributes)
    authorityKeyId = authority.generateSubjectKeyIdentifier().getBytes()
    signingKeyPem = request.signedBy.keyPem
  }
  certificate.setExtensions(extensions(request.profile, authorityKeyId))
  certificate.sign(forge.pki.privateKeyFromPem(signingKeyPem), forge.md.sha256.create())

  const der = Buffer.from(
    forge.asn1.toDer(forge.pki.certificateToAsn1(certificate)).getBytes(),
    'binary',
  )
  return Object.freeze({
    subject: request.subject,
    certPem: forge.pki.certificateToPem(certificate),
    keyPem,
    der,
    thumbprint: createHash('sha256').update(der).digest('base64url'),
  })
}
