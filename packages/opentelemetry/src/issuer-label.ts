/**
 * The `bearer_guard.issuer` value of an event: the issuer itself for the first `max` distinct
 * issuers seen, `_OTHER` after that, nothing when `max` is 0. Only configured issuers (and the
 * issuers a tenant resolver accepted) reach the events, but a resolver may accept thousands, and
 * every value is a time series in the backend: the cap bounds them, and the memory kept here.
 */
export class IssuerLabels {
  readonly #max: number
  readonly #seen = new Set<string>()

  constructor(max: number) {
    this.#max = max
  }

  /** The value to record, or `undefined` when no issuer attribute is recorded. */
  label(issuer: unknown): string | undefined {
    if (this.#max === 0 || typeof issuer !== 'string') return undefined
    if (this.#seen.has(issuer)) return issuer
    if (this.#seen.size >= this.#max) return OTHER
    this.#seen.add(issuer)
    return issuer
  }
}

/** OpenTelemetry's value for "any other" in a bounded set (semantic conventions, e.g. `http.request.method`). */
export const OTHER = '_OTHER'
