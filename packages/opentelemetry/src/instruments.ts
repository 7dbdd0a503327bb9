import type { Counter, Gauge, Histogram, Meter, ObservableCounter } from '@opentelemetry/api'

/**
 * Bucket boundaries of the duration histograms, in seconds: those of OpenTelemetry's HTTP
 * duration metrics (semantic conventions, `http.client.request.duration`). The SDK's own default
 * is meant for milliseconds and would put every fetch in its first bucket. Core's fetch timeout
 * defaults to 5 s, so the last bounded bucket (10 s) holds every fetch.
 */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]

/** The instruments recorded from core's channels. */
export interface CoreInstruments {
  readonly verifications: ObservableCounter
  readonly fetchDuration: Histogram
  readonly keyCount: Gauge
  readonly staleUses: ObservableCounter
}

/** The instruments recorded from `@bearer-guard/redis`'s channels. */
export interface RedisInstruments {
  readonly statusChanges: Counter
  readonly syncDuration: Histogram
  readonly revocationCount: Gauge
}

// Names follow OpenTelemetry's naming conventions: a `bearer_guard` namespace, dot-separated,
// counters of things plural with a `{thing}` unit, durations in seconds, no `_total` (the
// Prometheus exporter appends it). The two counters of per-request events are asynchronous: their
// counts are kept by this package and read when a reader collects (see tally.ts).
export function coreInstruments(meter: Meter): CoreInstruments {
  return {
    verifications: meter.createObservableCounter('bearer_guard.verifications', {
      unit: '{verification}',
      description:
        'Access-token verifications, by outcome (ok or the stable error code), issuer and cache hit.',
    }),
    fetchDuration: meter.createHistogram('bearer_guard.keyset.fetch.duration', {
      unit: 's',
      description:
        'Duration of key-set loads (discovery if needed, then the JWKS), by issuer and reason; error.type is set on failures.',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    keyCount: meter.createGauge('bearer_guard.keyset.key.count', {
      unit: '{key}',
      description: 'Usable keys in the key set last loaded, by issuer.',
    }),
    staleUses: meter.createObservableCounter('bearer_guard.keyset.stale_uses', {
      unit: '{use}',
      description:
        'Uses of a key set past its maximum age while it is refreshed or its issuer is unreachable, by issuer.',
    }),
  }
}

export function redisInstruments(meter: Meter): RedisInstruments {
  return {
    statusChanges: meter.createCounter('bearer_guard.redis.connection.status_changes', {
      unit: '{change}',
      description:
        'State changes of the Redis connections of @bearer-guard/redis, by role and new status.',
    }),
    syncDuration: meter.createHistogram('bearer_guard.redis.sync.duration', {
      unit: 's',
      description: 'Duration of loads of the revocation lists from Redis, by namespace and reason.',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    revocationCount: meter.createGauge('bearer_guard.redis.revocation.count', {
      unit: '{revocation}',
      description: 'Live revocations (tokens and subjects) after the last load, by namespace.',
    }),
  }
}
