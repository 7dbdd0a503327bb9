/**
 * RFC 9449 (DPoP) proof checking: one proof JWT against the request it came with, exactly as
 * §4.3 lists. Replay (§11.1) is the caller's: it claims {@link DpopProof.replayId} in a
 * `ReplayStore` until {@link DpopProof.expiresAt}; the `cnf.jkt` comparison (§6.1, §7.1) is the
 * caller's too, with {@link DpopProof.jkt}.
 */
import { LRUCache } from 'lru-cache'
import { createPublicKey, type KeyObject } from 'node:crypto'
import { InvalidDpopProofError, UseDpopNonceError } from '../challenge/dpop-errors.js'
import {
  ASYMMETRIC_ALGORITHMS,
  algorithmSpec,
  jwkFits,
  keyObjectFits,
  verifySignature,
  type AlgorithmSpec,
} from '../jws/algorithms.js'
import { decodeJws, signingInput, type DecodedJws } from '../jws/decode.js'
import { reimportedRsaKey } from '../keys/jwk.js'
import { fail, isObject, nonNegative, positive, stringList } from '../options/checks.js'
import type { DpopNonces } from './nonce.js'
import { THUMBPRINT_MEMBERS, accessTokenHash, jwkThumbprint } from './thumbprint.js'
import { htuMatches, normalizeOrigin } from './uri.js'

/**
 * The proof algorithms accepted by default, most preferred first (the order of `algs`): every
 * asymmetric algorithm core verifies. ES256 and EdDSA are what browsers (WebCrypto) and most DPoP
 * clients use; RSA (RS*, PS*, 2048 bits at least) serves keys held in HSMs, TPMs and platform key
 * stores. `none` and HMAC can never be configured (RFC 9449 §4.2: "MUST NOT be none or an
 * identifier for a symmetric algorithm").
 */
export const DPOP_ALGORITHMS: readonly string[] = Object.freeze([
  'ES256',
  'EdDSA',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
])

/** Options of {@link dpopRules}. */
export interface DpopOptions {
  /**
   * The origin clients use to reach the API, e.g. `https://api.example.com`: `htu` must be this
   * origin plus the request's path. Never taken from `Host` or `X-Forwarded-*`. Required.
   */
  readonly origin: string
  /** Accepted proof algorithms, a subset of {@link DPOP_ALGORITHMS}. Default: all of them. */
  readonly algorithms?: readonly string[]
  /** How long after its `iat` a proof is accepted, in seconds (§11.1). Default: `60`. */
  readonly maxAge?: number
  /** How far in the future a proof's `iat` may be (client clock ahead), in seconds. Default: `5`. */
  readonly clockTolerance?: number
  /** Server-provided nonces (§9): when set, every proof must carry a valid `nonce`. */
  readonly nonces?: DpopNonces | undefined
}

/** Checked and resolved {@link DpopOptions}; build once, use for every request. */
export interface DpopRules {
  /** The normalised origin, without a trailing `/`. */
  readonly origin: string
  /** The accepted algorithms, in preference order: the challenge's `algs`. */
  readonly algs: readonly string[]
  /** Milliseconds after `iat` a proof is accepted. */
  readonly maxAge: number
  /** Milliseconds `iat` may be ahead of the clock. */
  readonly clockTolerance: number
  readonly nonces: DpopNonces | undefined
}

/** What {@link checkDpopProof} compares a proof with: the request's own parts. */
export interface DpopRequest {
  /** The request method as received (`htm`, §4.3 item 8), e.g. `GET`. */
  readonly method: string
  /** The request target as received (origin-form: path and query), e.g. `/orders?limit=5`. */
  readonly url: string
  /** The access token sent with the proof, if any: its hash must be the proof's `ath` (§4.3). */
  readonly accessToken?: string | undefined
  /** `accessToken`'s `ath`, when the caller has it already (a cached token's). */
  readonly accessTokenHash?: string | undefined
  /** The current time, in milliseconds since the epoch. */
  readonly now: number
}

/** A checked DPoP proof. */
export interface DpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof key: compare with the token's `cnf.jkt` (§6.1). */
  readonly jkt: string
  /** The proof's `jti`. */
  readonly jti: string
  /** The proof's `iat`, in seconds. */
  readonly iat: number
  /** The proof's `nonce`, when nonces are required (else `undefined`). */
  readonly nonce: string | undefined
  /** The replay-store key of this proof: `dpop:` + `jkt` + `:` + `jti` (jti scoped to the key). */
  readonly replayId: string
  /** Until when (ms) the proof would be accepted, plus the tolerance: keep its `jti` that long. */
  readonly expiresAt: number
}

/** Longest proof accepted, in characters: an RSA-4096 proof is under 2 KiB. */
export const MAX_PROOF_LENGTH = 8192
/** Longest `jti` accepted (§11.1: "reject DPoP proof JWTs with unnecessarily large jti values"). */
export const MAX_JTI_LENGTH = 128
const TYPES = new Set(['dpop+jwt', 'application/dpop+jwt'])
/** Private (and symmetric) key members; a proof's `jwk` holding any of them is refused (§4.3). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']
const BASE64URL = /^[A-Za-z0-9_-]+$/
const NONCE_REQUIRED = 'The resource server requires a current nonce in the DPoP proof'

/**
 * Checks and resolves DPoP options once, at start-up.
 *
 * @throws `TypeError` for a missing or invalid origin, an algorithm that is not an allowed
 * asymmetric one, or an invalid number.
 */
export function dpopRules(options: DpopOptions): DpopRules {
  if (!isObject(options)) fail('DPoP options must be an object')
  const origin = typeof options.origin === 'string' ? normalizeOrigin(options.origin) : undefined
  if (origin === undefined) fail('"origin" must be an http or https origin, without a path')
  const algs = stringList('algorithms', options.algorithms, DPOP_ALGORITHMS)
  const asymmetric: readonly string[] = ASYMMETRIC_ALGORITHMS
  if (algs.length === 0 || algs.some((alg) => !asymmetric.includes(alg))) {
    fail(`"algorithms" must name asymmetric JWS algorithms among ${DPOP_ALGORITHMS.join(' ')}`)
  }
  return Object.freeze({
    origin,
    algs: Object.freeze([...new Set(algs)]),
    maxAge: positive('maxAge', options.maxAge, 60) * 1000,
    clockTolerance: nonNegative('clockTolerance', options.clockTolerance, 5) * 1000,
    nonces: options.nonces,
  })
}

/**
 * Checks one DPoP proof (the value of the request's single `DPoP` header) against the request,
 * as RFC 9449 §4.3 lists: a well-formed compact JWS (item 2) with `typ` `dpop+jwt` (4), an
 * allowed asymmetric `alg` (5), a public `jwk` (7) that verifies the signature (6); `jti`, `htm`,
 * `htu` and `iat` present (3); `htm` the request method (8); `htu` the configured origin plus the
 * request path, compared after RFC 3986 normalisation, with no query or fragment (9); the server's
 * nonce when required (10); `iat` within the window (11); `ath` the hash of the access token when
 * one is presented (12). Items 1 (a single header), 12's key binding and §11.1 replay are the
 * caller's.
 *
 * @throws {@link InvalidDpopProofError} (401 `invalid_dpop_proof`) when any check fails.
 * @throws {@link UseDpopNonceError} (401 `use_dpop_nonce`, with the nonce to retry with) when
 * nonces are required and the proof's is missing or not current; only for an otherwise valid proof.
 */
export function checkDpopProof(proof: string, request: DpopRequest, rules: DpopRules): DpopProof {
  if (typeof proof !== 'string' || proof === '' || proof.length > MAX_PROOF_LENGTH) {
    throw invalid(rules, 'The DPoP proof is missing or too large')
  }
  let jws: DecodedJws
  try {
    jws = decodeJws(proof)
  } catch {
    throw invalid(rules, 'The DPoP proof is not a well-formed JWT')
  }
  const { payload } = jws
  const { spec, key: proofKey } = checkHeader(jws.header, rules)
  const { key, jkt } = proofKey
  if (!verifySignature(spec, key, signingInput(jws), jws.signature)) {
    throw invalid(rules, 'The DPoP proof signature is invalid')
  }

  const { jti, htm, htu, iat } = payload
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) {
    throw invalid(rules, "The DPoP proof 'jti' is missing, empty or too long")
  }
  if (typeof htm !== 'string' || typeof htu !== 'string') {
    throw invalid(rules, "The DPoP proof 'htm' or 'htu' claim is missing")
  }
  if (typeof iat !== 'number' || !Number.isFinite(iat)) {
    throw invalid(rules, "The DPoP proof 'iat' claim is missing or not a number")
  }
  if (htm !== request.method) {
    throw invalid(rules, "The DPoP proof 'htm' does not match the request method")
  }
  if (!htuMatches(htu, request.url, rules.origin)) {
    throw invalid(rules, "The DPoP proof 'htu' does not match the request URI")
  }
  const issued = iat * 1000
  if (issued > request.now + rules.clockTolerance) {
    throw invalid(rules, "The DPoP proof 'iat' is in the future")
  }
  if (request.now > issued + rules.maxAge) throw invalid(rules, 'The DPoP proof is too old')
  if (
    request.accessToken !== undefined &&
    payload.ath !== (request.accessTokenHash ?? accessTokenHash(request.accessToken))
  ) {
    throw invalid(rules, "The DPoP proof 'ath' does not match the access token")
  }
  let nonce: string | undefined
  if (rules.nonces !== undefined) {
    const nonces = rules.nonces
    if (!nonces.isValid(payload.nonce, request.now)) {
      const next = nonces.nonceToSend(request.now) ?? nonces.currentNonce(request.now)
      throw new UseDpopNonceError(next, NONCE_REQUIRED, { algs: rules.algs })
    }
    nonce = payload.nonce as string
  }
  // Kept past the last instant the proof is accepted, with the tolerance (and a second) as a
  // margin for instances whose clocks differ.
  const expiresAt = issued + rules.maxAge + rules.clockTolerance + 1000
  return { jkt, jti, iat, nonce, replayId: `dpop:${jkt}:${jti}`, expiresAt }
}

/** A refusal, with the accepted algorithms as the challenge's `algs` (§7.1). */
function invalid(rules: DpopRules, description: string): InvalidDpopProofError {
  return new InvalidDpopProofError(description, { algs: rules.algs })
}

/**
 * RFC 9449 §4.3 items 4, 5 and 7 on a proof's header: `typ` `dpop+jwt`, an accepted asymmetric
 * `alg`, no `crit` or unencoded payload, and a public `jwk` fitting the algorithm; answers the
 * algorithm, the imported key and its thumbprint.
 */
function checkHeader(header: Readonly<Record<string, unknown>>, rules: DpopRules): CheckedHeader {
  const checked = checkedHeaders.get(header)
  if (checked !== undefined && checked.rules === rules) {
    used(checked.key)
    return checked
  }
  if (typeof header.typ !== 'string' || !TYPES.has(header.typ.toLowerCase())) {
    throw invalid(rules, "The DPoP proof 'typ' is not dpop+jwt")
  }
  const spec =
    typeof header.alg === 'string' && rules.algs.includes(header.alg)
      ? algorithmSpec(header.alg)
      : undefined
  if (spec === undefined) {
    throw invalid(rules, 'The DPoP proof is signed with an algorithm that is not accepted')
  }
  if (header.crit !== undefined || (header.b64 !== undefined && header.b64 !== true)) {
    throw invalid(rules, 'The DPoP proof uses header parameters that are not supported')
  }
  const result: CheckedHeader = { rules, spec, key: proofKey(header.jwk, spec, rules) }
  // A frozen header is the decoder's shared one (see `decodeJws`): a client's next proofs bring
  // this very object, and nothing can change it, so these checks hold for it under these rules.
  if (Object.isFrozen(header)) checkedHeaders.set(header, result)
  return result
}

/** A proof header that passed {@link checkHeader} under `rules`. */
interface CheckedHeader {
  readonly rules: DpopRules
  readonly spec: AlgorithmSpec
  readonly key: ProofKey
}

/** An imported proof key, its thumbprint, and how often it has served. */
interface ProofKey {
  /** Replaced once by the same key imported from DER (RSA only, see {@link used}). */
  key: KeyObject
  readonly jkt: string
  uses: number
}

/**
 * A client's RSA key is imported again from DER at its {@link REIMPORT_AT}th proof, to verify the
 * rest faster (see `reimportedRsaKey`). Not sooner: that import costs about 110 µs, and a client
 * that sends a new key with every proof must not make the server pay it for each.
 */
const REIMPORT_AT = 16

function used(proofKey: ProofKey): void {
  if (++proofKey.uses === REIMPORT_AT && proofKey.key.asymmetricKeyType === 'rsa') {
    proofKey.key = reimportedRsaKey(proofKey.key)
  }
}

/**
 * Proof headers already checked, by identity: only frozen ones, which the header decoder shares
 * between the proofs of one client. Held weakly: an entry goes with its header.
 */
const checkedHeaders = new WeakMap<object, CheckedHeader>()

/**
 * The proof's `jwk` header as a verification key, and its thumbprint: a JSON object of a known key
 * type, without private members (§4.2: "It MUST NOT contain a private key"), fitting the
 * algorithm (type, curve, `use`, `key_ops`, `alg`, RSA size), imported from its public members only.
 */
function proofKey(value: unknown, spec: AlgorithmSpec, rules: DpopRules): ProofKey {
  if (!isObject(value)) throw invalid(rules, "The DPoP proof header has no 'jwk' public key")
  if (PRIVATE_MEMBERS.some((name) => Object.hasOwn(value, name))) {
    throw invalid(rules, "The DPoP proof 'jwk' holds a private or symmetric key")
  }
  const names = Object.hasOwn(THUMBPRINT_MEMBERS, String(value.kty))
    ? THUMBPRINT_MEMBERS[String(value.kty)]
    : undefined
  const members: Record<string, string> = {}
  for (const name of names ?? []) {
    const member = value[name]
    if (
      typeof member !== 'string' ||
      (name !== 'kty' && name !== 'crv' && !BASE64URL.test(member))
    ) {
      throw invalid(rules, "The DPoP proof 'jwk' is not a valid public key")
    }
    members[name] = member
  }
  if (names === undefined || !jwkFits(value, spec)) {
    throw invalid(rules, "The DPoP proof 'jwk' does not fit its algorithm")
  }
  // The thumbprint's members are exactly the key material (RFC 7638 §3.2), so they name the key:
  // a client's key, imported once, serves its next proofs. Importing a P-256 key costs as much as
  // verifying a signature with it, and a fresh KeyObject verifies slower than a used one. The
  // members are base64url or fixed names, so `.` cannot occur in them and joins them unambiguously.
  const id = names.map((name) => members[name]).join('.')
  let imported = importedProofKeys.get(id)
  if (imported === undefined) {
    let key: KeyObject
    try {
      key = createPublicKey({ key: members, format: 'jwk' })
    } catch {
      throw invalid(rules, "The DPoP proof 'jwk' is not a valid public key")
    }
    imported = { key, jkt: jwkThumbprint(members), uses: 0 }
    importedProofKeys.set(id, imported)
  }
  if (!keyObjectFits(imported.key, spec)) {
    throw invalid(rules, "The DPoP proof 'jwk' does not fit its algorithm")
  }
  used(imported)
  return imported
}

/**
 * Proof keys imported lately, with their RFC 7638 thumbprints, by key material: public keys only, bounded (least recently
 * used first out), so a client sending a new key with every proof costs an import each time and
 * nothing more.
 */
const importedProofKeys = new LRUCache<string, ProofKey>({ max: 1024 })
