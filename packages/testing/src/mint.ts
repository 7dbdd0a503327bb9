import { randomUUID } from 'node:crypto'
import { CompactSign } from 'jose'
import type { CompactJWSHeaderParameters } from 'jose'
import { compatibleAlgorithms } from './algorithms.js'
import type { TestCertificate } from './certificates.js'
import type { DpopKey } from './dpop.js'
import type { TestKey } from './keys.js'

/** Options of `TestIssuer.mint`. */
export interface MintOptions {
  /**
   * Members merged over the default header `{ alg, kid, typ: 'at+jwt' }`; a member given as
   * `undefined` is removed (e.g. `{ kid: undefined }`, `{ typ: undefined }`). `alg` must be one
   * the signing key can produce: a mismatch throws instead of signing something else. Default:
   * none (the default header).
   */
  readonly header?: Readonly<Record<string, unknown>>
  /** Sign with this key (e.g. a foreign, unpublished key). Default: the issuer's active key. */
  readonly key?: TestKey
  /**
   * Sign with HMAC using this secret instead of a key pair: `HS256` unless `header.alg` says
   * `HS384` or `HS512`. Any length is accepted (strings are UTF-8 encoded), so the PEM of a
   * public key (`TestKey.publicKeyPem`) can be used for algorithm-confusion tests. The default
   * `kid` stays the one of `key` (or the active key), as an attacker would send it.
   * Default: none (asymmetric signing).
   */
  readonly secret?: Uint8Array | string
  /**
   * Bind the token to this DPoP key (RFC 9449 §6.1): adds the claim
   * `cnf: { jkt: dpop.thumbprint }`. A `cnf` in `claims` replaces it (`cnf: undefined` removes
   * it). Default: none.
   */
  readonly dpop?: Pick<DpopKey, 'thumbprint'>
  /**
   * Bind the token to this client certificate (RFC 8705 §3.1): adds the claim
   * `cnf: { 'x5t#S256': certificate.thumbprint }` (both members when `dpop` is given too). A `cnf`
   * in `claims` replaces it. Default: none.
   */
  readonly certificate?: Pick<TestCertificate, 'thumbprint'>
}

/**
 * Options of `TestIssuer.mintOpaque`: the token's binding, as for `mint` (`dpop` adds `cnf.jkt`,
 * `certificate` adds `cnf['x5t#S256']`, reported by the introspection endpoint).
 */
export type OpaqueTokenOptions = Pick<MintOptions, 'dpop' | 'certificate'>

/** What `mint` needs from its issuer. */
export interface MintContext {
  readonly issuer: string
  readonly audience: string | readonly string[]
  /** Seconds. */
  readonly tokenLifetime: number
  /** Milliseconds since the epoch. */
  readonly clock: () => number
  readonly activeKey: TestKey
}

const HMAC = ['HS256', 'HS384', 'HS512']

function thumbprintOf(holder: unknown, option: string): string {
  const thumbprint =
    typeof holder === 'object' && holder !== null
      ? (holder as { thumbprint?: unknown }).thumbprint
      : undefined
  if (typeof thumbprint !== 'string' || thumbprint === '') {
    throw new TypeError(
      `mint(): ${option} must have a thumbprint (use generateDpopKey() or a generated certificate)`,
    )
  }
  return thumbprint
}

/** The `cnf` claim (RFC 7800) of a token bound by `options.dpop` and `options.certificate`. */
export function confirmation(
  options: Pick<MintOptions, 'dpop' | 'certificate'>,
): Record<string, unknown> {
  const cnf: Record<string, string> = {}
  if (options.dpop !== undefined) cnf.jkt = thumbprintOf(options.dpop, 'dpop')
  if (options.certificate !== undefined) {
    cnf['x5t#S256'] = thumbprintOf(options.certificate, 'certificate')
  }
  return Object.keys(cnf).length === 0 ? {} : { cnf }
}

/** Copies `base`, then applies `overrides`: an `undefined` value removes the member. */
export function mergeMembers(
  base: Readonly<Record<string, unknown>>,
  overrides: Readonly<Record<string, unknown>> | undefined,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base }
  for (const [name, value] of Object.entries(overrides ?? {})) {
    if (value === undefined) {
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- removal is the point
      delete merged[name]
    } else {
      merged[name] = value
    }
  }
  return merged
}

/** The default RFC 9068 claims of a token minted now. */
export function defaultClaims(context: MintContext): Record<string, unknown> {
  const now = Math.floor(context.clock() / 1000)
  return {
    iss: context.issuer,
    sub: 'user-123',
    aud: typeof context.audience === 'string' ? context.audience : [...context.audience],
    client_id: 'test-client',
    iat: now,
    exp: now + context.tokenLifetime,
    jti: randomUUID(),
  }
}

/** Signs `claims` (merged over the defaults) as a compact JWS; see `TestIssuer.mint`. */
export async function mintToken(
  context: MintContext,
  claims: Readonly<Record<string, unknown>> = {},
  options: MintOptions = {},
): Promise<string> {
  const key = options.key ?? context.activeKey
  const { secret } = options
  const header = mergeMembers(
    { alg: secret === undefined ? key.alg : 'HS256', kid: key.kid, typ: 'at+jwt' },
    options.header,
  )
  const { alg } = header
  if (typeof alg !== 'string' || alg === '' || alg.toLowerCase() === 'none') {
    throw new TypeError(
      'mint() signs, so header.alg must name a signing algorithm; build unsigned or malformed tokens with encodeToken()',
    )
  }

  let signingKey: TestKey['privateKey'] | Uint8Array
  if (secret !== undefined) {
    if (!HMAC.includes(alg)) {
      throw new TypeError(
        `mint() with a secret signs with HMAC: header.alg must be one of ${HMAC.join(', ')}, got "${alg}"`,
      )
    }
    signingKey = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret
    if (signingKey.byteLength === 0) throw new TypeError('mint(): the HMAC secret is empty')
  } else {
    const allowed = compatibleAlgorithms(key.alg)
    if (!allowed.includes(alg)) {
      throw new TypeError(
        `mint(): key "${key.kid}" was generated for ${key.alg} and cannot sign with alg "${alg}" (it can sign ${allowed.join(', ')}); pass a matching key, or a secret for HMAC`,
      )
    }
    signingKey = key.privateKey
  }

  // jose refuses critical extensions it is not told about; the caller asked for them, so mark
  // every named one as understood and let the token carry it.
  const crit = Array.isArray(header.crit)
    ? Object.fromEntries(
        header.crit
          .filter((name): name is string => typeof name === 'string')
          .map((name) => [name, true]),
      )
    : undefined

  const payload = new TextEncoder().encode(
    JSON.stringify(mergeMembers({ ...defaultClaims(context), ...confirmation(options) }, claims)),
  )
  try {
    return await new CompactSign(payload)
      .setProtectedHeader(header as CompactJWSHeaderParameters)
      .sign(signingKey, crit === undefined ? undefined : { crit })
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new TypeError(`mint(): could not sign with alg "${alg}": ${reason}`, { cause: error })
  }
}
