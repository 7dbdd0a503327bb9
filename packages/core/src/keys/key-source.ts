import type { KeyObject } from 'node:crypto'
import type { AlgorithmSpec } from '../jws/algorithms.js'

/**
 * Where an issuer's verification keys come from: the remote key set found by discovery (today's
 * state machine: single-flight, cooldown, stale-if-error, 503), or keys configured statically.
 * The JWT verifier asks it for candidates and needs nothing else.
 */
export interface KeySource {
  /**
   * The keys that may have signed a token with this `alg` and `kid`: an array when the answer is
   * known now (always, for static keys), a promise while keys are fetched. Empty: no key fits.
   */
  candidates(
    spec: AlgorithmSpec,
    kid: string | undefined,
  ): readonly KeyObject[] | Promise<readonly KeyObject[]>
  /** True while `key` is still one of this source's keys (a cached result dies with its key). */
  holds(key: KeyObject): boolean
  /** Loads the keys now if none usable are held (readiness); rejects when that fails. */
  load(): Promise<void>
  /**
   * The issuer `key` is bound to, when its JWK names one (Microsoft Entra's multi-tenant key set
   * has an `issuer` member per key, with `{tenantid}` for any tenant): a token of another issuer
   * must not be verified by it, as Microsoft's own validator enforces.
   */
  issuerOf(key: KeyObject): string | undefined
}
