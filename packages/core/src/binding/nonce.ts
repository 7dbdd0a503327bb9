/**
 * Stateless server-provided DPoP nonces (RFC 9449 §8, §9): a nonce is an HMAC of a time step, so
 * every instance that shares the secret issues and accepts the same nonces without shared state.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { fail, nonNegative, positive } from '../options/checks.js'

/** Options of {@link DpopNonces}. */
export interface DpopNonceOptions {
  /**
   * The HMAC-SHA256 key, at least 32 bytes (a string is taken as UTF-8). Default: 32 random bytes
   * drawn when the instance is created, so nonces hold for this process only: **every instance
   * of a fleet behind one origin must be given the same secret**, or a nonce issued by one is
   * refused by the others (the client recovers, at the cost of a `use_dpop_nonce` round trip).
   */
  readonly secret?: string | Uint8Array
  /**
   * Length of a time step, in seconds. A nonce is accepted during its step and the next one, so
   * a proof's nonce is at most two steps old (§11.2: limits pre-generated proofs). Default: `300`.
   */
  readonly step?: number
  /**
   * In the last `lead` seconds of a step, responses hand out the next step's nonce (§8.2), and it
   * is accepted, so clients roll over before their nonce expires. Default: `30` (at most `step`).
   */
  readonly lead?: number
}

/** Bytes of HMAC kept in a nonce: 128 bits, unpredictable without the secret (§8). */
const NONCE_BYTES = 16
/** Characters of a nonce: base64url of {@link NONCE_BYTES} bytes, unpadded. */
const NONCE_CHARS = Math.ceil((NONCE_BYTES * 4) / 3)
/** Domain separation: these MACs are DPoP nonces of bearer-guard, nothing else. */
const LABEL = 'bearer-guard dpop-nonce v1 '

/**
 * Issues and checks server-provided DPoP nonces. A nonce is `base64url(HMAC-SHA256(secret, label
 * ‖ step))` truncated to 128 bits, where `step = floor(now / step length)`: valid in its step and
 * the following one (and, in the last `lead` seconds of the step before, once it was handed out).
 * Nonces are the same for every client in a step, which RFC 9449 §11.1 allows ("acceptable for
 * clients to use the same nonce multiple times"); replay of a proof is stopped by its `jti`.
 */
export class DpopNonces {
  readonly #key: Buffer
  readonly #step: number
  readonly #lead: number
  /** The last nonces computed, by step: one HMAC per step, not per request. */
  readonly #memo = new Map<number, { text: string; bytes: Buffer }>()

  /** @throws `TypeError` for a secret shorter than 32 bytes or an invalid `step` or `lead`. */
  constructor(options: DpopNonceOptions = {}) {
    const { secret } = options
    if (secret === undefined) this.#key = randomBytes(32)
    else if (typeof secret === 'string') this.#key = Buffer.from(secret, 'utf8')
    else if (secret instanceof Uint8Array) this.#key = Buffer.from(secret)
    else fail('"secret" must be a string or a Uint8Array')
    if (this.#key.length < 32) fail('"secret" must be at least 32 bytes')
    this.#step = positive('step', options.step, 300) * 1000
    this.#lead = Math.min(nonNegative('lead', options.lead, 30) * 1000, this.#step)
  }

  /** The nonce of the time step `now` (ms since the epoch) falls in. */
  currentNonce(now: number): string {
    return this.#nonce(this.#stepOf(now)).text
  }

  /**
   * True when `nonce` is the nonce of the current or the previous step, or of the next step while
   * it is being handed out (the last `lead` seconds of the current one). The comparison takes the
   * same time whatever the nonce holds.
   */
  isValid(nonce: unknown, now: number): boolean {
    if (typeof nonce !== 'string' || nonce.length !== NONCE_CHARS) return false
    // UTF-8, not latin1 (which keeps a character's low byte only): a non-ASCII character makes
    // the bytes longer than any nonce, never equal to one.
    const given = Buffer.from(nonce, 'utf8')
    if (given.length !== NONCE_CHARS) return false
    const step = this.#stepOf(now)
    let valid = timingSafeEqual(given, this.#nonce(step).bytes)
    valid = timingSafeEqual(given, this.#nonce(step - 1).bytes) || valid
    if (this.#inLead(now)) valid = timingSafeEqual(given, this.#nonce(step + 1).bytes) || valid
    return valid
  }

  /**
   * The nonce a response should carry in `DPoP-Nonce` (RFC 9449 §8.2: "including a DPoP-Nonce
   * HTTP header in the HTTP 200 (OK) response"): the next step's nonce in the last `lead` seconds
   * of a step, the current one otherwise; `undefined` when `used` (the nonce of the request's
   * proof) is that one already, so a client with the freshest nonce gets no header.
   */
  nonceToSend(now: number, used?: string): string | undefined {
    const step = this.#stepOf(now)
    const freshest = this.#nonce(this.#inLead(now) ? step + 1 : step).text
    return used === freshest ? undefined : freshest
  }

  #stepOf(now: number): number {
    return Math.floor(now / this.#step)
  }

  #inLead(now: number): boolean {
    return this.#lead > 0 && now - this.#stepOf(now) * this.#step >= this.#step - this.#lead
  }

  #nonce(step: number): { text: string; bytes: Buffer } {
    let nonce = this.#memo.get(step)
    if (nonce === undefined) {
      const mac = createHmac('sha256', this.#key)
        .update(LABEL + String(step))
        .digest()
        .subarray(0, NONCE_BYTES)
      const text = mac.toString('base64url')
      nonce = { text, bytes: Buffer.from(text, 'latin1') }
      if (this.#memo.size >= 4) this.#memo.clear()
      this.#memo.set(step, nonce)
    }
    return nonce
  }
}
