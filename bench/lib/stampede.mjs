// Cold stampede: a server that has never fetched keys receives N concurrent first requests, each
// with a distinct token. Counts what reached the issuer and the latency of the burst.
//
// Connections are opened first (N keep-alive sockets, each used once for a 404 that needs no
// token), so the burst measures the server and not the kernel's listen backlog.
import { Agent, request } from 'node:http'
import { createTestIssuer } from '@bearer-guard/testing'
import { median, percentile, settings } from './common.mjs'
import { startServer } from './http.mjs'

/** The servers stampeded: bearer-guard, then the Express peers for comparison. */
export const STAMPEDE_SERVERS = [
  { file: 'express-bearer-guard', label: 'bearer-guard (Express), defaults', target: true },
  { file: 'express-oauth2-jwt-bearer', label: 'express-oauth2-jwt-bearer' },
  { file: 'express-jwt', label: 'express-jwt + jwks-rsa' },
]

function get(agent, url, token) {
  return new Promise((resolve, reject) => {
    const headers = token === undefined ? {} : { authorization: `Bearer ${token}` }
    const started = process.hrtime.bigint()
    const req = request(url, { agent, headers }, (res) => {
      res.resume()
      res.on('end', () =>
        resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

export async function stampede({ file, label }) {
  const count = settings.stampede.requests
  const issuer = await createTestIssuer({ algorithm: 'RS256', tokenLifetime: 3600 })
  const agent = new Agent({ keepAlive: true, maxSockets: count, maxFreeSockets: count })
  let server
  try {
    const tokens = await Promise.all(
      Array.from({ length: count }, () => issuer.mint({ scope: 'orders:read' })),
    )
    server = await startServer(file, issuer)
    const origin = new URL(server.url).origin
    // Open `count` sockets, 100 new ones at a time: n requests in flight at once take the n - 100
    // idle sockets of the previous step and open 100. None of them touches a guarded route.
    for (let inFlight = 100; inFlight < count + 100; inFlight += 100) {
      const n = Math.min(inFlight, count)
      await Promise.all(Array.from({ length: n }, () => get(agent, `${origin}/warm-up`)))
    }
    issuer.resetCounts()
    const started = process.hrtime.bigint()
    const answers = await Promise.all(tokens.map((token) => get(agent, server.url, token)))
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6
    const latencies = answers.map((a) => a.ms)
    return {
      label,
      file,
      requests: count,
      ok: answers.filter((a) => a.status === 200).length,
      discovery: issuer.requests.discovery,
      jwks: issuer.requests.jwks,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: Math.max(...latencies),
      wallMs,
    }
  } finally {
    agent.destroy()
    await server?.stop()
    await issuer.close()
  }
}

/** Several stampedes of one server: median latencies; IdP counts of every repetition. */
export function summarizeStampede(server, runs) {
  const counts = (key) => [...new Set(runs.map((run) => run[key]))].join('/')
  return {
    label: server.label,
    target: server.target === true,
    repeats: runs.length,
    requests: runs[0].requests,
    ok: Math.min(...runs.map((run) => run.ok)),
    discovery: Math.max(...runs.map((run) => run.discovery)),
    jwks: Math.max(...runs.map((run) => run.jwks)),
    discoveryCounts: counts('discovery'),
    jwksCounts: counts('jwks'),
    p50: median(runs.map((run) => run.p50)),
    p99: median(runs.map((run) => run.p99)),
    max: median(runs.map((run) => run.max)),
    runs,
  }
}
