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
  /**
   * Extra members of the published JWK, added after the standard ones: e.g. the `issuer` member
   * of Microsoft Entra ID's multi-tenant key set (`{ issuer:
   * 'https://login.microsoftonline.com/{tenantid}/v2.0' }`), or `x5t`. Values must be JSON
   * values. They cannot replace `kty`, `kid`, `alg`, `use`, `key_ops` or the key material (those
   * names throw a `TypeError`). Default: none.
   */
  readonly jwkMembers?: Readonly<Record<string, unknown>>
}

/** JWK members that `jwkMembers` may not replace: they define the key and how it is selected. */
const RESERVED_MEMBERS = new Set([
  'kty',
  'kid',
  'alg',
  'use',
  'key_ops',
  'n',
  'e',
  'd',
  'p',
  'q',
  'dp',
  'dq',
  'qi',
  'oth',
  'crv',
  'x',
  'y',
  'k',
])

/**
 * Checks `jwkMembers` (see {@link GenerateKeyOptions.jwkMembers}) and returns a frozen copy
 * without `undefined` values.
 *
 * @throws TypeError naming `where` when it is not an object or names a reserved member.
 */
export function checkJwkMembers(
  members: unknown,
  where: string,
): Readonly<Record<string, unknown>> {
  if (typeof members !== 'object' || members === null || Array.isArray(members)) {
    throw new TypeError(`${where}: jwkMembers must be an object of extra JWK members`)
  }
  const copy: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(members)) {
    if (RESERVED_MEMBERS.has(name)) {
      throw new TypeError(
        `${where}: jwkMembers cannot set "${name}" (kty, kid, alg, use, key_ops and the key material are the key's own)`,
      )
    }
    if (value !== undefined) copy[name] = value
  }
  return Object.freeze(copy)
}

/**
 * Generates a fresh key pair for `alg` (RSA keys are 2048 bits; `EdDSA` keys are Ed25519).
 *
 * @param alg The algorithm. Default `'RS256'`.
 * @throws TypeError when `alg` is not a {@link TestAlgorithm} or an option is invalid.
 * @example
 * ```ts
 * const foreign = await generateTestKey('ES256', { kid: 'attacker' })
 * // A key published as in Microsoft Entra ID's multi-tenant key set:
 * const entraKey = await generateTestKey('RS256', {
 *   jwkMembers: { issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0' },
 * })
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
  const extra =
    options.jwkMembers === undefined ? {} : checkJwkMembers(options.jwkMembers, 'generateTestKey()')
  const pair = await generateKeyPair(alg, { extractable: true })
  const privateKey = KeyObject.from(pair.privateKey)
  const publicKey = KeyObject.from(pair.publicKey)
  const jwk = await exportJWK(publicKey)
  const kid = options.kid ?? (await calculateJwkThumbprint(jwk))
  const publicJwk: PublishedJwk = Object.freeze({ ...jwk, kid, alg, use: 'sig' as const, ...extra })
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
  return Object.freeze({ kid, alg, publicJwk, privateKey, publicKey, publicKeyPem })
}
