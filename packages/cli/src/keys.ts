/**
 * The keys as explain shows them: read from what core was configured with (static keys, a file)
 * or from the very responses core's discovery and JWKS requests received (the validator's `fetch`
 * is wrapped to keep a copy), never fetched a second time. Which key fits a token follows core's
 * selection rules; whether a key verifies the signature is asked of core itself, one key at a time.
 */
import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  createAccessTokenValidator,
  isBearerGuardError,
  type BearerGuardErrorCode,
  type StaticKeys,
} from '@bearer-guard/core'

/** One key of a key set, as explain describes it. */
export interface KeyInfo {
  readonly kid: string | undefined
  readonly kty: string
  readonly crv: string | undefined
  /** The JWK's `alg` member, if any. */
  readonly alg: string | undefined
  readonly use: string | undefined
  readonly keyOps: readonly string[] | undefined
  /** RSA modulus length in bits. */
  readonly bits: number | undefined
  /** The JWK's `issuer` member (Entra binds keys to issuers), if any. */
  readonly issuer: string | undefined
  /** False for an entry core skips (unknown type, private only, malformed). */
  readonly usable: boolean
  /** Why it is unusable. */
  readonly note: string | undefined
  /** @internal What to hand core to verify with this key alone: public JWK members or a PEM. */
  readonly material: Readonly<Record<string, unknown>> | string | undefined
}

const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['kty', 'n', 'e'],
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
}
const SUPPORTED = new Set([
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
  'HS256',
  'HS384',
  'HS512',
])
/** Most keys core takes from one remote JWKS. */
const MAX_KEYS = 100
/** Most keys core tries for a token without `kid`. */
const MAX_KIDLESS_CANDIDATES = 4

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function describeObject(key: KeyObject): { bits: number | undefined } {
  return { bits: key.asymmetricKeyDetails?.modulusLength }
}

function defaultAlg(jwk: Record<string, unknown>): string | undefined {
  if (jwk.kty === 'RSA') return 'RS256'
  if (jwk.kty === 'OKP') return 'EdDSA'
  if (jwk.kty === 'EC') {
    return { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[String(jwk.crv)]
  }
  return undefined
}

/** One JWK of a set, read as core reads it (unusable entries are listed, not fatal). */
export function readJwk(value: unknown): KeyInfo {
  const jwk =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {}
  const base = {
    kid: str(jwk.kid),
    kty: str(jwk.kty) ?? '?',
    crv: str(jwk.crv),
    alg: str(jwk.alg),
    use: str(jwk.use),
    keyOps: Array.isArray(jwk.key_ops)
      ? jwk.key_ops.filter((op): op is string => typeof op === 'string')
      : undefined,
    issuer: str(jwk.issuer),
  }
  const unusable = (note: string): KeyInfo => ({
    ...base,
    bits: undefined,
    usable: false,
    note,
    material: undefined,
  })
  const names = PUBLIC_MEMBERS[String(jwk.kty)]
  if (names === undefined)
    return unusable(`kty '${base.kty}' is not a signature key type core uses`)
  if (jwk.kid !== undefined && typeof jwk.kid !== 'string') return unusable('kid is not a string')
  if (jwk.issuer !== undefined && typeof jwk.issuer !== 'string') {
    return unusable('issuer is not a string')
  }
  const alg = typeof jwk.alg === 'string' ? jwk.alg : defaultAlg(jwk)
  if (alg === undefined || !SUPPORTED.has(alg)) return unusable('its alg is not supported')
  const members: Record<string, string> = {}
  for (const name of names) {
    const member = jwk[name]
    if (typeof member !== 'string') return unusable(`member '${name}' is missing`)
    members[name] = member
  }
  let key: KeyObject
  try {
    key = createPublicKey({ key: members, format: 'jwk' })
  } catch {
    return unusable('its key material is invalid')
  }
  const material: Record<string, unknown> = { ...members }
  for (const name of ['kid', 'alg', 'use', 'key_ops'] as const) {
    if (jwk[name] !== undefined) material[name] = jwk[name]
  }
  return { ...base, ...describeObject(key), usable: true, note: undefined, material }
}

/** The keys of a JWKS (or of a single JWK) as core would take them. */
export function readKeySet(value: unknown, limit = MAX_KEYS): readonly KeyInfo[] {
  const set = value as { keys?: unknown } | null
  const items =
    typeof set === 'object' && set !== null && Array.isArray(set.keys)
      ? (set.keys as unknown[]).slice(0, limit)
      : [value]
  return items.map(readJwk)
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g

/** The keys of PEM text: SPKI public keys and certificates, as core reads them. */
function readPem(text: string): readonly KeyInfo[] {
  const keys: KeyInfo[] = []
  for (const [block, label] of text.matchAll(PEM_BLOCK)) {
    const key =
      label === 'CERTIFICATE' ? new X509Certificate(block).publicKey : createPublicKey(block)
    const { kty, crv } = key.export({ format: 'jwk' })
    keys.push({
      kid: undefined,
      kty: kty ?? '?',
      crv,
      alg: undefined,
      use: undefined,
      keyOps: undefined,
      issuer: undefined,
      ...describeObject(key),
      usable: true,
      note: undefined,
      material: key.export({ format: 'pem', type: 'spki' }).toString(),
    })
  }
  return keys
}

/** Static keys as configured (core already accepted them, so they read). */
export function readStaticKeys(keys: StaticKeys): readonly KeyInfo[] {
  if (keys instanceof URL) {
    const text = readFileSync(fileURLToPath(keys), 'utf8')
    return text.trimStart().startsWith('{') ? readKeySet(JSON.parse(text), Infinity) : readPem(text)
  }
  if (typeof keys === 'string') return readPem(keys)
  return readKeySet(keys, Infinity)
}

/** Why `key` cannot verify `alg`, following core's `jwkFits` and `keyObjectFits`; else undefined. */
export function unfitReason(key: KeyInfo, alg: string): string | undefined {
  if (!key.usable) return key.note ?? 'unusable'
  if (key.use !== undefined && key.use !== 'sig') return `its use is '${key.use}', not 'sig'`
  if (key.keyOps !== undefined && !key.keyOps.includes('verify')) {
    return "its key_ops do not include 'verify'"
  }
  if (key.alg !== undefined && key.alg !== alg) return `it is for alg ${key.alg}, not ${alg}`
  if (alg.startsWith('RS') || alg.startsWith('PS')) {
    if (key.kty !== 'RSA') return `${alg} needs an RSA key, this is ${key.kty}`
    if ((key.bits ?? 0) < 2048) return `RSA keys under 2048 bits are refused (${key.bits ?? 0})`
    return undefined
  }
  if (alg.startsWith('ES')) {
    const crv = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[alg]
    if (key.kty !== 'EC' || key.crv !== crv) {
      return `${alg} needs an EC ${crv ?? ''} key, this is ${key.kty}${key.crv === undefined ? '' : ` ${key.crv}`}`
    }
    return undefined
  }
  if (alg === 'EdDSA') {
    if (key.kty !== 'OKP' || (key.crv !== 'Ed25519' && key.crv !== 'Ed448')) {
      return `EdDSA needs an OKP Ed25519 or Ed448 key, this is ${key.kty}`
    }
    return undefined
  }
  return 'a key set never holds HMAC keys'
}

/**
 * The keys core would try for a token with this `alg` and `kid`: the fitting keys with that
 * `kid` (at most 4 fitting keys when the token has none); for static keys, when no key has the
 * `kid`, the fitting keys without one (a PEM key verifies tokens whatever their `kid`).
 */
export function candidatesOf(
  keys: readonly KeyInfo[],
  alg: string,
  kid: string | undefined,
  isStatic: boolean,
): readonly KeyInfo[] {
  const fitting = keys.filter((key) => unfitReason(key, alg) === undefined)
  if (kid === undefined) return fitting.slice(0, MAX_KIDLESS_CANDIDATES)
  const found = fitting.filter((key) => key.kid === kid)
  if (found.length > 0 || !isStatic) return found
  return fitting.slice(0, MAX_KIDLESS_CANDIDATES).filter((key) => key.kid === undefined)
}

/** Codes core can only reach once the signature has verified. */
const BEFORE_SIGNATURE = new Set<BearerGuardErrorCode>([
  'ERR_TOKEN_MALFORMED',
  'ERR_TOKEN_TOO_LARGE',
  'ERR_TOKEN_ALG_NOT_ALLOWED',
  'ERR_TOKEN_CRIT_UNSUPPORTED',
  'ERR_TOKEN_KEY_NOT_FOUND',
  'ERR_TOKEN_SIGNATURE_INVALID',
])

/**
 * Whether this one key (or the secret) verifies the token's signature, asked of core: a validator
 * holding only that key either stops at the signature or goes on to the claims.
 */
export async function verifiesSignature(
  token: string,
  alg: string,
  with_: { readonly key: KeyInfo } | { readonly secret: string | Uint8Array },
  now: number,
  ignoreKid = false,
): Promise<boolean> {
  let material = 'key' in with_ ? with_.key.material : undefined
  if ('key' in with_ && material === undefined) return false
  if (ignoreKid && typeof material === 'object') {
    // A key without `kid` is tried whatever the token's `kid` says.
    const { kid: _kid, ...rest } = material
    material = rest
  }
  const validator = createAccessTokenValidator({
    issuer: 'https://explain.invalid',
    audience: 'bearer-guard-explain',
    algorithms: [alg],
    ...('secret' in with_ ? { secret: with_.secret } : { keys: material as StaticKeys }),
    // The header was already found acceptable with the API's own rules; here only the key counts.
    maxTokenLength: Math.max(8192, token.length),
    tokenCache: false,
    clock: () => now,
  })
  try {
    await validator.verify(token)
    return true
  } catch (error) {
    return isBearerGuardError(error) && !BEFORE_SIGNATURE.has(error.code)
  }
}
