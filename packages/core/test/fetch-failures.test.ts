import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { createTestIssuer, type Fault, type TestIssuer } from '@bearer-guard/testing'
import nock from 'nock'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createAccessTokenValidator, type AccessTokenValidatorOptions } from '../src/index.js'
import { AUDIENCE, expectUnavailable, manualClock, type ManualClock } from './support/helpers.js'

// How discovery and JWKS requests fail: every failure with no keys cached is a 503 with
// Retry-After and the `temporarily_unavailable` body, never a 401 and never a hang. Most cases use
// the real issuer on loopback (with `jwksUri`, so only the JWKS request is involved); nock serves
// shapes a real server cannot easily produce.

let issuer: TestIssuer
let clock: ManualClock

beforeAll(async () => {
  nock.disableNetConnect()
  nock.enableNetConnect('127.0.0.1')
  clock = manualClock()
  issuer = await createTestIssuer({ clock: clock.now })
})

afterEach(() => {
  issuer.fail('all', null)
  issuer.resetCounts()
  expect(nock.pendingMocks()).toEqual([])
  nock.cleanAll()
})

afterAll(async () => {
  nock.enableNetConnect()
  await issuer.close()
})

/** A validator of `issuer` that skips discovery, so the JWKS request is the only one. */
function direct(options: Partial<AccessTokenValidatorOptions> = {}) {
  return createAccessTokenValidator({
    issuer: issuer.issuer,
    audience: AUDIENCE,
    jwksUri: issuer.jwksUri,
    clock: clock.now,
    ...options,
  })
}

/** Asserts that the JWKS failing with `fault` gives a 503 after exactly one JWKS request. */
async function expectFaultUnavailable(
  fault: Fault,
  options: Partial<AccessTokenValidatorOptions> = {},
): Promise<void> {
  issuer.fail('jwks', fault)
  await expectUnavailable(direct(options).verify(await issuer.mint()), options.retryAfter ?? 10)
  expect(issuer.requests.jwks).toBe(1)
}

const realJwks = () => JSON.stringify({ keys: [issuer.activeKey.publicJwk] })

describe('fetch failures with no keys cached: 503 with Retry-After', () => {
  it('JWKS answering 500 → 503, Retry-After 10 by default', async () => {
    await expectFaultUnavailable({ kind: 'status', status: 500, body: 'boom' })
  })

  it('Retry-After follows the retryAfter option', async () => {
    await expectFaultUnavailable({ kind: 'status', status: 503 }, { retryAfter: 42 })
  })

  it('JWKS answering 404, or 200 with no body, → 503', async () => {
    await expectFaultUnavailable({ kind: 'status', status: 404, body: realJwks() })
    issuer.resetCounts()
    await expectFaultUnavailable({ kind: 'status', status: 204 })
  })

  it('does not follow a 302 redirect, even to a valid JWKS', async () => {
    const target = await createTestIssuer()
    try {
      // The target serves the same key, so following the redirect would make the token pass.
      target.publishKey(issuer.activeKey)
      for (const status of [301, 302, 303, 307, 308]) {
        issuer.resetCounts()
        await expectFaultUnavailable({
          kind: 'status',
          status,
          headers: { location: target.jwksUri },
        })
      }
      expect(target.requests.jwks).toBe(0)
    } finally {
      await target.close()
    }
  })

  it('refuses a redirected response even from a custom fetch that follows redirects', async () => {
    const target = await createTestIssuer()
    try {
      target.publishKey(issuer.activeKey)
      issuer.fail('jwks', { kind: 'status', status: 302, headers: { location: target.jwksUri } })
      const validator = direct({
        fetch: (input, init) => globalThis.fetch(input, { ...init, redirect: 'follow' }),
      })
      await expectUnavailable(validator.verify(await issuer.mint()))
      // The custom fetch did follow it: the answer was still not used.
      expect(target.requests.jwks).toBe(1)
    } finally {
      await target.close()
    }
  })

  it('a response larger than maxResponseSize with Content-Length → 503', async () => {
    const body = JSON.stringify({ keys: [issuer.activeKey.publicJwk], pad: 'x'.repeat(4096) })
    await expectFaultUnavailable({ kind: 'body', body }, { maxResponseSize: 4096 })
    // Control: the same document within the limit is accepted.
    issuer.resetCounts()
    await direct({ maxResponseSize: 8192 }).verify(await issuer.mint())
    expect(issuer.requests.jwks).toBe(1)
  })

  it('a streamed response larger than maxResponseSize without Content-Length → 503', async () => {
    const jwksUri = 'https://keys.example.com/jwks'
    const document = JSON.stringify({ keys: [issuer.activeKey.publicJwk], pad: 'x'.repeat(8192) })
    const chunks = document.match(/[\s\S]{1,512}/g) ?? []
    let served = 0
    nock('https://keys.example.com')
      .get('/jwks')
      .times(2)
      .reply(200, () => {
        served += 1
        return Readable.from(chunks)
      })
    const validator = direct({ jwksUri, maxResponseSize: 4096 })
    await expectUnavailable(validator.verify(await issuer.mint()))
    // Control: a limit above the size accepts the same stream.
    clock.advance(30_000)
    await direct({ jwksUri, maxResponseSize: 16_384 }).verify(await issuer.mint())
    expect(served).toBe(2)
  })

  it('stops reading an endless body once past maxResponseSize', async () => {
    let pulled = 0
    let cancelled = false
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1024
        controller.enqueue(new Uint8Array(1024).fill(0x20))
      },
      cancel() {
        cancelled = true
      },
    })
    const validator = direct({
      maxResponseSize: 10_000,
      fetch: () => Promise.resolve(new Response(endless, { status: 200 })),
    })
    await expectUnavailable(validator.verify(await issuer.mint()))
    expect(pulled).toBeLessThan(64 * 1024)
    expect(cancelled).toBe(true)
  })

  it('a non-JSON (garbage) body → 503', async () => {
    await expectFaultUnavailable({ kind: 'garbage' })
  })

  it('a body that is not UTF-8 → 503', async () => {
    nock('https://keys.example.com')
      .get('/jwks')
      .reply(200, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { 'content-type': 'application/json' })
    await expectUnavailable(
      direct({ jwksUri: 'https://keys.example.com/jwks' }).verify(await issuer.mint()),
    )
  })

  it('JSON without a "keys" array → 503', async () => {
    for (const body of ['{}', '{"keys":{}}', '{"keys":"x"}', '[]', 'null', '"keys"']) {
      issuer.resetCounts()
      await expectFaultUnavailable({ kind: 'body', body })
    }
  })

  it('a connection reset → 503', async () => {
    await expectFaultUnavailable({ kind: 'reset' })
  })

  it('a JWKS that never answers → 503 within roughly fetchTimeout', async () => {
    const started = Date.now()
    await expectFaultUnavailable({ kind: 'hang' }, { fetchTimeout: 0.2 })
    expect(Date.now() - started).toBeLessThan(3_000)
  })

  it('discovery that never answers → 503 within roughly fetchTimeout per document', async () => {
    issuer.fail('discovery', { kind: 'hang' })
    const validator = createAccessTokenValidator({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      clock: clock.now,
      fetchTimeout: 0.2,
    })
    const started = Date.now()
    await expectUnavailable(validator.verify(await issuer.mint()))
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(issuer.requests.jwks).toBe(0)
  })

  it('a body that stalls after the headers → 503 within roughly fetchTimeout', async () => {
    const stalling: Server = createServer((_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.write('{"keys":[')
    })
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = stalling.address() as AddressInfo
      const started = Date.now()
      await expectUnavailable(
        direct({ jwksUri: `http://127.0.0.1:${port}/jwks`, fetchTimeout: 0.2 }).verify(
          await issuer.mint(),
        ),
      )
      expect(Date.now() - started).toBeLessThan(3_000)
    } finally {
      stalling.closeAllConnections()
      await new Promise<void>((resolve) => {
        stalling.close(() => {
          resolve()
        })
      })
    }
  })

  // Regression: the timeout relied on `fetch` honouring its signal. A custom fetch that ignores it
  // (or whose body is not tied to it) left the single in-flight load pending forever, and with it
  // every request waiting on the key set.
  it('enforces fetchTimeout even when a custom fetch ignores the abort signal', async () => {
    const neverAnswers = direct({ fetchTimeout: 0.2, fetch: () => new Promise<Response>(() => {}) })
    let started = Date.now()
    await expectUnavailable(neverAnswers.verify(await issuer.mint()))
    expect(Date.now() - started).toBeLessThan(3_000)

    const stalledBody = direct({
      fetchTimeout: 0.2,
      fetch: () =>
        Promise.resolve(
          new Response(
            new ReadableStream<Uint8Array>({
              pull: () => new Promise<void>(() => {}),
            }),
            { status: 200 },
          ),
        ),
    })
    started = Date.now()
    await expectUnavailable(stalledBody.verify(await issuer.mint()))
    expect(Date.now() - started).toBeLessThan(3_000)
  })
})

describe('fetch failures: backoff and recovery', () => {
  it('fails fast without a request right after a failure, and works once the IdP is back', async () => {
    const validator = direct()
    issuer.fail('jwks', { kind: 'status', status: 500 })
    await expectUnavailable(validator.verify(await issuer.mint()))
    expect(issuer.requests.jwks).toBe(1)

    // Backing off: answered at once, no request, even though the IdP has recovered.
    issuer.fail('jwks', null)
    clock.advance(500)
    await expectUnavailable(validator.verify(await issuer.mint()))
    expect(issuer.requests.jwks).toBe(1)

    clock.advance(30_000)
    const auth = await validator.verify(await issuer.mint({ sub: 'recovered' }))
    expect(auth.claims.sub).toBe('recovered')
    expect(issuer.requests.jwks).toBe(2)
  })

  it('backs off longer after repeated failures, capped, and resets after a success', async () => {
    const validator = direct()
    issuer.fail('jwks', { kind: 'status', status: 500 })
    await expectUnavailable(validator.verify(await issuer.mint())) // backoff 1 s
    clock.advance(1_000)
    await expectUnavailable(validator.verify(await issuer.mint())) // backoff 2 s
    clock.advance(1_999)
    await expectUnavailable(validator.verify(await issuer.mint()))
    expect(issuer.requests.jwks).toBe(2)
    clock.advance(1)
    await expectUnavailable(validator.verify(await issuer.mint()))
    expect(issuer.requests.jwks).toBe(3)

    // Many failures: each retry after 30 s makes one request and answers the configured
    // Retry-After; the backoff doubles but is capped at 30 s (uncapped it would reach hours).
    for (let i = 0; i < 8; i += 1) {
      clock.advance(30_000)
      await expectUnavailable(validator.verify(await issuer.mint()))
    }
    expect(issuer.requests.jwks).toBe(11)
    // During the backoff, Retry-After never promises less than the time left.
    await expectUnavailable(validator.verify(await issuer.mint()), 30)
    clock.advance(29_000)
    await expectUnavailable(validator.verify(await issuer.mint()), 10)
    expect(issuer.requests.jwks).toBe(11)

    issuer.fail('jwks', null)
    clock.advance(1_000)
    await validator.verify(await issuer.mint())
    expect(issuer.requests.jwks).toBe(12)
  })

  it('concurrent requests during a failing load share it: one request, all 503', async () => {
    const validator = direct()
    issuer.fail('jwks', { kind: 'status', status: 502 })
    const tokens = await Promise.all(Array.from({ length: 20 }, () => issuer.mint()))
    const results = await Promise.allSettled(tokens.map((token) => validator.verify(token)))
    for (const result of results) {
      expect(result.status).toBe('rejected')
      await expectUnavailable(Promise.reject((result as PromiseRejectedResult).reason as Error))
    }
    expect(issuer.requests.jwks).toBe(1)
  })
})
