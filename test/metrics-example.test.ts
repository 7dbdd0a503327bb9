/**
 * examples/metrics, started as a user would start it (`npm start`), against two real in-process
 * issuers over loopback HTTP (one of them down): real requests to the API, then a real Prometheus
 * scrape of its metrics port. The scrape shown in examples/metrics/README.md must be one this test
 * produces: every series it shows exists here, with the same value where the value does not
 * depend on timing.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  freePort,
  repoRoot,
  startExample,
  stopCleanly,
  type RunningExample,
} from './support/process.js'

const DIR = 'examples/metrics'
const AUDIENCE = 'https://api.example.com'
const now = (): number => Math.floor(Date.now() / 1000)

/** One series of a Prometheus text exposition: `name{labels} value`. */
interface Series {
  /** The name and the labels, sorted: the series' identity whatever order they were written in. */
  readonly key: string
  readonly name: string
  readonly value: number
}

const SERIES = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/
const LABEL = /([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g

/**
 * A series' identity: its name and its labels, sorted. Loopback ports (the issuers', chosen by
 * the system on each run) are replaced, so that two runs, or this run and the README, compare.
 */
function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  const sorted = Object.entries(labels)
    .map(([label, value]) => `${label}="${value.replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT')}"`)
    .sort()
  return `${name}{${sorted.join(',')}}`
}

/** The series of an exposition, by {@link seriesKey}. Comment lines (`#`) are skipped. */
function parseExposition(text: string): Map<string, Series> {
  const series = new Map<string, Series>()
  for (const line of text.split('\n')) {
    const match = SERIES.exec(line.trim())
    if (match === null) continue
    const [, name = '', labels = '', value = ''] = match
    const parsed: Record<string, string> = {}
    for (const [, label = '', text = ''] of labels.matchAll(LABEL)) parsed[label] = text
    const key = seriesKey(name, parsed)
    series.set(key, { key, name, value: Number(value) })
  }
  return series
}

/** The ```text block of the README that follows the line `<!-- sample scrape -->`. */
function readmeSample(): string {
  const readme = readFileSync(join(repoRoot, DIR, 'README.md'), 'utf8')
  const match = /<!-- sample scrape -->\s*```text\n([\s\S]*?)```/.exec(readme)
  if (match?.[1] === undefined) throw new Error(`${DIR}/README.md has no sample scrape`)
  return match[1]
}

describe('examples/metrics: bearer-guard metrics exported to Prometheus', () => {
  let issuer: TestIssuer
  let down: TestIssuer
  let api: RunningExample | undefined
  let metricsUrl: string
  const tokens: string[] = []

  beforeAll(async () => {
    issuer = await createTestIssuer({ audience: AUDIENCE, path: '/tenant-a', algorithm: 'ES256' })
    down = await createTestIssuer({ audience: AUDIENCE, path: '/tenant-b', algorithm: 'ES256' })
    down.fail('all', { kind: 'status', status: 500 })
    const metricsPort = await freePort()
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`
    api = await startExample(DIR, {
      ISSUER: `${issuer.issuer} ${down.issuer}`,
      AUDIENCE,
      METRICS_PORT: String(metricsPort),
    })
  })

  afterAll(async () => {
    try {
      await stopCleanly(api, DIR)
    } finally {
      await Promise.all([issuer.close(), down.close()])
    }
  })

  async function get(path: string, token?: string): Promise<number> {
    if (token !== undefined) tokens.push(token)
    const headers: Record<string, string> =
      token === undefined ? {} : { authorization: `Bearer ${token}` }
    const response = await fetch(api!.url + path, { headers })
    await response.arrayBuffer()
    return response.status
  }

  it('serves the API, and the verifications and key-set loads as Prometheus metrics on METRICS_PORT', async () => {
    const token = await issuer.mint({ scope: 'orders:read' })
    // The requests behind the README's sample scrape, in this order.
    expect(await get('/health')).toBe(200) // no verification
    expect(await get('/orders', token)).toBe(200) // keys loaded (discovery + JWKS), verified
    expect(await get('/orders', token)).toBe(200) // the verified-token cache answers
    expect(await get('/me', await issuer.mint())).toBe(200)
    expect(await get('/me')).toBe(401) // no credentials
    expect(await get('/me', await issuer.mint({ iat: now() - 7200, exp: now() - 3600 }))).toBe(401)
    expect(await get('/me', await issuer.mint({ iss: 'https://unlisted.example.com/' }))).toBe(401)
    expect(await get('/me', await down.mint())).toBe(503) // its keys cannot be loaded

    const response = await fetch(metricsUrl)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
    const scrape = await response.text()
    const series = parseExposition(scrape)
    const value = (name: string, labels: Record<string, string>): number | undefined =>
      series.get(
        seriesKey(name, {
          otel_scope_name: '@bearer-guard/opentelemetry',
          otel_scope_version: '0.1.0',
          ...labels,
        }),
      )?.value
    const a = { bearer_guard_issuer: issuer.issuer }
    const b = { bearer_guard_issuer: down.issuer }

    const verifications = (outcome: string, cached: boolean, issuerLabel = {}) =>
      value('bearer_guard_verifications_total', {
        bearer_guard_verification_outcome: outcome,
        bearer_guard_verification_cached: String(cached),
        ...issuerLabel,
      })
    expect(verifications('ok', false, a)).toBe(2)
    expect(verifications('ok', true, a)).toBe(1)
    // Refusals carry no issuer: a refused token's `iss` is not verified.
    for (const code of [
      'ERR_MISSING_CREDENTIALS',
      'ERR_TOKEN_EXPIRED',
      'ERR_TOKEN_ISSUER_INVALID',
      'ERR_KEYSET_UNAVAILABLE', // the 503
    ]) {
      expect(verifications(code, false), code).toBe(1)
    }
    const fetches = 'bearer_guard_keyset_fetch_duration_count'
    expect(value(fetches, { ...a, bearer_guard_keyset_fetch_reason: 'initial' })).toBe(1)
    expect(
      value(fetches, {
        ...b,
        bearer_guard_keyset_fetch_reason: 'initial',
        error_type: 'AggregateError',
      }),
    ).toBe(1)
    expect(value('bearer_guard_keyset_key_count', a)).toBe(1)

    // The API's own port does not serve the metrics: the guard asks for a token.
    expect(await get('/metrics')).toBe(401)

    // No token, and no part of one, in the scrape.
    for (const sent of tokens) {
      for (const part of sent.split('.')) expect(scrape).not.toContain(part)
    }
    expect(scrape).not.toContain('user-123')
    expect(scrape).not.toContain('unlisted.example.com')

    // The README's sample is a scrape of this very sequence.
    const sample = parseExposition(readmeSample())
    expect(sample.size).toBeGreaterThan(10)
    for (const shown of sample.values()) {
      const real = series.get(shown.key)
      expect(real, `README series ${shown.key}`).toBeDefined()
      if (/_(total|count)$/.test(shown.name) || shown.name === 'bearer_guard_keyset_key_count') {
        expect(real?.value, `README value of ${shown.key}`).toBe(shown.value)
      }
    }
  })
})
