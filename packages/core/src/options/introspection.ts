/**
 * The `introspection` option group of an issuer (RFC 7662): its public shape, checked once and
 * resolved for the introspection verifier.
 */
import { createPrivateKey, createPublicKey, KeyObject } from 'node:crypto'
import { algorithmSpec, keyObjectFits } from '../jws/algorithms.js'
import { assertSecureUrl } from '../keys/url.js'
import { MemoryIntrospectionCache, type IntrospectionCache } from '../stores/introspection-cache.js'
import type { ClientAuthMethod, ClientCredentials } from '../verifiers/client-auth.js'
import { fail, isObject, nonNegative } from './checks.js'
import { assertKnownOptions } from './names.js'

/**
 * Opaque access tokens, verified by asking the issuer (RFC 7662 token introspection). A token
 * that is not a JWT is POSTed to the issuer's `introspection_endpoint`, with this API's client
 * credentials; it is accepted only when the answer's `active` is the JSON boolean `true`, and the
 * answer's `iss`, `aud`, `exp`, `nbf`, `iat`, `scope`, `client_id` and `cnf` then go through the
 * same checks, policies and binding as a JWT's claims. Active answers are cached (see
 * {@link IntrospectionSettings.cacheMaxAge}); an endpoint that cannot be reached, or answers
 * anything but an RFC 7662 answer, gets the request a 503 with `Retry-After`, never a 401.
 *
 * @example
 * ```ts
 * createAccessTokenValidator({
 *   issuer: 'https://auth.example.com/',
 *   audience: 'https://api.example.com',
 *   introspection: { clientId: 'orders-api', clientSecret: process.env.INTROSPECTION_SECRET },
 * })
 * ```
 */
export interface IntrospectionSettings {
  /** This API's client identifier at the authorization server. Required. */
  readonly clientId: string
  /**
   * The client secret, for `client_secret_basic` (the default) or `client_secret_post`. Give
   * this or `privateKey`.
   */
  readonly clientSecret?: string
  /**
   * The client's private key, for `private_key_jwt` (RFC 7523 §2.2): a `KeyObject`, a PKCS #8 PEM
   * or a private JWK (RSA of at least 2048 bits, EC P-256/384/521, Ed25519). Each request carries
   * a fresh assertion signed with it, its `aud` the issuer identifier. Give this or
   * `clientSecret`.
   */
  readonly privateKey?: KeyObject | string | Readonly<Record<string, unknown>>
  /** The `kid` of the assertion's header. Default: the private JWK's `kid`, else none. */
  readonly keyId?: string
  /**
   * The assertion's signature algorithm. Default: from the key: `RS256` (RSA), `PS256`
   * (RSA-PSS), `ES256`/`ES384`/`ES512` (by curve), `EdDSA` (Ed25519).
   */
  readonly algorithm?: string
  /**
   * How the client authenticates (RFC 6749 §2.3.1, RFC 7523 §2.2). Default:
   * `'client_secret_basic'` with a `clientSecret`, `'private_key_jwt'` with a `privateKey`.
   */
  readonly authMethod?: ClientAuthMethod
  /**
   * The introspection endpoint. Default: the issuer's discovery document's
   * `introspection_endpoint` (RFC 8414 §2).
   */
  readonly endpoint?: string
  /**
   * Which tokens are introspected at this issuer: `'opaque'`, tokens that are not JWTs; `'jwt'`,
   * this issuer's JWTs (the answer decides, e.g. to see a revocation at once, instead of the
   * local signature check); `'all'`, both. Opaque tokens name no issuer, so only one issuer may
   * take them. Default: `'opaque'`.
   */
  readonly tokens?: 'opaque' | 'jwt' | 'all'
  /**
   * The longest time an active answer is reused, in seconds; never past the token's `exp`
   * (RFC 7662 §4). A token revoked at the authorization server is still accepted for up to this
   * long. `0` asks on every request (concurrent requests with one token still share one call).
   * Default: `60`.
   *
   * @remarks Security: the trade-off RFC 7662 §4 asks you to weigh: longer saves calls, shorter
   * notices revocations sooner.
   */
  readonly cacheMaxAge?: number
  /**
   * Where active answers are kept (see {@link IntrospectionCache}); `false` keeps them only in the
   * verified-token cache of this process. Default: a `MemoryIntrospectionCache` of 10,000
   * entries; a fleet shares one (`@bearer-guard/redis`).
   */
  readonly cache?: IntrospectionCache | false
  /**
   * Accept only RFC 9701 signed answers (`application/token-introspection+jwt`): they are asked
   * for whatever discovery says, and a plain JSON answer is refused (503). Default: `false`
   * (signed answers are asked for, and verified, when discovery offers them:
   * `introspection_signing_alg_values_supported`).
   */
  readonly requireSignedResponse?: boolean
  /**
   * Refuse an active answer without `aud`. Default: `false`: RFC 7662 makes `aud` optional, and
   * an authorization server answers `active: false` for a token the introspecting client may not
   * see (§2.2); an `aud` that is present must still name this API.
   */
  readonly requireAudience?: boolean
}

/** The `introspection` group, resolved. */
export interface ResolvedIntrospection {
  readonly credentials: ClientCredentials
  readonly endpoint: string | undefined
  readonly opaque: boolean
  readonly jwt: boolean
  /** Milliseconds. */
  readonly cacheMaxAge: number
  readonly cache: IntrospectionCache | undefined
  readonly requireSignedResponse: boolean
  readonly requireAudience: boolean
}

const NAMES: ReadonlySet<string> = new Set(
  Object.keys({
    clientId: true,
    clientSecret: true,
    privateKey: true,
    keyId: true,
    algorithm: true,
    authMethod: true,
    endpoint: true,
    tokens: true,
    cacheMaxAge: true,
    cache: true,
    requireSignedResponse: true,
    requireAudience: true,
  } satisfies Record<keyof IntrospectionSettings, true>),
)

/** RFC 6749 Appendix A: `client-id = *VSCHAR`. */
const VSCHARS = /^[\x20-\x7e]+$/

const CURVE_ALGORITHMS: Readonly<Record<string, string>> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
}

function privateKeyOf(value: unknown): KeyObject {
  try {
    if (value instanceof KeyObject) {
      if (value.type !== 'private') fail('"introspection.privateKey" must be a private key')
      return value
    }
    if (typeof value === 'string') return createPrivateKey(value)
    if (isObject(value)) return createPrivateKey({ key: value as never, format: 'jwk' })
  } catch (error) {
    if (error instanceof TypeError && error.message.startsWith('bearer-guard:')) throw error
    // The key material never goes into a message.
    fail('"introspection.privateKey" is not a private key (a KeyObject, a PKCS #8 PEM or a JWK)')
  }
  return fail('"introspection.privateKey" must be a KeyObject, a PKCS #8 PEM or a private JWK')
}

/** The usual algorithm of a key type; RSA-PSS keys sign only PS*. `''` when there is none. */
function defaultAlgorithm(key: KeyObject): string {
  const type = key.asymmetricKeyType
  if (type === 'ec') return CURVE_ALGORITHMS[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? ''
  return (
    ({ rsa: 'RS256', 'rsa-pss': 'PS256', ed25519: 'EdDSA' } as Record<string, string>)[
      type ?? ''
    ] ?? ''
  )
}

function credentialsOf(value: Record<string, unknown>, where: string): ClientCredentials {
  const { clientId, clientSecret, privateKey, authMethod } = value
  if (typeof clientId !== 'string' || !VSCHARS.test(clientId)) {
    fail(`"${where}.clientId" must be a non-empty string of printable ASCII (RFC 6749 Appendix A)`)
  }
  if ((clientSecret === undefined) === (privateKey === undefined)) {
    fail(`"${where}" needs one of "clientSecret" and "privateKey"`)
  }
  const method =
    authMethod ?? (privateKey === undefined ? 'client_secret_basic' : 'private_key_jwt')
  if (method === 'client_secret_basic' || method === 'client_secret_post') {
    if (typeof clientSecret !== 'string' || !VSCHARS.test(clientSecret)) {
      fail(
        `"${where}.clientSecret" must be a non-empty string of printable ASCII (${method} needs it)`,
      )
    }
    return Object.freeze({ method, clientId, secret: clientSecret })
  }
  if (method !== 'private_key_jwt') {
    fail(
      `"${where}.authMethod" must be 'client_secret_basic', 'client_secret_post' or 'private_key_jwt'`,
    )
  }
  if (privateKey === undefined) fail(`"${where}.privateKey" is required by private_key_jwt`)
  const key = privateKeyOf(privateKey)
  const alg = value.algorithm ?? defaultAlgorithm(key)
  const spec = typeof alg === 'string' ? algorithmSpec(alg) : undefined
  if (spec === undefined || spec.family === 'HMAC' || !keyObjectFits(createPublicKey(key), spec)) {
    fail(
      `"${where}.algorithm" must be an asymmetric algorithm the private key can sign with (RSA keys of at least 2048 bits)`,
    )
  }
  const jwkKid = isObject(privateKey) ? privateKey.kid : undefined
  const kid = value.keyId ?? jwkKid
  if (kid !== undefined && (typeof kid !== 'string' || kid === '')) {
    fail(`"${where}.keyId" must be a non-empty string`)
  }
  return Object.freeze({ method, clientId, key, alg: spec.alg, kid })
}

/**
 * Checks one issuer's `introspection` group: known options, credentials, endpoint, cache. `where`
 * names it in messages, `clock` is the validator's (for the default memory cache).
 */
export function resolveIntrospection(
  value: unknown,
  where: string,
  allowInsecureHttp: boolean,
  clock: () => number,
): ResolvedIntrospection | undefined {
  if (value === undefined) return undefined
  if (!isObject(value)) fail(`"${where}" must be { clientId, clientSecret | privateKey, … }`)
  assertKnownOptions(value, NAMES, `"${where}"`)
  const credentials = credentialsOf(value, where)
  const endpoint = value.endpoint
  if (endpoint !== undefined) {
    assertSecureUrl(`${where}.endpoint`, endpoint as string, allowInsecureHttp)
  }
  const tokens = value.tokens ?? 'opaque'
  if (tokens !== 'opaque' && tokens !== 'jwt' && tokens !== 'all') {
    fail(`"${where}.tokens" must be 'opaque', 'jwt' or 'all'`)
  }
  const cache = value.cache ?? new MemoryIntrospectionCache({ clock })
  if (
    cache !== false &&
    (!isObject(cache) || typeof cache.get !== 'function' || typeof cache.set !== 'function')
  ) {
    fail(`"${where}.cache" must be false or an IntrospectionCache (get, set)`)
  }
  for (const flag of ['requireSignedResponse', 'requireAudience'] as const) {
    if (value[flag] !== undefined && typeof value[flag] !== 'boolean') {
      fail(`"${where}.${flag}" must be a boolean`)
    }
  }
  return Object.freeze({
    credentials,
    endpoint: endpoint as string | undefined,
    opaque: tokens !== 'jwt',
    jwt: tokens !== 'opaque',
    cacheMaxAge: nonNegative(`${where}.cacheMaxAge`, value.cacheMaxAge, 60) * 1000,
    cache: cache === false ? undefined : (cache as unknown as IntrospectionCache),
    requireSignedResponse: value.requireSignedResponse === true,
    requireAudience: value.requireAudience === true,
  })
}
