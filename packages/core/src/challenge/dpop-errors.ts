/**
 * The refusals of RFC 9449 (DPoP): an invalid proof, and a proof without the server's current
 * nonce. Both are 401s rendered in a `DPoP` challenge, never a `Bearer` one (RFC 9449 §7.1, §9).
 */
import { BearerGuardError, type BearerGuardErrorOptions } from './errors.js'

/** Options of the DPoP errors. */
export interface DpopErrorOptions extends BearerGuardErrorOptions {
  /**
   * The JWS algorithms accepted for proofs, sent as the challenge's `algs` parameter (RFC 9449
   * §7.1: "An algs parameter SHOULD be included"). Default: none sent.
   */
  readonly algs?: readonly string[] | undefined
}

/** RFC 6749 Appendix A.5 / RFC 9449 §8.1 `nonce = 1*NQCHAR`, NQCHAR = %x21 / %x23-5B / %x5D-7E. */
const NONCE = /^[\x21\x23-\x5B\x5D-\x7E]+$/

function dpopOptions(options: DpopErrorOptions | undefined): DpopErrorOptions {
  return { ...options, scheme: options?.scheme ?? 'DPoP' }
}

function algsParam(algs: readonly string[] | undefined): Readonly<Record<string, string>> {
  return algs === undefined || algs.length === 0 ? {} : Object.freeze({ algs: algs.join(' ') })
}

/**
 * 401 `invalid_dpop_proof`: the DPoP proof is missing, malformed, or fails a check of RFC 9449
 * §4.3 (type, algorithm, key, signature, `htm`, `htu`, `iat`, `ath`), or was used before (§11.1).
 * Rendered as `DPoP error="invalid_dpop_proof", error_description="…", algs="…"`.
 */
export class InvalidDpopProofError extends BearerGuardError {
  readonly code = 'ERR_DPOP_PROOF_INVALID'
  readonly status = 401
  readonly error = 'invalid_dpop_proof'
  readonly #params: Readonly<Record<string, string>>
  constructor(description: string, options?: DpopErrorOptions) {
    super(description, dpopOptions(options))
    this.#params = algsParam(options?.algs)
  }
  override get params(): Readonly<Record<string, string>> {
    return this.#params
  }
}

/**
 * 401 `use_dpop_nonce` (RFC 9449 §9): the server requires a nonce it provided, and the proof has
 * none, or one that is not current. Carries the nonce to retry with, sent in a `DPoP-Nonce` header
 * (with `Cache-Control: no-store`, as §8.2 advises for responses carrying a nonce).
 */
export class UseDpopNonceError extends BearerGuardError {
  readonly code = 'ERR_DPOP_NONCE_REQUIRED'
  readonly status = 401
  readonly error = 'use_dpop_nonce'
  /** The nonce the client must put in its next proof. */
  readonly nonce: string
  readonly #params: Readonly<Record<string, string>>
  /** @throws `TypeError` when `nonce` is not `1*NQCHAR` (it goes into a header as is). */
  constructor(nonce: string, description: string, options?: DpopErrorOptions) {
    super(description, dpopOptions(options))
    if (typeof nonce !== 'string' || !NONCE.test(nonce)) {
      throw new TypeError('bearer-guard: a DPoP nonce must be 1*NQCHAR (RFC 9449 §8.1)')
    }
    this.nonce = nonce
    this.#params = algsParam(options?.algs)
  }
  override get params(): Readonly<Record<string, string>> {
    return this.#params
  }
  override get headers(): Record<string, string> {
    return {
      'WWW-Authenticate': this.challenge,
      'DPoP-Nonce': this.nonce,
      'Cache-Control': 'no-store',
    }
  }
}
