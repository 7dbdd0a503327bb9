import { KeyObject } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'
import type { JWK } from 'jose'
import { assertTestAlgorithm } from './algorithms.js'
import type { TestAlgorithm } from './algorithms.js'

/** A public JWK as published in the issuer's JWKS: always carries `kid`, `alg` and `use: 'sig'`. */
export type PublishedJwk = JWK & {
  readonly kid: string
  readonly alg: TestAlgorithm
  readonly use: 'sig'
}

/** A signing key pair generated for tests. */
export interface TestKey {
  /** The key ID: the RFC 7638 JWK thumbprint unless one was given. */
  readonly kid: string
  /** The algorithm the key was generated for, and the `alg` it is published with. */
  readonly alg: TestAlgorithm
  /** The public JWK exactly as it appears in the JWKS when the key is published. */
  readonly publicJwk: PublishedJwk
  /** The private key (a Node.js `KeyObject`; jose and `node:crypto` accept it). */
  readonly privateKey: KeyObject
  /** The public key (a Node.js `KeyObject`). */
  readonly publicKey: KeyObject
  /**
   * The public key as an SPKI PEM string: pass it as `secret` to `mint` to forge an HMAC token
   * "signed with the public key" (the algorithm-confusion attack).
   */
  readonly publicKeyPem: string
}

/** Options of {@link generateTestKey}. */
export interface GenerateKeyOptions {
  /** The key ID. Default: the key's RFC 7638 JWK thumbprint (SHA-256). */
  readonly kid?: string
}

/**
 * Generates a fresh key pair for `alg` (RSA keys are 2048 bits; `EdDSA` keys are Ed25519).
 *
 * @param alg The algorithm. Default `'RS256'`.
 * @example
 * ```ts
 * const foreign = await generateTestKey('ES256', { kid: 'attacker' })
 * ```
 */
export async function generateTestKey(
  alg: TestAlgorithm = 'RS256',
  options: GenerateKeyOptions = {},
): Promise<TestKey> {
  assertTestAlgorithm('algorithm', alg)
  if (options.kid !== undefined && (typeof options.kid !== 'string' || options.kid === '')) {
    throw new TypeError('kid must be a non-empty string')
  }
  const pair = await generateKeyPair(alg, { extractable: true })
  const privateKey = KeyObject.from(pair.privateKey)
  const publicKey = KeyObject.from(pair.publicKey)
  const jwk = await exportJWK(publicKey)
  const kid = options.kid ?? (await calculateJwkThumbprint(jwk))
  const publicJwk: PublishedJwk = Object.freeze({ ...jwk, kid, alg, use: 'sig' as const })
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
  return Object.freeze({ kid, alg, publicJwk, privateKey, publicKey, publicKeyPem })
}
