import type { KeyObject } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { AlgorithmSpec } from '../jws/algorithms.js'
import { discoverJwksUri } from './discovery.js'
import {
  fetchEndChannel,
  fetchErrorChannel,
  fetchStartChannel,
  staleChannel,
  type KeySetFetchReason,
} from '../diagnostics.js'
import { KeySetUnavailableError } from '../challenge/errors.js'
import { FetchFailure, fetchJson, type FetchLimits } from './fetch-json.js'
import { importPublicJwk, keyEntry, readJwk } from './jwk.js'
import type { KeyRefetchCoordinator } from './coordinator.js'
import type { KeySource } from './key-source.js'
import { KeySelection, type KeyEntry } from './selection.js'

/** Settings of a {@link RemoteKeySet}; all times in milliseconds. */
export interface RemoteKeySetSettings {
  readonly issuer: string
  readonly jwksUri: string | undefined
  readonly limits: FetchLimits
  readonly allowInsecureHttp: boolean
  /** Upper bound of the key set's age, whatever `Cache-Control` says. */
  readonly maxAge: number
  /** Lower bound of an honoured `max-age`. */
  readonly minAge: number
  /** The key set's age when its response has no `Cache-Control: max-age`. */
  readonly defaultAge: number
  readonly staleIfError: number
  readonly unknownKeyCooldown: number
  /** Shares unknown-`kid` refetches with the fleet; `undefined`: each instance on its own. */
  readonly coordinator?: KeyRefetchCoordinator | undefined
  readonly retryAfter: number
  readonly clock: () => number
  /** Told once per failure episode: the first failed load after start-up or a success. */
  readonly onFailure?: ((failure: KeySetFailure) => void) | undefined
}

/**
 * A key-set failure episode began: the first failed discovery or JWKS load since start-up or since
 * the last success. Further failures of the same episode are not reported again.
 */
export interface KeySetFailure {
  /** The configured issuer. */
  readonly issuer: string
  /**
   * One line to log: the issuer, the cause (with expected and actual values where there are any,
   * e.g. the configured and the discovered issuer) and what requests get meanwhile. Never holds
   * token content.
   */
  readonly message: string
  /** True while keys loaded earlier are still served (within `staleIfError`); else requests get 503. */
  readonly servingStaleKeys: boolean
  /** The underlying error. */
  readonly error: unknown
}

/** Most keys taken from one JWKS; a larger set is truncated, never a reason to fail. */
const MAX_KEYS = 100
const MAX_BACKOFF = 30_000
/** How often an instance that lost a refetch claim looks for the winner's result, in ms. */
const LOOKUP_STEP = 25
const EMPTY = new KeySelection([])

/**
 * The issuer's keys, fetched lazily (discovery first, unless a `jwksUri` is configured) and
 * cached. Concurrent callers share one in-flight fetch. Once loaded, {@link candidates} answers
 * synchronously: no I/O and no promise on the hot path.
 */
export class RemoteKeySet implements KeySource {
  readonly #s: RemoteKeySetSettings
  #jwksUri: string | undefined
  /** The current set; `undefined` until the first load. */
  #entries: KeySelection | undefined
  #loadedAt = 0
  /**
   * Age at which the current set is refreshed: `Cache-Control: max-age` within the configured
   * bounds, less up to 10% random jitter so a fleet of instances does not refresh in lockstep.
   */
  #softAge = 0
  /** Age past which the current set is no longer used at all: its unjittered age + staleIfError. */
  #hardAge = 0
  #inflight: Promise<void> | undefined
  /** The initial load does not count: a key added right after start-up is still found. */
  #lastUnknownKidRefetch = Number.NEGATIVE_INFINITY
  #failures = 0
  #nextAttemptAt = 0
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
    if (age >= this.#hardAge) return this.#loadThenSelect(spec, kid, now)
    if (age >= this.#softAge) this.#refreshAhead(now, age)
    const found = this.#select(spec, kid)
    if (found.length > 0) return found
    // A fetch is already under way (another unknown kid's, or the background refresh): wait for
    // it instead of answering 401 now. Otherwise every request carrying a just-rotated kid that
    // arrives while the first one's refetch is in flight is refused. Costs no extra request.
    if (this.#inflight !== undefined) return this.#inflight.then(() => this.#select(spec, kid))
    const failing = this.#failures > 0
    if (
      now - this.#lastUnknownKidRefetch < this.#s.unknownKeyCooldown ||
      now < this.#nextAttemptAt
    ) {
      // No refetch allowed now. If the issuer could not be reached at the last attempt, this kid
      // may be a key it published meanwhile: 503, not an invalid_token that makes clients throw
      // a good token away. Otherwise the set is current and the kid is unknown: 401.
      return failing
        ? Promise.reject(this.#unavailable(undefined, (this.#nextAttemptAt - now) / 1000))
        : found
    }
    // A kid we do not know: perhaps the issuer rotated. One refetch per cooldown, for all kids
    // (and with a coordinator, for the whole fleet).
    this.#lastUnknownKidRefetch = now
    const { coordinator } = this.#s
    if (coordinator === undefined) {
      return this.#refresh('unknown-kid').then(() => this.#select(spec, kid))
    }
    this.#inflight ??= this.#coordinated(coordinator).finally(() => {
      this.#inflight = undefined
    })
    return this.#inflight.then(() => this.#select(spec, kid))
  }

  /** See {@link KeyRefetchCoordinator}: one unknown-kid refetch per cooldown for the fleet. */
  async #coordinated(coordinator: KeyRefetchCoordinator): Promise<void> {
    const { issuer, unknownKeyCooldown } = this.#s
    let won: boolean
    try {
      won = await coordinator.claim(issuer, unknownKeyCooldown)
    } catch {
      won = true // The coordinator is unusable: refetch as if alone.
    }
    if (won) {
      await this.#fetch('unknown-kid')
      try {
        await coordinator.publish(issuer, this.#entries?.kids() ?? [], unknownKeyCooldown)
      } catch {
        // The others fall back to their own state after waiting; nothing is lost.
      }
      return
    }
    // Another instance refetches: wait for what it found, at most the fetch timeout (real time,
    // in steps, whatever clock the validator was given).
    const steps = Math.max(1, Math.ceil(this.#s.limits.timeout / LOOKUP_STEP))
    for (let step = 0; step < steps; step += 1) {
      let kids: readonly string[] | undefined
      try {
        kids = await coordinator.lookup(issuer)
      } catch {
        await this.#fetch('unknown-kid')
        return
      }
      if (kids !== undefined) {
        // The issuer published a kid this instance lacks: a rotation, fetch our own copy (keys
        // never travel through the coordinator). Otherwise the unknown kid is made up: no fetch.
        const held = this.#entries
        if (kids.some((k) => held === undefined || !held.hasKid(k)))
          await this.#fetch('unknown-kid')
        return
      }
      await new Promise((resolve) => setTimeout(resolve, LOOKUP_STEP))
    }
  }

  /**
   * True while `key` is in the current key set: a token verified by a key the issuer has since
   * removed must not be served from the verified-token cache.
   */
  holds(key: KeyObject): boolean {
    if (this.#entries === undefined || !this.#entries.has(key)) return false
    // Cache hits must keep the key set fresh too, or removed keys would never be noticed.
    const now = this.#s.clock()
    const age = now - this.#loadedAt
    if (age >= this.#hardAge) return false
    if (age >= this.#softAge) this.#refreshAhead(now, age)
    return true
  }

  /** Past its age but within the stale window: serve these keys, refresh in the background. */
  #refreshAhead(now: number, age: number): void {
    if (staleChannel.hasSubscribers) staleChannel.publish({ issuer: this.#s.issuer, ageMs: age })
    if (this.#inflight === undefined && now >= this.#nextAttemptAt) {
      this.#refresh('refresh').catch(() => undefined)
    }
  }

  /** Loads the keys if none usable are cached; for readiness checks. */
  async load(): Promise<void> {
    // Keys past their stale window answer no request (every one gets a 503), so a readiness check
    // must not count them as loaded: refresh, and reject if that fails.
    const expired = this.#entries !== undefined && this.#s.clock() - this.#loadedAt >= this.#hardAge
    if (this.#entries === undefined || expired) await this.#refresh('initial')
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
    const reason = this.#entries === undefined ? 'initial' : 'refresh'
    return this.#refresh(reason).then(() => this.#select(spec, kid))
  }

  #select(spec: AlgorithmSpec, kid: string | undefined): readonly KeyObject[] {
    return (this.#entries ?? EMPTY).select(spec, kid)
  }

  issuerOf(key: KeyObject): string | undefined {
    return this.#entries?.issuerOf(key)
  }

  #refresh(reason: KeySetFetchReason): Promise<void> {
    this.#inflight ??= this.#fetch(reason).finally(() => {
      this.#inflight = undefined
    })
    return this.#inflight
  }

  async #fetch(reason: KeySetFetchReason): Promise<void> {
    const { issuer, clock } = this.#s
    const started = clock()
    if (fetchStartChannel.hasSubscribers) fetchStartChannel.publish({ issuer, reason })
    try {
      this.#jwksUri ??= await discoverJwksUri(
        this.#s.issuer,
        this.#s.limits,
        this.#s.allowInsecureHttp,
      )
      const { body, maxAge } = await fetchJson(this.#jwksUri, this.#s.limits)
      const entries = this.#importAll(body)
      // `Cache-Control: max-age` is honoured within [minAge, maxAge], longer than the default age
      // too; without one, the default age applies.
      const age =
        maxAge === undefined
          ? this.#s.defaultAge
          : Math.min(this.#s.maxAge, Math.max(this.#s.minAge, maxAge * 1000))
      this.#softAge = age * (0.9 + 0.1 * Math.random())
      this.#hardAge = age + this.#s.staleIfError
      this.#entries = new KeySelection(entries)
      this.#loadedAt = this.#s.clock()
      this.#failures = 0
      this.#nextAttemptAt = 0
      if (fetchEndChannel.hasSubscribers) {
        fetchEndChannel.publish({
          issuer,
          reason,
          durationMs: clock() - started,
          keys: entries.length,
        })
      }
    } catch (error) {
      if (fetchErrorChannel.hasSubscribers) {
        fetchErrorChannel.publish({ issuer, reason, durationMs: clock() - started, error })
      }
      if (this.#failures === 0) this.#reportFailure(error)
      this.#failures += 1
      const backoff = Math.min(MAX_BACKOFF, 1000 * 2 ** (this.#failures - 1))
      this.#nextAttemptAt = this.#s.clock() + backoff
      throw this.#unavailable(error, this.#s.retryAfter / 1000)
    }
  }

  #reportFailure(error: unknown): void {
    const { onFailure, issuer, clock } = this.#s
    if (onFailure === undefined) return
    const stale = this.#entries !== undefined && clock() - this.#loadedAt < this.#hardAge
    const cause = error instanceof Error ? error.message : String(error)
    const meanwhile = stale
      ? 'the keys loaded earlier stay in use meanwhile (staleIfError)'
      : 'requests get 503 until they can be obtained'
    try {
      onFailure({
        issuer,
        message: `bearer-guard: cannot obtain the signing keys of issuer '${issuer}': ${cause}; ${meanwhile}`,
        servingStaleKeys: stale,
        error,
      })
    } catch {
      // A throwing logger must not turn a 503 into something else.
    }
  }

  #unavailable(cause: unknown, retryAfter: number): KeySetUnavailableError {
    return new KeySetUnavailableError(
      "The authorization server's signing keys cannot be obtained; try again later",
      Math.max(retryAfter, this.#s.retryAfter / 1000),
      { cause },
    )
  }

  #importAll(body: unknown): readonly KeyEntry[] {
    const keys = (body as { keys?: unknown } | null)?.keys
    if (!Array.isArray(keys)) throw new FetchFailure("the JWKS has no 'keys' array")
    const entries: KeyEntry[] = []
    for (const value of keys.slice(0, MAX_KEYS) as unknown[]) {
      const jwk = readJwk(value)
      if (jwk === undefined) continue
      // The same material keeps the same KeyObject across refreshes, so results cached under it
      // stay valid while the issuer keeps publishing the key.
      let key = this.#imported.get(jwk.identity)
      if (key === undefined) {
        key = importPublicJwk(jwk)
        if (key === undefined) continue
        this.#imported.set(jwk.identity, key)
      }
      entries.push(keyEntry(jwk, key))
    }
    return Object.freeze(entries)
  }
}
