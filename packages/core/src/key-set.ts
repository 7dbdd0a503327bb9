import { KeyObject } from 'node:crypto'
import { importJWK, type JWK } from 'jose'
import { LRUCache } from 'lru-cache'
import { algorithmSpec, jwkFits, keyObjectFits, type AlgorithmSpec } from './algorithms.js'
import { discoverJwksUri } from './discovery.js'
import { KeySetUnavailableError } from './errors.js'
import { FetchFailure, fetchJson, type FetchLimits } from './fetch-json.js'

/** Settings of a {@link RemoteKeySet}; all times in milliseconds. */
export interface RemoteKeySetSettings {
  readonly issuer: string
  readonly jwksUri: string | undefined
  readonly limits: FetchLimits
  readonly allowInsecureHttp: boolean
  readonly maxAge: number
  readonly staleIfError: number
  readonly unknownKeyCooldown: number
  readonly retryAfter: number
  readonly realm: string
  readonly clock: () => number
}

interface KeyEntry {
  readonly kid: string | undefined
  readonly jwk: Readonly<Record<string, unknown>>
  readonly key: KeyObject
}

/** Most keys taken from one JWKS; a larger set is truncated, never a reason to fail. */
const MAX_KEYS = 100
/** Most keys tried for a token without `kid`, so one token cannot cost a signature per key. */
const MAX_KIDLESS_CANDIDATES = 4
const MAX_BACKOFF = 30_000

/** The public members of each key type; private members (`d`, `p`, …) are never imported. */
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['kty', 'n', 'e'],
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
}

function defaultAlg(jwk: Record<string, unknown>): string | undefined {
  if (jwk.kty === 'RSA') return 'RS256'
  if (jwk.kty === 'OKP') return 'EdDSA'
  if (jwk.kty === 'EC') {
    return { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[String(jwk.crv)]
  }
  return undefined
}

/**
 * The issuer's keys, fetched lazily (discovery first, unless a `jwksUri` is configured) and
 * cached. Concurrent callers share one in-flight fetch. Once loaded, {@link candidates} answers
 * synchronously: no I/O and no promise on the hot path.
 */
export class RemoteKeySet {
  readonly #s: RemoteKeySetSettings
  #jwksUri: string | undefined
  #entries: readonly KeyEntry[] | undefined
  #loadedAt = 0
  #inflight: Promise<void> | undefined
  /** The initial load does not count: a key added right after start-up is still found. */
  #lastUnknownKidRefetch = Number.NEGATIVE_INFINITY
  #failures = 0
  #nextAttemptAt = 0
  /** Candidates per `alg` and `kid`, rebuilt after every load. */
  #selection = new Map<string, readonly KeyObject[]>()
  /** Imported keys by their public material, so a refresh re-imports only new keys. */
  readonly #imported = new LRUCache<string, KeyObject>({ max: 4 * MAX_KEYS })

  constructor(settings: RemoteKeySetSettings) {
    this.#s = settings
    this.#jwksUri = settings.jwksUri
  }

  /**
   * The keys that may have signed a token with this `alg` and `kid`: an array when the cache can
   * answer, a promise when keys must be fetched first. An empty array means no key matches.
   * Rejects with {@link KeySetUnavailableError} when keys are needed and cannot be obtained.
   */
  candidates(
    spec: AlgorithmSpec,
    kid: string | undefined,
  ): readonly KeyObject[] | Promise<readonly KeyObject[]> {
    const now = this.#s.clock()
    if (this.#entries === undefined) return this.#loadThenSelect(spec, kid, now)
    const age = now - this.#loadedAt
    if (age >= this.#s.maxAge + this.#s.staleIfError) return this.#loadThenSelect(spec, kid, now)
    if (age >= this.#s.maxAge && now >= this.#nextAttemptAt) {
      // Past its age but within the stale window: serve these keys, refresh in the background.
      this.#refresh().catch(() => undefined)
    }
    const found = this.#select(spec, kid)
    if (found.length > 0 || now - this.#lastUnknownKidRefetch < this.#s.unknownKeyCooldown) {
      return found
    }
    // A kid we do not know: perhaps the issuer rotated. One refetch per cooldown, for all kids.
    this.#lastUnknownKidRefetch = now
    return this.#refresh().then(() => this.#select(spec, kid))
  }

  /** Loads the keys if none are cached; for readiness checks. */
  async load(): Promise<void> {
    if (this.#entries === undefined) await this.#refresh()
  }

  #loadThenSelect(
    spec: AlgorithmSpec,
    kid: string | undefined,
    now: number,
  ): Promise<readonly KeyObject[]> {
    if (this.#inflight === undefined && now < this.#nextAttemptAt) {
      // Backing off after a failure: answer 503 at once instead of queueing on a dead server.
      return Promise.reject(this.#unavailable(undefined, (this.#nextAttemptAt - now) / 1000))
    }
    return this.#refresh().then(() => this.#select(spec, kid))
  }

  #select(spec: AlgorithmSpec, kid: string | undefined): readonly KeyObject[] {
    const memo = kid === undefined ? spec.alg : `${spec.alg}\u0000${kid}`
    let found = this.#selection.get(memo)
    if (found === undefined) {
      const keys: KeyObject[] = []
      for (const entry of this.#entries ?? []) {
        if (kid !== undefined && entry.kid !== kid) continue
        if (!jwkFits(entry.jwk, spec) || !keyObjectFits(entry.key, spec)) continue
        keys.push(entry.key)
        if (kid === undefined && keys.length === MAX_KIDLESS_CANDIDATES) break
      }
      found = Object.freeze(keys)
      // Memoise only hits: misses are bounded by the cooldown, and random kids must not fill memory.
      if (keys.length > 0) this.#selection.set(memo, found)
    }
    return found
  }

  #refresh(): Promise<void> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined
    })
    return this.#inflight
  }

  async #fetch(): Promise<void> {
    try {
      this.#jwksUri ??= await discoverJwksUri(
        this.#s.issuer,
        this.#s.limits,
        this.#s.allowInsecureHttp,
      )
      const { body } = await fetchJson(this.#jwksUri, this.#s.limits)
      const entries = await this.#importAll(body)
      this.#entries = entries
      this.#selection = new Map()
      this.#loadedAt = this.#s.clock()
      this.#failures = 0
      this.#nextAttemptAt = 0
    } catch (error) {
      this.#failures += 1
      const backoff = Math.min(MAX_BACKOFF, 1000 * 2 ** (this.#failures - 1))
      this.#nextAttemptAt = this.#s.clock() + backoff
      throw this.#unavailable(error, this.#s.retryAfter / 1000)
    }
  }

  #unavailable(cause: unknown, retryAfter: number): KeySetUnavailableError {
    return new KeySetUnavailableError(
      "The authorization server's signing keys cannot be obtained; try again later",
      Math.max(retryAfter, this.#s.retryAfter / 1000),
      { realm: this.#s.realm, cause },
    )
  }

  async #importAll(body: unknown): Promise<readonly KeyEntry[]> {
    const keys = (body as { keys?: unknown } | null)?.keys
    if (!Array.isArray(keys)) throw new FetchFailure('the JWKS has no "keys" array')
    const entries: KeyEntry[] = []
    for (const jwk of keys.slice(0, MAX_KEYS) as unknown[]) {
      const entry = await this.#importOne(jwk)
      if (entry !== undefined) entries.push(entry)
    }
    return Object.freeze(entries)
  }

  /** Imports one JWK with jose; an unusable entry is skipped, never fatal. */
  async #importOne(value: unknown): Promise<KeyEntry | undefined> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
    const jwk = value as Record<string, unknown>
    const members = PUBLIC_MEMBERS[String(jwk.kty)]
    if (members === undefined) return undefined
    if (jwk.kid !== undefined && typeof jwk.kid !== 'string') return undefined
    const alg = typeof jwk.alg === 'string' ? jwk.alg : defaultAlg(jwk)
    if (alg === undefined || algorithmSpec(alg) === undefined) return undefined
    const publicJwk: Record<string, unknown> = {}
    for (const m of members) {
      if (typeof jwk[m] !== 'string') return undefined
      publicJwk[m] = jwk[m]
    }
    const identity = members.map((m) => publicJwk[m] as string).join('.')
    let key = this.#imported.get(identity)
    if (key === undefined) {
      try {
        const imported = await importJWK(publicJwk as JWK, alg)
        key = imported instanceof Uint8Array ? undefined : KeyObject.from(imported)
      } catch {
        return undefined
      }
      if (key === undefined) return undefined
      this.#imported.set(identity, key)
    }
    return Object.freeze({
      kid: jwk.kid as string | undefined,
      jwk: Object.freeze({
        kty: jwk.kty,
        crv: jwk.crv,
        use: jwk.use,
        key_ops: jwk.key_ops,
        alg: jwk.alg,
      }),
      key,
    })
  }
}
