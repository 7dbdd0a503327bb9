/**
 * A real OpenTelemetry SDK MeterProvider with a pull reader: the tests read exactly what an
 * exporter would be handed, cumulative, by instrument name.
 */
import type { Attributes } from '@opentelemetry/api'
import {
  DataPointType,
  MeterProvider,
  MetricReader,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics'

/** A reader that exports nothing by itself: `collect()` is the whole of it (a pull exporter's shape). */
class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {
    // Nothing is buffered.
  }
  protected override async onShutdown(): Promise<void> {
    // Nothing to release.
  }
}

/** One data point, reduced to what the tests compare. */
export interface Point {
  readonly attributes: Attributes
  /** A sum or gauge value; for a histogram, its count. */
  readonly value: number
  /** Histograms only. */
  readonly sum?: number
  readonly boundaries?: readonly number[]
}

export interface Collected {
  readonly resourceMetrics: ResourceMetrics
  /** Every metric of the bearer-guard scope, by instrument name. */
  readonly metrics: ReadonlyMap<string, MetricData>
  /** The points of one instrument (none if it recorded nothing). */
  points(name: string): Point[]
  /** The value of the one point whose attributes are exactly `attributes` (0 if none). */
  value(name: string, attributes: Attributes): number
}

export interface TestMeter {
  readonly meterProvider: MeterProvider
  collect(): Promise<Collected>
  shutdown(): Promise<void>
}

export function testMeter(): TestMeter {
  const reader = new PullReader()
  const meterProvider = new MeterProvider({ readers: [reader] })
  return {
    meterProvider,
    async collect() {
      const { resourceMetrics, errors } = await reader.collect()
      if (errors.length > 0) throw new AggregateError(errors, 'metric collection failed')
      const metrics = new Map<string, MetricData>()
      for (const scope of resourceMetrics.scopeMetrics) {
        if (scope.scope.name !== '@bearer-guard/opentelemetry') continue
        for (const metric of scope.metrics) metrics.set(metric.descriptor.name, metric)
      }
      const points = (name: string): Point[] => {
        const metric = metrics.get(name)
        if (metric === undefined) return []
        if (metric.dataPointType === DataPointType.HISTOGRAM) {
          return metric.dataPoints.map((p) => ({
            attributes: p.attributes,
            value: p.value.count,
            sum: p.value.sum,
            boundaries: p.value.buckets.boundaries,
          }))
        }
        if (
          metric.dataPointType === DataPointType.SUM ||
          metric.dataPointType === DataPointType.GAUGE
        ) {
          return metric.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value }))
        }
        throw new Error(`unexpected data point type of ${name}`)
      }
      return {
        resourceMetrics,
        metrics,
        points,
        value(name, attributes) {
          const wanted = JSON.stringify(sorted(attributes))
          const found = points(name).filter((p) => JSON.stringify(sorted(p.attributes)) === wanted)
          if (found.length > 1) throw new Error(`two points of ${name} with ${wanted}`)
          return found[0]?.value ?? 0
        },
      }
    },
    shutdown: () => meterProvider.shutdown(),
  }
}

function sorted(attributes: Attributes): [string, unknown][] {
  return Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : 1))
}

/** Every attribute value of every point of `collected`, as text. */
export function attributeValues(collected: Collected): string[] {
  const values: string[] = []
  for (const name of collected.metrics.keys()) {
    for (const point of collected.points(name)) {
      for (const value of Object.values(point.attributes)) values.push(String(value))
    }
  }
  return values
}
