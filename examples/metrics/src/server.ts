/**
 * An Express API guarded by @bearer-guard/express, whose verifications and key-set loads are
 * recorded by @bearer-guard/opentelemetry and exported to Prometheus.
 *
 *     PORT=4100 METRICS_PORT=9464 ISSUER=https://auth.example.com/ AUDIENCE=https://api.example.com npm start
 *     curl http://127.0.0.1:9464/metrics
 */
import { createServer, type Server } from 'node:http'
import { once } from 'node:events'
import express from 'express'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import { bearerGuard, getAuth, requireScopes, type BearerGuardHandler } from '@bearer-guard/express'
import { recordMetrics } from '@bearer-guard/opentelemetry'

/** Refuses to start: one line on stderr, exit status 1. */
function cannotStart(reason: string): never {
  console.error(`example-metrics cannot start: ${reason}`)
  process.exit(1)
}

function requiredEnv(name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') cannotStart(`${name} is required`)
  return value
}

function portEnv(name: string, fallback: number): number {
  const value = process.env[name] || String(fallback)
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    cannotStart(`${name} must be a port number, not '${value}'`)
  }
  return port
}

const port = portEnv('PORT', 3000)
// Prometheus scrapes its own port, never the API's: the metrics are not for the API's clients.
const metricsPort = portEnv('METRICS_PORT', 9464)
// One issuer, or several separated by spaces.
const issuers = requiredEnv('ISSUER')
  .split(' ')
  .filter((issuer) => issuer !== '')
if (issuers.length === 0) cannotStart('ISSUER is required')
const audience = requiredEnv('AUDIENCE')

// OpenTelemetry: a MeterProvider whose reader is the Prometheus exporter (a pull reader: each
// scrape collects), served below on METRICS_PORT instead of the exporter's own server.
const exporter = new PrometheusExporter({ preventServerStart: true })
const meterProvider = new MeterProvider({ readers: [exporter] })
// From here on, core publishes its events and they become metrics. Undone at shutdown.
const stopMetrics = recordMetrics({ meterProvider })

const app = express()
app.disable('x-powered-by')

app.get('/health', (_req, res) => {
  res.json({ status: 'ok' })
})

let guard: BearerGuardHandler
try {
  guard = bearerGuard({ issuer: issuers, audience, logger: console })
} catch (error) {
  cannotStart(error instanceof Error ? error.message : String(error))
}

// Everything declared below needs a valid access token.
app.use(guard)

app.get('/me', (req, res) => {
  const { claims, scopes } = getAuth(req)
  res.json({ sub: claims.sub, scopes: [...scopes] })
})

app.get('/orders', requireScopes('orders:read'), (_req, res) => {
  res.json([{ id: '1', item: 'coffee beans', quantity: 2 }])
})

const metricsServer = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/metrics') {
    exporter.getMetricsRequestHandler(req, res)
    return
  }
  res.statusCode = 404
  res.end()
})

async function listen(server: Server, on: number, what: string): Promise<void> {
  server.listen(on, '127.0.0.1')
  try {
    await once(server, 'listening')
  } catch (error) {
    cannotStart(`cannot listen on 127.0.0.1:${on} (${what}): ${(error as Error).message}`)
  }
}

const apiServer = createServer(app)
await Promise.all([
  listen(apiServer, port, 'PORT'),
  listen(metricsServer, metricsPort, 'METRICS_PORT'),
])
console.log(
  `example-metrics listening on http://127.0.0.1:${port}, metrics on http://127.0.0.1:${metricsPort}/metrics`,
)

process.on('SIGTERM', () => {
  stopMetrics()
  let open = 2
  const closed = (): void => {
    if (--open === 0) void meterProvider.shutdown().finally(() => process.exit(0))
  }
  apiServer.close(closed)
  metricsServer.close(closed)
  // Keep-alive connections would hold close() open; they carry no work worth waiting for.
  apiServer.closeIdleConnections()
  metricsServer.closeIdleConnections()
})
