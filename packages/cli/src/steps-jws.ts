/**
 * The steps before the claims: the token's format, the issuer selection (several issuers), the
 * JOSE header, the key and the signature. Each mirrors the core stage named in its comment.
 */
import { candidatesOf, unfitReason, verifiesSignature, type KeyInfo } from './keys.js'
import { mayBeIssuer, type IssuerRules } from './rules.js'
import { fail, pass, type Context, type Found, type KeyState } from './steps.js'
import { token68Problem } from './token.js'
import { count, shown } from './words.js'

/** core: transport/extract.ts (`checkSyntax`), validator.ts (`maxTokenLength`), jws/decode.ts. */
export function formatStep(c: Context): Found {
  const problem = token68Problem(c.token)
  if (problem !== undefined) {
    return fail(
      'format',
      'ERR_INVALID_REQUEST',
      `the token cannot travel in an Authorization header: ${problem} (RFC 6750 §2.1 token68)`,
    )
  }
  const max = c.rules.maxTokenLength
  if (c.token.length > max) {
    return fail(
      'format',
      'ERR_TOKEN_TOO_LARGE',
      `${c.token.length} characters, more than maxTokenLength (${max})`,
    )
  }
  if (!c.decoded.ok) return fail('format', c.decoded.code, c.decoded.reason)
  return pass(
    'format',
    'a signed JWT: 3 base64url parts, header and payload JSON objects with unique members (RFC 7515 §7.1)',
  )
}

/** core: verifiers/issuers.ts (`manyIssuers`): the unverified `iss` only selects. */
export function selectionStep(
  c: Context,
  payload: Readonly<Record<string, unknown>>,
): { readonly step: Found; readonly issuer: IssuerRules | undefined } {
  const { iss } = payload
  const accepted = c.rules.issuers.map((r) => r.issuer)
  if (typeof iss !== 'string' || iss === '') {
    return {
      issuer: undefined,
      step: fail(
        'issuer-selection',
        'ERR_TOKEN_ISSUER_INVALID',
        'the token names no issuer (iss), so no accepted issuer can verify it',
      ),
    }
  }
  const issuer =
    c.rules.issuers.find((r) => r.issuer === iss) ??
    c.rules.issuers.find((r) => mayBeIssuer(r, iss))
  if (issuer === undefined) {
    return {
      issuer: undefined,
      step: fail(
        'issuer-selection',
        'ERR_TOKEN_ISSUER_INVALID',
        `iss ${shown(iss)} is none of the ${count(accepted.length, 'accepted issuer')}; nothing it names is fetched`,
        [`accepted: ${accepted.join(', ')}`, ...issuerHints(iss, accepted)],
      ),
    }
  }
  return {
    issuer,
    step: pass(
      'issuer-selection',
      `iss ${shown(iss)} selects the accepted issuer ${issuer.issuer}, whose keys alone may verify it`,
    ),
  }
}

/** Near misses between a token's `iss` and the configured issuers. */
export function issuerHints(iss: string, accepted: readonly string[]): string[] {
  const hints: string[] = []
  for (const issuer of accepted) {
    if (iss === `${issuer}/` || `${iss}/` === issuer) {
      hints.push(
        `'${issuer}' differs only by the trailing slash: issuers are compared exactly (RFC 9068 §4, RFC 8414 §3.3)`,
      )
    } else if (iss.toLowerCase() === issuer.toLowerCase()) {
      hints.push(`'${issuer}' differs only in letter case: issuers are compared exactly`)
    } else if (iss.replace(/^http:/, 'https:') === issuer.replace(/^http:/, 'https:')) {
      hints.push(`'${issuer}' differs only in http/https`)
    }
  }
  return hints
}

const ACCESS_TOKEN_TYPES = new Set(['at+jwt', 'application/at+jwt', 'jwt', 'application/jwt'])
const STRICT_TYPES = new Set(['at+jwt', 'application/at+jwt'])
const IGNORED_MEMBERS = ['jku', 'x5u', 'jwk', 'x5c'] as const

/** core: jws/header.ts (`allowedAlgorithm`, `checkHeader`). */
export function headerStep(
  c: Context,
  issuer: IssuerRules,
  header: Readonly<Record<string, unknown>>,
  signature: Buffer,
): { readonly step: Found; readonly alg: string | undefined } {
  const { alg, kid, typ, crit, b64 } = header
  if (typeof alg !== 'string' || !issuer.algorithms.includes(alg)) {
    const why =
      alg === 'none'
        ? "alg 'none' (an unsigned token) is never accepted (RFC 8725 §3.1)"
        : typeof alg === 'string' && /^HS\d+$/.test(alg)
          ? `alg ${shown(alg)} (HMAC) is accepted only with a configured secret: an HMAC token verified with a public key is the classic forgery (RFC 8725 §2.1)`
          : `alg ${shown(alg)} is not among the accepted algorithms`
    return {
      alg: undefined,
      step: fail('header', 'ERR_TOKEN_ALG_NOT_ALLOWED', why, [
        `accepted: ${issuer.algorithms.join(' ')}`,
      ]),
    }
  }
  const fails = (code: Parameters<typeof fail>[1], text: string) => ({
    alg,
    step: fail('header', code, text),
  })
  if (signature.length === 0) {
    return fails(
      'ERR_TOKEN_MALFORMED',
      'the signature part is empty: an unsecured JWT (RFC 7519 §6)',
    )
  }
  if (crit !== undefined) {
    return fails(
      'ERR_TOKEN_CRIT_UNSUPPORTED',
      'the header has crit: extensions the verifier must understand, and none are supported (RFC 7515 §4.1.11)',
    )
  }
  if (b64 !== undefined && b64 !== true) {
    return fails(
      'ERR_TOKEN_MALFORMED',
      'b64 is false: unencoded payloads are not accepted (RFC 7797)',
    )
  }
  if (kid !== undefined && typeof kid !== 'string') {
    return fails('ERR_TOKEN_MALFORMED', 'kid is not a string (RFC 7515 §4.1.4)')
  }
  const types = issuer.strict ? STRICT_TYPES : ACCESS_TOKEN_TYPES
  if (typ !== undefined && (typeof typ !== 'string' || !types.has(typ.toLowerCase()))) {
    return fails(
      'ERR_TOKEN_TYPE_INVALID',
      `typ ${shown(typ)} is not an access-token type: ${issuer.strict ? 'at+jwt (strict mode)' : 'at+jwt, or JWT'} (RFC 9068 §2.1, RFC 8725 §3.11)`,
    )
  }
  if (typ === undefined && issuer.strict) {
    return fails('ERR_TOKEN_TYPE_INVALID', 'no typ: strict mode needs at+jwt (RFC 9068 §2.1)')
  }
  const ignored = IGNORED_MEMBERS.filter((name) => header[name] !== undefined).map(
    (name) =>
      `its '${name}' is ignored: keys come only from the issuer's own key set (RFC 8725 §3.10)`,
  )
  return {
    alg,
    step: pass(
      'header',
      `alg ${alg} is accepted; kid ${shown(kid)}; typ ${typ === undefined ? '(none)' : `${shown(typ)}, an access-token type`}`,
      ignored,
    ),
  }
}

/** One key, briefly: `'k1' (RSA 2048 bits, RS256, use sig)`. */
export function keyName(key: KeyInfo): string {
  const type =
    key.kty === 'EC' || key.kty === 'OKP' ? `${key.kty} ${key.crv ?? ''}`.trim() : key.kty
  const parts = [key.bits === undefined ? type : `${type} ${key.bits} bits`]
  if (key.alg !== undefined) parts.push(key.alg)
  if (key.use !== undefined) parts.push(`use ${key.use}`)
  return `${key.kid === undefined ? '(no kid)' : shown(key.kid)} (${parts.join(', ')})`
}

/** core: keys/remote.ts, keys/static.ts, keys/selection.ts (`candidates`). */
export function keyStep(
  keys: KeyState,
  alg: string,
  kid: unknown,
): { readonly step: Found; readonly candidates: readonly KeyInfo[] } {
  if (keys.kind === 'secret') {
    return { candidates: [], step: pass('key', `the configured HMAC secret is the key for ${alg}`) }
  }
  if (!keys.available) {
    return {
      candidates: [],
      step: fail(
        'key',
        'ERR_KEYSET_UNAVAILABLE',
        "the issuer's signing keys cannot be obtained, and none are cached",
        keys.problem === undefined ? [] : [keys.problem],
      ),
    }
  }
  const tokenKid = typeof kid === 'string' ? kid : undefined
  const candidates = candidatesOf(keys.keys, alg, tokenKid, keys.kind === 'static')
  const total = count(keys.keys.length, 'key')
  if (candidates.length > 0) {
    const of =
      keys.keys.length === 1
        ? "the key set's only key"
        : `${candidates.length} of the set's ${total}`
    const which =
      tokenKid === undefined
        ? `the token has no kid: ${of} fitting ${alg} will be tried`
        : candidates[0]?.kid === tokenKid
          ? `kid ${shown(tokenKid)} is ${of}, and it fits ${alg}`
          : `no key has kid ${shown(tokenKid)}; keys without a kid (PEM) verify any kid`
    return { candidates, step: pass('key', which) }
  }
  const details: string[] = []
  if (tokenKid !== undefined) {
    const named = keys.keys.filter((key) => key.kid === tokenKid)
    if (named.length === 0) {
      const kids = keys.keys.map((key) => shown(key.kid)).join(', ')
      details.push(`the kids of the key set: ${kids === '' ? '(the set is empty)' : kids}`)
      if (keys.refetched) {
        details.push('the key set was fetched again for this unknown kid: it is not a rotation')
      }
    }
    for (const key of named) details.push(`${keyName(key)}: ${unfitReason(key, alg) ?? 'fits'}`)
    const summary =
      named.length === 0
        ? `no key of the issuer (${total}) has kid ${shown(tokenKid)}`
        : `the key with kid ${shown(tokenKid)} cannot verify ${alg}`
    return { candidates, step: fail('key', 'ERR_TOKEN_KEY_NOT_FOUND', summary, details) }
  }
  for (const key of keys.keys) details.push(`${keyName(key)}: ${unfitReason(key, alg) ?? 'fits'}`)
  return {
    candidates,
    step: fail(
      'key',
      'ERR_TOKEN_KEY_NOT_FOUND',
      `no key of the issuer (${total}) fits ${alg}`,
      details,
    ),
  }
}

/**
 * Which other key of the set verifies the signature, ignoring `kid`: tells a wrong `kid` from a
 * key the issuer does not publish.
 */
async function otherSigner(
  c: Context,
  keys: readonly KeyInfo[],
  alg: string,
  tried: readonly KeyInfo[],
): Promise<string> {
  const others = keys.filter((key) => !tried.includes(key) && unfitReason(key, alg) === undefined)
  for (const key of others.slice(0, 20)) {
    if (await verifiesSignature(c.token, alg, { key }, c.at, true)) {
      return `but key ${keyName(key)} of the same set verifies it: the token names the wrong kid`
    }
  }
  return `no key of the issuer's set verifies it: signed by a key this issuer does not publish (another issuer, tenant or environment?), or altered after signing`
}

/** core: verifiers/jwt.ts (`#finish`: the first candidate whose signature verifies). */
export async function signatureStep(
  c: Context,
  keys: KeyState,
  alg: string,
  candidates: readonly KeyInfo[],
): Promise<{ readonly step: Found; readonly signer: KeyInfo | undefined }> {
  if (keys.kind === 'secret') {
    const ok = await verifiesSignature(c.token, alg, { secret: keys.secret }, c.at)
    return {
      signer: undefined,
      step: ok
        ? pass('signature', `verified with the configured secret (${alg})`)
        : fail(
            'signature',
            'ERR_TOKEN_SIGNATURE_INVALID',
            `the ${alg} signature does not verify with the configured secret`,
          ),
    }
  }
  for (const key of candidates) {
    if (await verifiesSignature(c.token, alg, { key }, c.at)) {
      return {
        signer: key,
        step: pass('signature', `the ${alg} signature verifies with key ${keyName(key)}`),
      }
    }
  }
  return {
    signer: undefined,
    step: fail(
      'signature',
      'ERR_TOKEN_SIGNATURE_INVALID',
      `the ${alg} signature does not verify with ${candidates.length === 1 ? 'the key' : `any of the ${candidates.length} keys`} the token selects`,
      keys.available ? [await otherSigner(c, keys.keys, alg, candidates)] : [],
    ),
  }
}

/** The details of a KEY_NOT_FOUND, with the same search for the key that did sign. */
export async function keyHint(
  c: Context,
  keys: KeyState,
  alg: string,
  step: Found,
): Promise<Found> {
  if (keys.kind === 'secret' || !keys.available || step.status !== 'fail') return step
  return { ...step, details: [...step.details, await otherSigner(c, keys.keys, alg, [])] }
}
