/**
 * The binding stage: what must hold on every request, cache hits included, after the token itself
 * is verified. A DPoP-bound token needs a fresh, valid proof by its key, used once (RFC 9449); a
 * certificate-bound token needs its client certificate (RFC 8705); a revoked token is refused.
 * Synchronous unless a store answers with a promise.
 */
import { InvalidDpopProofError } from '../challenge/dpop-errors.js'
import { InvalidRequestError, InvalidTokenError } from '../challenge/errors.js'
import type { MaybePromise } from '../options/validator-options.js'
import type { BearerRequest } from '../request.js'
import type { ReplayStore } from '../stores/replay.js'
import type { RevocationStore } from '../stores/revocation.js'
import type { VerifiedAccessToken } from '../types.js'
import { checkDpopProof, type DpopProof, type DpopRules } from './dpop.js'
import { checkCertificateBinding, type CertificateSource } from './mtls.js'
import { accessTokenHash, sameThumbprint } from './thumbprint.js'

/** The binding stage's settings, resolved once. */
export interface BindingSettings {
  /** DPoP, when enabled: its rules, whether Bearer is refused, and the replay store. */
  readonly dpop:
    | { readonly rules: DpopRules; readonly required: boolean; readonly replay: ReplayStore }
    | undefined
  readonly certificates: CertificateSource
  readonly revocation: RevocationStore | undefined
  readonly clock: () => number
}

/** A nonce to send with a successful DPoP response (RFC 9449 §8.2), by request. */
export const nonceToSend = new WeakMap<BearerRequest, string>()

const { hasOwn } = Object

function cnfOf(auth: VerifiedAccessToken): Readonly<Record<string, unknown>> | undefined {
  const { cnf } = auth.claims
  return typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>) : undefined
}

function mismatch(description: string, scheme: 'Bearer' | 'DPoP'): InvalidTokenError {
  return new InvalidTokenError('ERR_TOKEN_BINDING_MISMATCH', description, { scheme })
}

/** Builds the stage: `bind(auth, request, token, scheme)` answers the token or throws. */
export function bindingStage(settings: BindingSettings) {
  const { dpop, certificates, revocation, clock } = settings

  function revoked(auth: VerifiedAccessToken): MaybePromise<VerifiedAccessToken> {
    if (revocation === undefined) return auth
    const { iss, jti, sub, iat } = auth.claims
    const answer = revocation.isRevoked({ iss, jti, sub, iat })
    const decide = (isRevoked: boolean) => {
      if (isRevoked)
        throw new InvalidTokenError('ERR_TOKEN_REVOKED', 'The access token was revoked')
      return auth
    }
    return answer instanceof Promise ? answer.then(decide) : decide(answer)
  }

  function withProof(
    auth: VerifiedAccessToken,
    request: BearerRequest,
    token: string,
    cnf: Readonly<Record<string, unknown>> | undefined,
  ): MaybePromise<VerifiedAccessToken> {
    const d = dpop as NonNullable<typeof dpop>
    const header = request.headers.dpop
    // RFC 9449 §4.3 item 1: exactly one DPoP header.
    if (Array.isArray(header)) throw severalProofs()
    if (typeof header !== 'string' || header === '') {
      throw new InvalidDpopProofError('The DPoP scheme needs a DPoP proof header')
    }
    const now = clock()
    let proof: DpopProof
    try {
      proof = checkDpopProof(
        header,
        {
          method: request.method ?? '',
          url: request.url ?? '',
          accessToken: token,
          accessTokenHash: athOf(auth, token),
          now,
        },
        d.rules,
      )
    } catch (error) {
      // Node joins repeated unknown headers with `, `. A compact JWS holds no comma, so such a
      // value never passes the check; it is looked for only then, sparing a valid proof the scan.
      throw header.includes(',') ? severalProofs() : error
    }
    const jkt = cnf !== undefined && hasOwn(cnf, 'jkt') ? cnf.jkt : undefined
    // An unbound token with a DPoP proof is refused: the DPoP scheme promises a bound token
    // (RFC 9449 §7.1), and accepting it would let a bearer token pose as sender-constrained.
    if (typeof jkt !== 'string') {
      throw mismatch('The access token is not bound to a DPoP key', 'DPoP')
    }
    // RFC 9449 §4.3 item 12 and §6.1: the proof's key is the one the token is bound to.
    if (!sameThumbprint(jkt, proof.jkt)) {
      throw mismatch('The DPoP proof is signed by another key than the access token names', 'DPoP')
    }
    checkCertificateBinding(auth.claims, request, certificates)
    const next = d.rules.nonces?.nonceToSend(now, proof.nonce)
    if (next !== undefined) nonceToSend.set(request, next)
    // RFC 9449 §11.1: a proof's jti is accepted once, scoped to its key; atomically, in the store.
    let claimed: MaybePromise<boolean>
    try {
      claimed = d.replay.claimOnce(proof.replayId, proof.expiresAt, proof.iat * 1000)
    } catch (cause) {
      throw replayUnavailable(cause)
    }
    const decide = (first: boolean) => {
      if (!first) throw new InvalidDpopProofError('The DPoP proof was used before')
      return revoked(auth)
    }
    return claimed instanceof Promise
      ? claimed.then(decide, (cause: unknown) => {
          throw replayUnavailable(cause)
        })
      : decide(claimed)
  }

  return function bind(
    auth: VerifiedAccessToken,
    request: BearerRequest,
    token: string,
    scheme: 'Bearer' | 'DPoP',
  ): MaybePromise<VerifiedAccessToken> {
    const cnf = cnfOf(auth)
    if (scheme === 'DPoP') return withProof(auth, request, token, cnf)
    if (cnf !== undefined) {
      // RFC 9449 §7.2: a DPoP-bound token presented as a bearer token is refused.
      if (hasOwn(cnf, 'jkt')) {
        throw mismatch('A DPoP-bound access token must be sent with the DPoP scheme', 'Bearer')
      }
      checkCertificateBinding(auth.claims, request, certificates)
    }
    if (dpop?.required === true && (cnf === undefined || !hasOwn(cnf, 'x5t#S256'))) {
      throw new InvalidTokenError(
        'ERR_DPOP_REQUIRED',
        'This API accepts DPoP-bound access tokens only (RFC 9449)',
        { scheme: 'DPoP' },
      )
    }
    return revoked(auth)
  }
}

/** RFC 9449 §4.3 item 1: "not more than one DPoP HTTP request header field". */
function severalProofs(): InvalidRequestError {
  return new InvalidRequestError('More than one DPoP proof was sent', { scheme: 'DPoP' })
}

/** The replay store failed (down, full): fail closed, never accept without the check. */
function replayUnavailable(cause: unknown): InvalidDpopProofError {
  return new InvalidDpopProofError('The DPoP proof cannot be checked for replay now', { cause })
}

/**
 * The `ath` of a verified token (RFC 9449 §4.2), computed once per verified result: a cached
 * token's next proofs compare with it without hashing the token again.
 */
const athByResult = new WeakMap<VerifiedAccessToken, string>()
function athOf(auth: VerifiedAccessToken, token: string): string {
  let ath = athByResult.get(auth)
  if (ath === undefined) {
    ath = accessTokenHash(token)
    athByResult.set(auth, ath)
  }
  return ath
}
