import { KeyObject, randomUUID } from 'node:crypto'
import { CompactSign, exportJWK, generateKeyPair } from 'jose'
import type { CompactJWSHeaderParameters, JWK } from 'jose'
import { assertTestAlgorithm, compatibleAlgorithms } from './algorithms.js'
import type { TestAlgorithm } from './algorithms.js'
import { applyFlaw, isDpopProofFlaw } from './dpop-flaws.js'
import type { DpopProofFlaw, ProofParts } from './dpop-flaws.js'
import { encodeToken } from './encode.js'
import { mergeMembers } from './mint.js'
import { assertKnownKeys } from './option-keys.js'
import { jwkThumbprint, sha256Base64url } from './thumbprint.js'

/** Options of {@link generateDpopKey}. */
export interface GenerateDpopKeyOptions {
  /**
   * Current time in milliseconds since the epoch, for the `iat` of proofs made without an `iat`
   * option. Default `Date.now`.
   */
  readonly clock?: () => number
}

/** Options of `DpopKey.proof`: the request the proof is for. */
export interface DpopProofOptions {
  /** The request's HTTP method, the `htm` claim (e.g. `'GET'`). Required. */
  readonly htm: string
  /**
   * The request's target URI, an absolute `http:` or `https:` URL. The `htu` claim is this URL
   * without its query and fragment (RFC 9449 §4.2), otherwise exactly as given: it is not
   * normalised, so `'HTTPS://API.example.com:443/orders'` tests a server's RFC 3986
   * normalisation. Required.
   */
  readonly htu: string
  /**
   * The access token presented with the proof: adds `ath`, base64url of its SHA-256 (RFC 9449
   * §4.2). Default: none (no `ath`, as in a token request).
   */
  readonly accessToken?: string
  /** The `nonce` claim: a value from a `DPoP-Nonce` response header. Default: none. */
  readonly nonce?: string
  /** The `iat` claim, in seconds since the epoch. Default: the key's clock, now. */
  readonly iat?: number
  /** The `jti` claim. Default: a random UUID (version 4). */
  readonly jti?: string
  /**
   * Members merged over the header `{ typ: 'dpop+jwt', alg, jwk }`; `undefined` removes one
   * (e.g. `{ typ: undefined }`). `alg` must be one the key can sign with (an RSA key signs `PS256`
   * too); for `none` or HMAC use a {@link DpopProofFlaw}. Default: none.
   */
  readonly header?: Readonly<Record<string, unknown>>
  /**
   * Claims merged over `{ jti, htm, htu, iat, ath?, nonce? }`; `undefined` removes one. Default:
   * none.
   */
  readonly claims?: Readonly<Record<string, unknown>>
  /**
   * Make the proof subtly bad in exactly this one way (see {@link DpopProofFlaw} for each flaw and
   * the RFC 9449 §4.3 check it breaks). Applied after `header` and `claims`. Default: none, a
   * correct proof.
   */
  readonly flaw?: DpopProofFlaw
}

/** A DPoP key pair held by a test client (RFC 9449): it makes proofs and binds tokens to itself. */
export interface DpopKey {
  /** The algorithm the key was generated for, and the default `alg` of its proofs. */
  readonly alg: TestAlgorithm
  /**
   * The public key as a JWK with its key members only (`kty`, `crv`, `x`, `y` / `n`, `e`): the
   * proof header's `jwk`.
   */
  readonly publicJwk: Readonly<JWK>
  /**
   * The RFC 7638 JWK SHA-256 thumbprint of `publicJwk`, base64url: the `cnf.jkt` of a token bound
   * to this key (RFC 9449 §6.1). `issuer.mint(claims, { dpop: key })` sets it.
   */
  readonly thumbprint: string
  /** The private key (a Node.js `KeyObject`). */
  readonly privateKey: KeyObject
  /** The public key (a Node.js `KeyObject`). */
  readonly publicKey: KeyObject
  /**
   * Makes a DPoP proof, the value of a request's `DPoP` header: a compact JWS with the header
   * `{ typ: 'dpop+jwt', alg, jwk }` and the claims `jti`, `htm`, `htu`, `iat`, and `ath` and
   * `nonce` when asked for (RFC 9449 §4.2). With `flaw`, the proof is subtly bad in that one way.
   *
   * @throws TypeError when an option is invalid or unknown, or a flaw needs an absent option.
   * @example
   * ```ts
   * const key = await generateDpopKey()
   * const token = await issuer.mint({ scope: 'orders:read' }, { dpop: key })
   * const htu = 'http://127.0.0.1:3000/orders'
   * const headers = {
   *   authorization: `DPoP ${token}`,
   *   dpop: await key.proof({ htm: 'GET', htu, accessToken: token }),
   * }
   * const stale = await key.proof({
   *   htm: 'GET',
   *   htu,
   *   accessToken: token,
   *   flaw: 'iat-old', // iat 600 s ago: RFC 9449 §4.3 check 11
   * })
   * ```
   */
  proof(options: DpopProofOptions): Promise<string>
}

const PROOF_KEYS = {
  htm: true,
  htu: true,
  accessToken: true,
  nonce: true,
  iat: true,
  jti: true,
  header: true,
  claims: true,
  flaw: true,
} as const

function nonEmpty(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`proof(): ${name} must be a non-empty string`)
  }
  return value
}

function optionalString(value: unknown, name: string): string | undefined {
  return value === undefined ? undefined : nonEmpty(value, name)
}

function record(value: unknown, name: string): Readonly<Record<string, unknown>> | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`proof(): ${name} must be an object`)
  }
  return value as Readonly<Record<string, unknown>>
}

/** `htu` without query and fragment, after checking it is an absolute http(s) URL. */
function targetUri(htu: unknown): string {
  const given = nonEmpty(htu, 'htu')
  if (!/^https?:\/\//i.test(given) || !URL.canParse(given)) {
    throw new TypeError('proof(): htu must be an absolute http: or https: URL')
  }
  return given.replace(/[?#].*$/s, '')
}

/**
 * Generates a DPoP key pair (RFC 9449) for a test client: its `proof()` makes DPoP proofs, correct
 * or subtly bad, and its `thumbprint` binds tokens to it (`issuer.mint(claims, { dpop: key })`).
 * RSA keys are 2048 bits; `EdDSA` keys are Ed25519.
 *
 * @param alg The algorithm of the key and of its proofs. Default `'ES256'`.
 * @throws TypeError when `alg` is not a {@link TestAlgorithm} or an option is invalid.
 * @example
 * ```ts
 * const key = await generateDpopKey('ES256')
 * const token = await issuer.mint({}, { dpop: key }) // cnf: { jkt: key.thumbprint }
 * const proof = await key.proof({
 *   htm: 'POST',
 *   htu: 'https://api.example.com/orders',
 *   accessToken: token,
 * })
 * ```
 */
export async function generateDpopKey(
  alg: TestAlgorithm = 'ES256',
  options: GenerateDpopKeyOptions = {},
): Promise<DpopKey> {
  assertTestAlgorithm('generateDpopKey(): alg', alg)
  assertKnownKeys(options, { clock: true }, 'generateDpopKey()')
  const clock = options.clock ?? Date.now
  if (typeof clock !== 'function')
    throw new TypeError('generateDpopKey(): clock must be a function')

  const pair = await generateKeyPair(alg, { extractable: true })
  const privateKey = KeyObject.from(pair.privateKey)
  const publicKey = KeyObject.from(pair.publicKey)
  const publicJwk: Readonly<JWK> = Object.freeze(await exportJWK(publicKey))
  const thumbprint = jwkThumbprint(publicJwk)
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString()

  // Made on first use by the 'jwk-mismatch' flaw, then reused.
  let other: Promise<{ jwk: JWK; key: KeyObject }> | undefined
  const otherKey = (): Promise<{ jwk: JWK; key: KeyObject }> =>
    (other ??= generateKeyPair(alg, { extractable: true }).then(async (otherPair) => ({
      jwk: await exportJWK(otherPair.publicKey),
      key: KeyObject.from(otherPair.privateKey),
    })))

  async function proof(proofOptions: DpopProofOptions): Promise<string> {
    if (typeof proofOptions !== 'object' || (proofOptions as unknown) === null) {
      throw new TypeError('proof(): options { htm, htu } are required')
    }
    assertKnownKeys(proofOptions, PROOF_KEYS, 'proof()')
    const htm = nonEmpty(proofOptions.htm, 'htm')
    const htu = targetUri(proofOptions.htu)
    const accessToken = optionalString(proofOptions.accessToken, 'accessToken')
    const nonce = optionalString(proofOptions.nonce, 'nonce')
    const jti = optionalString(proofOptions.jti, 'jti') ?? randomUUID()
    const { iat = Math.floor(clock() / 1000), flaw } = proofOptions
    if (typeof iat !== 'number' || !Number.isFinite(iat)) {
      throw new TypeError('proof(): iat must be a finite number of seconds since the epoch')
    }
    if (flaw !== undefined && !isDpopProofFlaw(flaw)) {
      throw new TypeError(`proof(): unknown flaw ${JSON.stringify(flaw)}`)
    }

    const claims: Record<string, unknown> = { jti, htm, htu, iat }
    if (accessToken !== undefined) claims.ath = sha256Base64url(accessToken)
    if (nonce !== undefined) claims.nonce = nonce
    let parts: ProofParts = {
      header: mergeMembers(
        { typ: 'dpop+jwt', alg, jwk: publicJwk },
        record(proofOptions.header, 'header'),
      ),
      claims: mergeMembers(claims, record(proofOptions.claims, 'claims')),
      signing: 'key',
    }
    if (flaw !== undefined) {
      parts = await applyFlaw(flaw, parts, {
        givenHtu: nonEmpty(proofOptions.htu, 'htu'),
        accessToken,
        privateJwk: async () => ({ ...(await exportJWK(privateKey)) }),
        otherJwk: async () => ({ ...(await otherKey()).jwk }),
      })
    }
    const signAlg = parts.header.alg
    if (
      parts.signing !== 'none' &&
      parts.signing !== 'hmac' &&
      (typeof signAlg !== 'string' || !compatibleAlgorithms(alg).includes(signAlg))
    ) {
      throw new TypeError(
        `proof(): a ${alg} key signs with ${compatibleAlgorithms(alg).join(', ')}; for alg "none" or HMAC use flaw 'alg-none' or 'hs256'`,
      )
    }
    return await sign(parts, {
      privateKey,
      publicKeyPem,
      otherKey: async () => (await otherKey()).key,
    })
  }

  return Object.freeze({ alg, publicJwk, thumbprint, privateKey, publicKey, proof })
}

interface SigningKeys {
  readonly privateKey: KeyObject
  /** The HMAC secret of the `hs256` flaw. */
  readonly publicKeyPem: string
  readonly otherKey: () => Promise<KeyObject>
}

async function sign(parts: ProofParts, keys: SigningKeys): Promise<string> {
  const payload = new TextEncoder().encode(JSON.stringify(parts.claims))
  if (parts.signing === 'none') return encodeToken({ header: parts.header, payload: parts.claims })

  const key =
    parts.signing === 'hmac'
      ? new TextEncoder().encode(keys.publicKeyPem)
      : parts.signing === 'other-key'
        ? await keys.otherKey()
        : keys.privateKey
  const jws = await new CompactSign(payload)
    .setProtectedHeader(parts.header as CompactJWSHeaderParameters)
    .sign(key)
  if (parts.signing !== 'corrupt') return jws

  const [header = '', body = '', signature = ''] = jws.split('.')
  const bytes = Buffer.from(signature, 'base64url')
  bytes[0] = (bytes[0] ?? 0) ^ 0x01
  return `${header}.${body}.${bytes.toString('base64url')}`
}
