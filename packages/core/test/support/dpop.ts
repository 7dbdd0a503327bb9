/**
 * DPoP proofs for tests, signed with real keys by jose (an implementation independent of ours),
 * plus a raw encoder for the proofs jose refuses to make (`alg: none`).
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import { CompactSign, type JWK } from 'jose'

/** A proof key: the private half signs, the public JWK goes in the proof header. */
export interface ProofKey {
  readonly alg: string
  readonly privateKey: KeyObject
  readonly jwk: JWK
}

/** A fresh key pair for `alg` (RSA keys of `rsaBits`, 2048 by default). */
export function proofKey(alg = 'ES256', rsaBits = 2048): ProofKey {
  const pair = (): { privateKey: KeyObject; publicKey: KeyObject } => {
    if (alg.startsWith('ES')) {
      const namedCurve = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[alg] ?? 'P-256'
      return generateKeyPairSync('ec', { namedCurve })
    }
    if (alg === 'EdDSA') return generateKeyPairSync('ed25519')
    return generateKeyPairSync('rsa', { modulusLength: rsaBits })
  }
  const { privateKey, publicKey } = pair()
  return { alg, privateKey, jwk: publicKey.export({ format: 'jwk' }) }
}

/** What a test changes in a proof: header and payload members to set, or to drop (`undefined`). */
export interface ProofShape {
  readonly header?: Record<string, unknown>
  readonly payload?: Record<string, unknown>
  /** Sign with this key instead of the one whose JWK is in the header. */
  readonly signWith?: KeyObject | Uint8Array
}

function merge(
  base: Record<string, unknown>,
  changes: Record<string, unknown> = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) Reflect.deleteProperty(out, name)
    else out[name] = value
  }
  return out
}

/** A signed proof: `typ` `dpop+jwt`, the key's `alg` and public `jwk`, then `shape`'s changes. */
export async function signProof(
  key: ProofKey,
  payload: Record<string, unknown>,
  shape: ProofShape = {},
): Promise<string> {
  const header = merge({ typ: 'dpop+jwt', alg: key.alg, jwk: key.jwk }, shape.header)
  const body = new TextEncoder().encode(JSON.stringify(merge(payload, shape.payload)))
  return new CompactSign(body)
    .setProtectedHeader(header as { alg: string })
    .sign(shape.signWith ?? key.privateKey)
}

const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')

/** An unsigned compact JWS (`header.payload.`), which no library will sign. */
export function unsignedProof(header: object, payload: object): string {
  return `${part(header)}.${part(payload)}.`
}

/**
 * A proof signed by node:crypto, for what jose refuses to sign: RSA keys under 2048 bits, unknown
 * `crit` extensions. ES256 or RS256, as the key's `alg` says.
 */
export function nodeProof(
  key: ProofKey,
  payload: object,
  header: Record<string, unknown> = {},
): string {
  const input = `${part({ typ: 'dpop+jwt', alg: key.alg, jwk: key.jwk, ...header })}.${part(payload)}`
  const signature =
    key.alg === 'ES256'
      ? sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
      : sign('sha256', Buffer.from(input), key.privateKey)
  return `${input}.${signature.toString('base64url')}`
}
