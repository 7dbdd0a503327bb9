import type { Attributes, ObservableResult } from '@opentelemetry/api'
import { OTHER } from './issuer-label.js'

/** One series: its attributes, built once, and its count so far. */
interface Series {
  readonly attributes: Attributes
  value: number
}

/** The two series of one issuer and outcome. */
interface ByCache {
  readonly outcome: string
  uncached?: Series
  cached?: Series
}

const ISSUER = 'bearer_guard.issuer'
const OUTCOME = 'bearer_guard.verification.outcome'
const CACHED = 'bearer_guard.verification.cached'

// Core's stable codes: `ok`, or `ERR_` and capitals. Anything else, from whatever publisher
// (channel names are public), is `_OTHER`; and past MAX_OUTCOMES distinct values, so is any new one.
const OUTCOME_VALUE = /^(?:ok|ERR_[A-Z0-9_]{1,60})$/
const MAX_OUTCOMES = 64

/**
 * Counts of the events that come with requests (verifications, uses of stale keys), kept here and
 * handed to an asynchronous counter when a reader collects. A synchronous counter's `add` costs
 * the SDK an attribute hash and lookup per call, microseconds; an increment here is two map
 * lookups. The readers receive the same cumulative, monotonic sums.
 */
export class VerificationTally {
  // issuer label ('' for none) → outcome → series
  readonly #series = new Map<string, Map<string, ByCache>>()
  readonly #outcomes = new Set<string>()

  add(issuer: string | undefined, outcome: unknown, cached: boolean): void {
    const key = issuer ?? ''
    let byOutcome = this.#series.get(key)
    if (byOutcome === undefined) {
      byOutcome = new Map()
      this.#series.set(key, byOutcome)
    }
    let entry = typeof outcome === 'string' ? byOutcome.get(outcome) : undefined
    if (entry === undefined) {
      const admitted = this.#admit(outcome)
      entry = byOutcome.get(admitted)
      if (entry === undefined) {
        entry = { outcome: admitted }
        byOutcome.set(admitted, entry)
      }
    }
    const series = cached
      ? (entry.cached ??= newSeries(entry.outcome, true, issuer))
      : (entry.uncached ??= newSeries(entry.outcome, false, issuer))
    series.value += 1
  }

  observe(result: ObservableResult): void {
    for (const byOutcome of this.#series.values()) {
      for (const { uncached, cached } of byOutcome.values()) {
        if (uncached !== undefined) result.observe(uncached.value, uncached.attributes)
        if (cached !== undefined) result.observe(cached.value, cached.attributes)
      }
    }
  }

  /** How an outcome is recorded: itself if it is a code and there is room, else `_OTHER`. */
  #admit(outcome: unknown): string {
    if (typeof outcome !== 'string' || !OUTCOME_VALUE.test(outcome)) return OTHER
    if (this.#outcomes.has(outcome)) return outcome
    if (this.#outcomes.size >= MAX_OUTCOMES) return OTHER
    this.#outcomes.add(outcome)
    return outcome
  }
}

function newSeries(outcome: string, cached: boolean, issuer: string | undefined): Series {
  const attributes: Attributes = { [OUTCOME]: outcome, [CACHED]: cached }
  if (issuer !== undefined) attributes[ISSUER] = issuer
  return { attributes, value: 0 }
}

/** Counts by issuer label alone (uses of stale keys). */
export class IssuerTally {
  readonly #series = new Map<string, Series>()

  add(issuer: string | undefined): void {
    const key = issuer ?? ''
    let series = this.#series.get(key)
    if (series === undefined) {
      series = { attributes: issuer === undefined ? {} : { [ISSUER]: issuer }, value: 0 }
      this.#series.set(key, series)
    }
    series.value += 1
  }

  observe(result: ObservableResult): void {
    for (const series of this.#series.values()) result.observe(series.value, series.attributes)
  }
}
