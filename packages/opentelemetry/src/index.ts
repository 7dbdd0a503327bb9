/**
 * `@bearer-guard/opentelemetry`: bearer-guard's diagnostics as OpenTelemetry metrics:
 * verifications by outcome and issuer, cache hits, key-set loads with their duration and
 * failures, stale keys, 503s, and the Redis stores' connection state. Nothing is recorded, and
 * core builds no event, until {@link recordMetrics} is called.
 *
 * @example
 * ```ts
 * import { recordMetrics } from '@bearer-guard/opentelemetry'
 *
 * // After the OpenTelemetry SDK registered its MeterProvider (e.g. NodeSDK's start()):
 * const stop = recordMetrics()
 * ```
 *
 * @packageDocumentation
 */
export { recordMetrics } from './record-metrics.js'
export type { RecordMetricsOptions } from './record-metrics.js'
