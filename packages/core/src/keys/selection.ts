import type { KeyObject } from 'node:crypto'
import { jwkFits, keyObjectFits, type AlgorithmSpec } from '../jws/algorithms.js'

/** One usable key of a set: the members that decide which algorithms it may verify, and the key. */
export interface KeyEntry {
  readonly kid: string | undefined
  /** `kty`, `crv`, `use`, `key_ops`, `alg`: what {@link jwkFits} reads. */
  readonly jwk: Readonly<Record<string, unknown>>
  readonly key: KeyObject
  /** The JWK's `issuer` member (Entra), when it has one. */
  readonly issuer: string | undefined
}

/** Most keys tried for a token without `kid`, so one token cannot cost a signature per key. */
const MAX_KIDLESS_CANDIDATES = 4

/**
 * The candidates of a fixed key set per algorithm and `kid`, memoised: after the first token of a
 * kind, selecting is two map lookups and builds no string.
 */
export class KeySelection {
  readonly #entries: readonly KeyEntry[]
  readonly #memo = new Map<AlgorithmSpec, Map<string | undefined, readonly KeyObject[]>>()
  readonly #keys: ReadonlySet<KeyObject>
  readonly #issuers: ReadonlyMap<KeyObject, string>
  readonly #kidOf: ReadonlyMap<KeyObject, string | undefined>
  readonly #kidless = new Map<AlgorithmSpec, readonly KeyObject[]>()

  constructor(entries: readonly KeyEntry[]) {
    this.#entries = entries
    this.#keys = new Set(entries.map((e) => e.key))
    this.#kidOf = new Map(entries.map((e) => [e.key, e.kid]))
    this.#issuers = new Map(
      entries.filter((e) => e.issuer !== undefined).map((e) => [e.key, e.issuer as string]),
    )
  }

  get size(): number {
    return this.#entries.length
  }

  has(key: KeyObject): boolean {
    return this.#keys.has(key)
  }

  /** True when a key of this set has this `kid`. */
  hasKid(kid: string): boolean {
    for (const entry of this.#entries) if (entry.kid === kid) return true
    return false
  }

  /** The `kid`s of this set's keys (keys without one are left out). */
  kids(): readonly string[] {
    const kids: string[] = []
    for (const entry of this.#entries) if (entry.kid !== undefined) kids.push(entry.kid)
    return kids
  }

  issuerOf(key: KeyObject): string | undefined {
    return this.#issuers.get(key)
  }

  /**
   * Keys without a `kid`, for a token whose `kid` names none of the keys: static PEM keys have no
   * `kid`, yet verify tokens that carry one (a Kubernetes service-account token, say).
   */
  selectKidless(spec: AlgorithmSpec): readonly KeyObject[] {
    let found = this.#kidless.get(spec)
    if (found === undefined) {
      found = Object.freeze(
        this.select(spec, undefined).filter((key) => this.#kidOf.get(key) === undefined),
      )
      this.#kidless.set(spec, found)
    }
    return found
  }

  select(spec: AlgorithmSpec, kid: string | undefined): readonly KeyObject[] {
    let byKid = this.#memo.get(spec)
    let found = byKid?.get(kid)
    if (found !== undefined) return found
    const keys: KeyObject[] = []
    for (const entry of this.#entries) {
      if (kid !== undefined && entry.kid !== kid) continue
      const fits =
        spec.family === 'HMAC'
          ? entry.key.type === 'secret'
          : jwkFits(entry.jwk, spec) && keyObjectFits(entry.key, spec)
      if (!fits) continue
      keys.push(entry.key)
      if (kid === undefined && keys.length === MAX_KIDLESS_CANDIDATES) break
    }
    found = Object.freeze(keys)
    // Memoise only hits: misses are bounded by the cooldown, and random kids must not fill memory.
    if (keys.length > 0) {
      if (byKid === undefined) {
        byKid = new Map<string | undefined, readonly KeyObject[]>()
        this.#memo.set(spec, byKid)
      }
      byKid.set(kid, found)
    }
    return found
  }
}
