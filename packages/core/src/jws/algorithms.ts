import { constants, createHmac, timingSafeEqual, verify, type KeyObject } from 'node:crypto'

/** The default allow-list: asymmetric algorithms only. */
export const ASYMMETRIC_ALGORITHMS = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const)

/** HMAC algorithms, usable only with a configured secret. */
export const HMAC_ALGORITHMS = Object.freeze(['HS256', 'HS384', 'HS512'] as const)

type Family = 'RSA' | 'PSS' | 'EC' | 'OKP' | 'HMAC'

/** What an algorithm needs of a key and how it verifies; built once per algorithm. */
export interface AlgorithmSpec {
  readonly alg: string
  readonly family: Family
  /** Digest name for node:crypto, or null for EdDSA (the curve fixes it). */
  readonly hash: string | null
  /** JWK `crv` an EC key must have (EC only). */
  readonly crv?: string
  /** Exact signature length in bytes, where the algorithm fixes it (ECDSA, HMAC). */
  readonly signatureLength?: number
}

const SPEC_LIST: readonly AlgorithmSpec[] = [
  { alg: 'RS256', family: 'RSA', hash: 'sha256' },
  { alg: 'RS384', family: 'RSA', hash: 'sha384' },
  { alg: 'RS512', family: 'RSA', hash: 'sha512' },
  { alg: 'PS256', family: 'PSS', hash: 'sha256' },
  { alg: 'PS384', family: 'PSS', hash: 'sha384' },
  { alg: 'PS512', family: 'PSS', hash: 'sha512' },
  { alg: 'ES256', family: 'EC', hash: 'sha256', crv: 'P-256', signatureLength: 64 },
  { alg: 'ES384', family: 'EC', hash: 'sha384', crv: 'P-384', signatureLength: 96 },
  { alg: 'ES512', family: 'EC', hash: 'sha512', crv: 'P-521', signatureLength: 132 },
  { alg: 'EdDSA', family: 'OKP', hash: null },
  { alg: 'HS256', family: 'HMAC', hash: 'sha256', signatureLength: 32 },
  { alg: 'HS384', family: 'HMAC', hash: 'sha384', signatureLength: 48 },
  { alg: 'HS512', family: 'HMAC', hash: 'sha512', signatureLength: 64 },
]
const SPECS: ReadonlyMap<string, AlgorithmSpec> = new Map(
  SPEC_LIST.map((spec) => [spec.alg, Object.freeze(spec)]),
)

/** True for an algorithm bearer-guard implements (`none` never is). */
export function isSupportedAlgorithm(alg: string): boolean {
  return SPECS.has(alg)
}

/** The spec of a supported algorithm, or `undefined`. */
export function algorithmSpec(alg: string): AlgorithmSpec | undefined {
  return SPECS.get(alg)
}

/** The smallest RSA modulus accepted, in bits (RFC 7518 §3.3, §3.5). */
export const MIN_RSA_BITS = 2048

/**
 * True when a JWK may verify `spec` signatures: its `kty`/`crv` fit the algorithm, `use` is
 * absent or `sig`, `key_ops` (if present) allows `verify`, and its `alg` (if present) matches.
 */
export function jwkFits(jwk: Record<string, unknown>, spec: AlgorithmSpec): boolean {
  if (jwk.use !== undefined && jwk.use !== 'sig') return false
  if (jwk.key_ops !== undefined) {
    if (!Array.isArray(jwk.key_ops) || !jwk.key_ops.includes('verify')) return false
  }
  if (jwk.alg !== undefined && jwk.alg !== spec.alg) return false
  switch (spec.family) {
    case 'RSA':
    case 'PSS':
      return jwk.kty === 'RSA'
    case 'EC':
      return jwk.kty === 'EC' && jwk.crv === spec.crv
    case 'OKP':
      return jwk.kty === 'OKP' && (jwk.crv === 'Ed25519' || jwk.crv === 'Ed448')
    case 'HMAC':
      return false // symmetric keys are never taken from a key set
  }
}

/** True when an imported key object is of the kind `spec` needs (defence in depth). */
export function keyObjectFits(key: KeyObject, spec: AlgorithmSpec): boolean {
  switch (spec.family) {
    case 'RSA':
      return key.type === 'public' && key.asymmetricKeyType === 'rsa' && rsaBitsOk(key)
    case 'PSS':
      return (
        key.type === 'public' &&
        (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') &&
        rsaBitsOk(key)
      )
    case 'EC':
      return (
        key.type === 'public' &&
        key.asymmetricKeyType === 'ec' &&
        key.asymmetricKeyDetails?.namedCurve === NODE_CURVES[spec.crv ?? '']
      )
    case 'OKP':
      return (
        key.type === 'public' &&
        (key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448')
      )
    case 'HMAC':
      return key.type === 'secret'
  }
}

const NODE_CURVES: Readonly<Record<string, string>> = {
  'P-256': 'prime256v1',
  'P-384': 'secp384r1',
  'P-521': 'secp521r1',
}

function rsaBitsOk(key: KeyObject): boolean {
  return (key.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_BITS
}

/**
 * Verifies a JWS signature with node:crypto directly: one synchronous call, no promise, no
 * re-import. ECDSA signatures are the fixed-length IEEE P1363 form JWS mandates (RFC 7518 §3.4).
 */
export function verifySignature(
  spec: AlgorithmSpec,
  key: KeyObject,
  signingInput: Buffer,
  signature: Buffer,
): boolean {
  if (spec.signatureLength !== undefined && signature.length !== spec.signatureLength) return false
  switch (spec.family) {
    case 'RSA':
      return verify(spec.hash, signingInput, key, signature)
    case 'PSS':
      return verify(
        spec.hash,
        signingInput,
        {
          key,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
        },
        signature,
      )
    case 'EC':
      return verify(spec.hash, signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature)
    case 'OKP':
      return verify(null, signingInput, key, signature)
    case 'HMAC': {
      const mac = createHmac(spec.hash as string, key)
        .update(signingInput)
        .digest()
      return timingSafeEqual(mac, signature)
    }
  }
}
