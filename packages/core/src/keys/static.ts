import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { AlgorithmSpec } from '../jws/algorithms.js'
import { importPublicJwk, keyEntry, readJwk } from './jwk.js'
import type { KeySource } from './key-source.js'
import { KeySelection, type KeyEntry } from './selection.js'

/**
 * Verification keys given in configuration instead of discovered: for tests, air-gapped services,
 * and Kubernetes service-account tokens.
 *
 * - a PEM string: an SPKI public key (`-----BEGIN PUBLIC KEY-----`), or an X.509 certificate
 *   (`-----BEGIN CERTIFICATE-----`), whose public key is used; several PEM blocks may follow each
 *   other. Private keys are refused.
 * - a JWK object (RFC 7517 §4), public members only,
 * - a JWKS object `{ keys: [...] }` (RFC 7517 §5),
 * - a `file:` URL of a file holding any of the above (read once, at start-up).
 *
 * A PEM key has no `kid` and no `alg`: it verifies the algorithms its type allows (an RSA key
 * RS*, PS*; a P-256 key ES256; an Ed25519 key EdDSA) among those configured.
 */
export type StaticKeys =
  | string
  | URL
  | Readonly<Record<string, unknown>>
  | { readonly keys: readonly Readonly<Record<string, unknown>>[] }

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g

function fail(message: string): never {
  throw new TypeError(`bearer-guard: "keys" ${message}`)
}

function fromPem(text: string): KeyEntry[] {
  const entries: KeyEntry[] = []
  for (const match of text.matchAll(PEM_BLOCK)) {
    const [block, label] = match
    let key: KeyObject
    if (label === 'CERTIFICATE') key = new X509Certificate(block).publicKey
    else if (label === 'PUBLIC KEY' || label === 'RSA PUBLIC KEY') key = createPublicKey(block)
    else if (label?.includes('PRIVATE'))
      fail('holds a private key; give the public key (SPKI) or a certificate')
    else fail(`holds a PEM block of an unsupported kind (${label ?? ''})`)
    const { kty, crv } = key.export({ format: 'jwk' })
    entries.push(
      Object.freeze({ kid: undefined, jwk: Object.freeze({ kty, crv }), key, issuer: undefined }),
    )
  }
  if (entries.length === 0) fail('is a string without a PEM public key or certificate')
  return entries
}

function fromJwks(value: Readonly<Record<string, unknown>>): KeyEntry[] {
  const list = Array.isArray(value.keys) ? (value.keys as unknown[]) : [value]
  const entries: KeyEntry[] = []
  for (const item of list) {
    if (typeof item === 'object' && item !== null && 'd' in item) {
      fail('holds a private JWK (a "d" member); give the public key only')
    }
    const jwk = readJwk(item)
    const key = jwk && importPublicJwk(jwk)
    if (jwk === undefined || key === undefined)
      fail('holds a JWK that is not a usable public signature key')
    entries.push(keyEntry(jwk, key))
  }
  if (entries.length === 0) fail('is a JWKS without keys')
  return entries
}

function read(keys: StaticKeys): KeyEntry[] {
  if (keys instanceof URL) {
    if (keys.protocol !== 'file:')
      fail('as a URL must be a file: URL (remote keys are found by discovery or jwksUri)')
    const text = readFileSync(fileURLToPath(keys), 'utf8')
    if (text.trimStart().startsWith('{')) {
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch {
        fail(`file ${keys.pathname} is neither JSON nor PEM`)
      }
      return fromJwks(parsed as Record<string, unknown>)
    }
    return fromPem(text)
  }
  if (typeof keys === 'string') return fromPem(keys)
  if (typeof keys === 'object' && (keys as unknown) !== null) return fromJwks(keys)
  return fail('must be a PEM string, a JWK, a JWKS or a file: URL')
}

/** Keys fixed at construction: candidates are always known now, never a promise. */
export class StaticKeySource implements KeySource {
  readonly #selection: KeySelection

  /** From configured keys (see {@link StaticKeys}). */
  static fromKeys(keys: StaticKeys): StaticKeySource {
    return new StaticKeySource(read(keys))
  }

  /** From an HMAC secret: verifies the `HS*` algorithms only. */
  static fromSecret(secret: KeyObject): StaticKeySource {
    return new StaticKeySource([
      Object.freeze({
        kid: undefined,
        jwk: Object.freeze({ kty: 'oct' }),
        key: secret,
        issuer: undefined,
      }),
    ])
  }

  private constructor(entries: readonly KeyEntry[]) {
    this.#selection = new KeySelection(entries)
  }

  candidates(spec: AlgorithmSpec, kid: string | undefined): readonly KeyObject[] {
    // A kid-less key (PEM) fits any kid: the token's kid cannot select among keys that have none.
    const found = this.#selection.select(spec, kid)
    return found.length > 0 || kid === undefined ? found : this.#selection.selectKidless(spec)
  }

  holds(key: KeyObject): boolean {
    return this.#selection.has(key)
  }

  load(): Promise<void> {
    return Promise.resolve()
  }

  issuerOf(key: KeyObject): string | undefined {
    return this.#selection.issuerOf(key)
  }
}
