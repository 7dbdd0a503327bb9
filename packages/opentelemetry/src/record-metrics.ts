import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import {
  createNoopMeter,
  diag,
  metrics,
  type Attributes,
  type MeterProvider,
  type ObservableResult,
} from '@opentelemetry/api'
import { channels } from '@bearer-guard/core'
import { assertKnownOptions } from '@bearer-guard/core/adapter'
import { coreInstruments, redisInstruments } from './instruments.js'
import { IssuerLabels, OTHER } from './issuer-label.js'
import { IssuerTally, VerificationTally } from './tally.js'
import { SCOPE_NAME, VERSION } from './version.js'

/** Options of {@link recordMetrics}. */
export interface RecordMetricsOptions {
  /**
   * The `MeterProvider` the instruments are created with. Default: the global one
   * (`metrics.getMeterProvider()` of `@opentelemetry/api`), read once, when `recordMetrics` is
   * called: register the SDK first. While no provider is registered, nothing is subscribed.
   */
  readonly meterProvider?: MeterProvider
  /**
   * How many distinct issuers get their own `bearer_guard.issuer` value, the first seen first;
   * events of any later issuer are recorded with `_OTHER`. `0` records no issuer attribute at all.
   * Only configured issuers, and those a tenant resolver accepted, ever reach the metrics, but a
   * resolver may accept thousands: every value is a time series. Default: `100`.
   */
  readonly maxIssuers?: number
}

const OPTION_NAMES: ReadonlySet<string> = new Set(['meterProvider', 'maxIssuers'])

/**
 * The channels of `@bearer-guard/redis` (its `redisChannels`), by name so that this package does
 * not load the Redis client: subscribing to a channel nobody publishes on costs nothing.
 */
const REDIS_STATUS = 'bearer-guard:redis:status'
const REDIS_SYNC = 'bearer-guard:redis:sync'

// Attribute names: the `bearer_guard` namespace, `{object}.{property}`, as OpenTelemetry's naming
// conventions ask; `error.type` is the registry's own.
const ISSUER = 'bearer_guard.issuer'
const FETCH_REASON = 'bearer_guard.keyset.fetch.reason'
const ERROR_TYPE = 'error.type'
const REDIS_ROLE = 'bearer_guard.redis.connection.role'
const REDIS_STATUS_ATTRIBUTE = 'bearer_guard.redis.connection.status'
const REDIS_NAMESPACE = 'bearer_guard.redis.namespace'
const REDIS_SYNC_REASON = 'bearer_guard.redis.sync.reason'

// Every attribute value comes from a closed set, whatever a publisher sends: anything else is
// `_OTHER`. (Channel names are public: any code may publish on them.)
const ERROR_NAME = /^[A-Za-z_$][\w$]{0,63}$/
const FETCH_REASONS: ReadonlySet<unknown> = new Set(['initial', 'refresh', 'unknown-kid'])
const REDIS_ROLES: ReadonlySet<unknown> = new Set(['commands', 'subscriber'])
const REDIS_STATUSES: ReadonlySet<unknown> = new Set(['connected', 'disconnected', 'error'])
const REDIS_SYNC_REASONS: ReadonlySet<unknown> = new Set(['initial', 'reconnect', 'gap', 'check'])
// @bearer-guard/redis accepts 1 to 128 of `A-Z a-z 0-9 . _ - : /`.
const REDIS_NAMESPACE_VALUE = /^[\w.:/-]{1,128}$/

/**
 * Records bearer-guard's diagnostics as OpenTelemetry metrics: verifications by outcome, issuer
 * and cache hit; key-set loads, their duration and failures; key counts; uses of stale keys; and,
 * when `@bearer-guard/redis` is used, its connection changes and revocation loads. It subscribes
 * to the `node:diagnostics_channel` channels core publishes on; the returned function
 * unsubscribes (call it at shutdown, or in tests). Call it once per process and provider: two
 * calls count every event twice.
 *
 * Until it is called (and after the returned function ran), core builds no event at all; while
 * no `MeterProvider` is registered, it subscribes to nothing and says so through `diag`. No
 * attribute ever holds a token, a claim value, a `kid` or a URL: outcomes are stable error codes,
 * issuers are the configured ones (see `maxIssuers`).
 *
 * | instrument | unit | attributes |
 * |---|---|---|
 * | `bearer_guard.verifications` (asynchronous counter) | `{verification}` | `bearer_guard.verification.outcome`, `bearer_guard.verification.cached`, `bearer_guard.issuer` (verified tokens only) |
 * | `bearer_guard.keyset.fetch.duration` (histogram) | `s` | `bearer_guard.issuer`, `bearer_guard.keyset.fetch.reason`, `error.type` (failures only) |
 * | `bearer_guard.keyset.key.count` (gauge) | `{key}` | `bearer_guard.issuer` |
 * | `bearer_guard.keyset.stale_uses` (asynchronous counter) | `{use}` | `bearer_guard.issuer` |
 * | `bearer_guard.redis.connection.status_changes` (counter) | `{change}` | `bearer_guard.redis.connection.role`, `bearer_guard.redis.connection.status` |
 * | `bearer_guard.redis.sync.duration` (histogram) | `s` | `bearer_guard.redis.namespace`, `bearer_guard.redis.sync.reason` |
 * | `bearer_guard.redis.revocation.count` (gauge) | `{revocation}` | `bearer_guard.redis.namespace` |
 *
 * @returns A function that unsubscribes; calling it again does nothing.
 * @throws `TypeError` for an unknown option or an invalid `maxIssuers` or `meterProvider`.
 *
 * @example
 * ```ts
 * import { MeterProvider } from '@opentelemetry/sdk-metrics'
 * import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
 * import { recordMetrics } from '@bearer-guard/opentelemetry'
 *
 * const meterProvider = new MeterProvider({ readers: [new PrometheusExporter({ port: 9464 })] })
 * const stop = recordMetrics({ meterProvider })
 * process.on('SIGTERM', () => {
 *   stop()
 *   void meterProvider.shutdown()
 * })
 * ```
 */
export function recordMetrics(options: RecordMetricsOptions = {}): () => void {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new TypeError('bearer-guard: recordMetrics options must be an object')
  }
  assertKnownOptions(options, OPTION_NAMES, 'recordMetrics')
  const maxIssuers = options.maxIssuers ?? 100
  if (!Number.isSafeInteger(maxIssuers) || maxIssuers < 0) {
    throw new TypeError(
      'bearer-guard: recordMetrics option maxIssuers must be a whole number of issuers, 0 or more',
    )
  }
  const given = options.meterProvider
  if (given !== undefined && typeof (given as Partial<MeterProvider>).getMeter !== 'function') {
    throw new TypeError(
      'bearer-guard: recordMetrics option meterProvider must be an OpenTelemetry MeterProvider',
    )
  }

  const meter = (given ?? metrics.getMeterProvider()).getMeter(SCOPE_NAME, VERSION)
  // No SDK registered (or a no-op provider): nothing would be recorded, so subscribe to nothing
  // and leave core building no events. OpenTelemetry's own logger says why.
  if (meter === createNoopMeter()) {
    diag.warn(
      `${SCOPE_NAME}: no MeterProvider is registered, so no bearer-guard metrics are recorded; register the SDK before calling recordMetrics, or pass meterProvider`,
    )
    return () => undefined
  }

  const issuers = new IssuerLabels(maxIssuers)
  const core = coreInstruments(meter)
  const redis = redisInstruments(meter)
  const verifications = new VerificationTally()
  const staleUses = new IssuerTally()
  const observeVerifications = (result: ObservableResult): void => {
    verifications.observe(result)
  }
  const observeStaleUses = (result: ObservableResult): void => {
    staleUses.observe(result)
  }
  core.verifications.addCallback(observeVerifications)
  core.staleUses.addCallback(observeStaleUses)

  function withIssuer(attributes: Attributes, issuer: unknown): Attributes {
    const label = issuers.label(issuer)
    if (label !== undefined) attributes[ISSUER] = label
    return attributes
  }

  function keySetAttributes(event: Fields): Attributes {
    return withIssuer(
      { [FETCH_REASON]: FETCH_REASONS.has(event.reason) ? (event.reason as string) : OTHER },
      event.issuer,
    )
  }

  const handlers: Record<string, (event: Fields) => void> = {
    [channels.verify]: (event) => {
      verifications.add(issuers.label(event.issuer), event.outcome, event.cached === true)
    },
    [channels.keySetFetchEnd]: (event) => {
      core.fetchDuration.record(seconds(event.durationMs), keySetAttributes(event))
      const label = issuers.label(event.issuer)
      // A gauge is a last value: shared by several issuers (`_OTHER`, or no issuer attribute) it
      // would show whichever loaded last, so it is kept for issuers with their own value only.
      if (label !== undefined && label !== OTHER && isCount(event.keys)) {
        core.keyCount.record(event.keys, { [ISSUER]: label })
      }
    },
    [channels.keySetFetchError]: (event) => {
      const attributes = keySetAttributes(event)
      attributes[ERROR_TYPE] = errorType(event.error)
      core.fetchDuration.record(seconds(event.durationMs), attributes)
    },
    [channels.keySetStale]: (event) => {
      staleUses.add(issuers.label(event.issuer))
    },
    [REDIS_STATUS]: (event) => {
      redis.statusChanges.add(1, {
        [REDIS_ROLE]: REDIS_ROLES.has(event.connection) ? (event.connection as string) : OTHER,
        [REDIS_STATUS_ATTRIBUTE]: REDIS_STATUSES.has(event.status)
          ? (event.status as string)
          : OTHER,
      })
    },
    [REDIS_SYNC]: (event) => {
      const namespace =
        typeof event.namespace === 'string' && REDIS_NAMESPACE_VALUE.test(event.namespace)
          ? event.namespace
          : OTHER
      redis.syncDuration.record(seconds(event.durationMs), {
        [REDIS_NAMESPACE]: namespace,
        [REDIS_SYNC_REASON]: REDIS_SYNC_REASONS.has(event.reason)
          ? (event.reason as string)
          : OTHER,
      })
      if (namespace !== OTHER && isCount(event.revocations)) {
        redis.revocationCount.record(event.revocations, { [REDIS_NAMESPACE]: namespace })
      }
    },
  }

  const subscribed: [string, (message: unknown) => void][] = []
  for (const [name, handle] of Object.entries(handlers)) {
    // A subscriber that throws crashes the process (diagnostics_channel rethrows it on the next
    // tick): metrics must never take a request, or the API, down.
    const listener = (message: unknown): void => {
      if (typeof message !== 'object' || message === null) return
      try {
        handle(message as Fields)
      } catch (error) {
        diag.error(`${SCOPE_NAME}: an event of ${name} could not be recorded`, error)
      }
    }
    subscribe(name, listener)
    subscribed.push([name, listener])
  }

  let active = true
  return () => {
    if (!active) return
    active = false
    for (const [name, listener] of subscribed) unsubscribe(name, listener)
    core.verifications.removeCallback(observeVerifications)
    core.staleUses.removeCallback(observeStaleUses)
  }
}

/** An event as published: read field by field, each checked, since any code may publish. */
type Fields = Readonly<Record<string, unknown>>

/** Milliseconds to seconds; a missing or negative duration (a clock stepped back) counts as 0. */
function seconds(durationMs: unknown): number {
  return typeof durationMs === 'number' && durationMs > 0 && Number.isFinite(durationMs)
    ? durationMs / 1000
    : 0
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0
}

/**
 * `error.type` of a failed load: the error's class name (`FetchFailure` for a status, size, JSON
 * or network problem; `AggregateError` when every discovery URL failed), as the semantic
 * conventions ask; `_OTHER` for anything else. Never the message, which names URLs.
 */
function errorType(error: unknown): string {
  return error instanceof Error && ERROR_NAME.test(error.name) ? error.name : OTHER
}
