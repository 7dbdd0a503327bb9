import { sha256Base64url } from './thumbprint.js'

/**
 * One deliberate defect of a DPoP proof (`DpopKey.proof({ …, flaw })`). Everything else in the
 * proof stays right (same key, claims and binding), so a resource server that accepts it is
 * missing exactly one check. The numbers are the checks of RFC 9449 §4.3.
 *
 * - `typ`: header `typ: 'JWT'` instead of `dpop+jwt`. Check 4.
 * - `alg-none`: header `alg: 'none'` and an empty signature. Check 5 (and 6).
 * - `hs256`: `alg: 'HS256'`, an HMAC keyed with the SPKI PEM of the proof key (the
 *   algorithm-confusion forgery); `jwk` is the real public key. Check 5.
 * - `private-jwk`: the `jwk` header carries the private key members (`d`, and `p`, `q`… for RSA);
 *   the signature is valid. Check 7.
 * - `signature`: a correct proof whose signature has one bit flipped. Check 6.
 * - `jwk-mismatch`: a valid proof signed by another, fresh key (with that key's `jwk`): the proof
 *   is fine, but its key is not the one the token's `cnf.jkt` names. Check 12 (key binding).
 * - `htm`: another method (`POST` for anything but `POST`, `GET` for `POST`). Check 8.
 * - `htu-query`: `htu` keeps the query (and fragment) given in `htu`, or gets `?x=1`. This breaks
 *   only the §4.2 syntax (`htu` is "without query and fragment parts"): check 9 compares "ignoring
 *   any query and fragment parts", so accepting it conforms too. Assert what you document.
 * - `htu-host`: `htu` names the host `attacker.example` (scheme, userinfo, port and path kept).
 *   Check 9.
 * - `htu-scheme`: `htu` with `http` for `https` and the reverse (a TLS-terminating proxy bug).
 *   Check 9.
 * - `htu-path`: `htu` of another resource on the same origin, `/other` appended to the path.
 *   Check 9.
 * - `iat-old`: `iat` 600 s before the intended time. Check 11.
 * - `iat-future`: `iat` 600 s after the intended time. Check 11.
 * - `no-jti`: no `jti` claim. Check 3 (and replay detection, §11.1).
 * - `ath`: `ath` is the hash of another access token (needs `accessToken`). Check 12 (`ath`).
 * - `no-ath`: no `ath` although an access token is presented (needs `accessToken`). Checks 3 and
 *   12; §7 requires `ath`.
 *
 * A wrong or missing `nonce` (check 10) needs no flaw: pass the `nonce` you want, or none. A
 * header or claim can also be changed or removed directly with `header`/`claims`.
 */
export type DpopProofFlaw =
  | 'typ'
  | 'alg-none'
  | 'hs256'
  | 'private-jwk'
  | 'signature'
  | 'jwk-mismatch'
  | 'htm'
  | 'htu-query'
  | 'htu-host'
  | 'htu-scheme'
  | 'htu-path'
  | 'iat-old'
  | 'iat-future'
  | 'no-jti'
  | 'ath'
  | 'no-ath'

/** Every {@link DpopProofFlaw}, in a stable order (handy for `it.each`). */
export const DPOP_PROOF_FLAWS: readonly DpopProofFlaw[] = Object.freeze([
  'typ',
  'alg-none',
  'hs256',
  'private-jwk',
  'signature',
  'jwk-mismatch',
  'htm',
  'htu-query',
  'htu-host',
  'htu-scheme',
  'htu-path',
  'iat-old',
  'iat-future',
  'no-jti',
  'ath',
  'no-ath',
])

/** How far `iat-old` and `iat-future` move `iat`, in seconds. */
export const FLAWED_IAT_OFFSET = 600

/** How a flawed proof is signed. */
export type Signing = 'key' | 'none' | 'hmac' | 'corrupt' | 'other-key'

/** What the proof is made of, as `applyFlaw` receives and returns it. */
export interface ProofParts {
  readonly header: Record<string, unknown>
  readonly claims: Record<string, unknown>
  readonly signing: Signing
}

/** What `applyFlaw` needs besides the parts. */
export interface FlawContext {
  /** `htu` exactly as the caller gave it, query and fragment included. */
  readonly givenHtu: string
  readonly accessToken: string | undefined
  /** The proof key's private JWK (for `private-jwk`). */
  readonly privateJwk: () => Promise<Record<string, unknown>>
  /** The public JWK of another key of the same algorithm (for `jwk-mismatch`). */
  readonly otherJwk: () => Promise<Record<string, unknown>>
}

/** Whether `value` is a {@link DpopProofFlaw}. */
export function isDpopProofFlaw(value: unknown): value is DpopProofFlaw {
  return typeof value === 'string' && (DPOP_PROOF_FLAWS as readonly string[]).includes(value)
}

const AUTHORITY = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/i

/** `htu` with its host replaced, userinfo and port kept. */
function otherHost(htu: string): string {
  const [, scheme = '', authority = '', rest = ''] = AUTHORITY.exec(htu) ?? []
  const at = authority.lastIndexOf('@')
  const userinfo = at === -1 ? '' : authority.slice(0, at + 1)
  const hostPort = authority.slice(at + 1)
  const port = /(:\d*)$/.exec(hostPort.replace(/^\[[^\]]*\]/, ''))?.[1] ?? ''
  return `${scheme}${userinfo}attacker.example${port}${rest}`
}

function numeric(value: unknown): number {
  return typeof value === 'number' ? value : 0
}

/**
 * Applies `flaw` to a correct proof's parts. `header` and `claims` are the caller's final ones
 * (defaults with the caller's `header`/`claims` merged), so the flaw is the last word.
 */
export async function applyFlaw(
  flaw: DpopProofFlaw,
  parts: ProofParts,
  context: FlawContext,
): Promise<ProofParts> {
  const header = { ...parts.header }
  const claims = { ...parts.claims }
  let signing = parts.signing
  const htu = typeof claims.htu === 'string' ? claims.htu : ''
  const needsToken = (): string => {
    if (context.accessToken === undefined) {
      throw new TypeError(`proof(): flaw '${flaw}' needs accessToken (it is about the ath claim)`)
    }
    return context.accessToken
  }
  switch (flaw) {
    case 'typ':
      header.typ = 'JWT'
      break
    case 'alg-none':
      header.alg = 'none'
      signing = 'none'
      break
    case 'hs256':
      header.alg = 'HS256'
      signing = 'hmac'
      break
    case 'private-jwk':
      header.jwk = await context.privateJwk()
      break
    case 'signature':
      signing = 'corrupt'
      break
    case 'jwk-mismatch':
      header.jwk = await context.otherJwk()
      signing = 'other-key'
      break
    case 'htm':
      claims.htm = claims.htm === 'POST' ? 'GET' : 'POST'
      break
    case 'htu-query':
      claims.htu = /[?#]/.test(context.givenHtu) ? context.givenHtu : `${htu}?x=1`
      break
    case 'htu-host':
      claims.htu = otherHost(htu)
      break
    case 'htu-scheme':
      claims.htu = /^https:/i.test(htu)
        ? `http:${htu.slice('https:'.length)}`
        : `https:${htu.slice('http:'.length)}`
      break
    case 'htu-path': {
      const [, scheme = '', authority = '', path = ''] = AUTHORITY.exec(htu) ?? []
      claims.htu = `${scheme}${authority}${path.replace(/\/?$/, '/other')}`
      break
    }
    case 'iat-old':
      claims.iat = numeric(claims.iat) - FLAWED_IAT_OFFSET
      break
    case 'iat-future':
      claims.iat = numeric(claims.iat) + FLAWED_IAT_OFFSET
      break
    case 'no-jti':
      delete claims.jti
      break
    case 'ath':
      claims.ath = sha256Base64url(`${needsToken()}x`)
      break
    case 'no-ath':
      needsToken()
      delete claims.ath
      break
  }
  return { header, claims, signing }
}
