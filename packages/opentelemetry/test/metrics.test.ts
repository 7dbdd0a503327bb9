/**
 * The bridge against a real OpenTelemetry SDK MeterProvider (a pull reader) and real
 * verifications: tokens minted by the in-process test issuer, keys fetched over loopback HTTP,
 * failures injected into that issuer.
 */
import { channel } from 'node:diagnostics_channel'
import { readFileSync } from 'node:fs'
import {
  DiagLogLevel,
  diag,
  metrics,
  type Histogram,
  type DiagLogger,
  type Meter,
  type MeterProvider,
} from '@opentelemetry/api'
import { channels, createAccessTokenValidator, type AccessTokenValidator } from '@bearer-guard/core'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { recordMetrics } from '../src/index.js'
import { VERSION } from '../src/version.js'
import { attributeValues, testMeter, type TestMeter } from './support/metrics.js'

const audience = 'https://api.example.com'
const now = (): number => Math.floor(Date.now() / 1000)

const VERIFICATIONS = 'bearer_guard.verifications'
const FETCH_DURATION = 'bearer_guard.keyset.fetch.duration'
const KEY_COUNT = 'bearer_guard.keyset.key.count'
const STALE_USES = 'bearer_guard.keyset.stale_uses'
const OUTCOME = 'bearer_guard.verification.outcome'
const CACHED = 'bearer_guard.verification.cached'
const ISSUER = 'bearer_guard.issuer'
const REASON = 'bearer_guard.keyset.fetch.reason'

const CORE_CHANNELS = [
  channels.verify,
  channels.keySetFetchEnd,
  channels.keySetFetchError,
  channels.keySetStale,
].map((name) => channel(name))

// Whatever a test leaves subscribed or registered is undone, so no test sees another's events.
const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const undo of cleanup.splice(0).reverse()) await undo()
})

/** A real MeterProvider, subscribed with `options`; both undone after the test. */
function subscribed(options: { maxIssuers?: number } = {}): TestMeter {
  const meter = testMeter()
  const stop = recordMetrics({ meterProvider: meter.meterProvider, ...options })
  cleanup.push(() => meter.shutdown(), stop)
  return meter
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; status: number }> {
  try {
    await promise
  } catch (error) {
    return error as { code: string; status: number }
  }
  throw new Error('expected a refusal')
}

describe('verifications', () => {
  let issuer: TestIssuer
  beforeAll(async () => {
    issuer = await createTestIssuer({ algorithm: 'ES256', audience })
  })
  afterAll(() => issuer.close())

  it('are counted by outcome (ok or the stable error code), cache hit and verified issuer', async () => {
    const meter = subscribed()
    const validator = createAccessTokenValidator({ issuer: issuer.issuer, audience })
    const token = await issuer.mint({ scope: 'orders:read' })
    const expired = await issuer.mint({ iat: now() - 7200, exp: now() - 3600 })
    const otherAudience = await issuer.mint({ aud: 'https://other.example.com' })
    const foreign = await issuer.mint({}, { key: await issuer.generateKey() })

    await validator.verify(token)
    await validator.verify(token) // the verified-token cache answers
    expect(await refusal(validator.verify(expired))).toMatchObject({ code: 'ERR_TOKEN_EXPIRED' })
    expect(await refusal(validator.verify(otherAudience))).toMatchObject({
      code: 'ERR_TOKEN_AUDIENCE_INVALID',
    })
    // An unknown kid: one refetch (reason unknown-kid), then refused.
    expect(await refusal(validator.verify(foreign))).toMatchObject({
      code: 'ERR_TOKEN_KEY_NOT_FOUND',
    })
    expect(await refusal(validator.verifyRequest({ headers: {} }))).toMatchObject({
      code: 'ERR_MISSING_CREDENTIALS',
    })

    const collected = await meter.collect()
    const verifications = collected.points(VERIFICATIONS)
    // A refused token's `iss` is not verified: refusals carry no issuer.
    expect(verifications.map((p) => p.attributes)).toEqual(
      expect.arrayContaining([
        { [OUTCOME]: 'ok', [CACHED]: false, [ISSUER]: issuer.issuer },
        { [OUTCOME]: 'ok', [CACHED]: true, [ISSUER]: issuer.issuer },
        { [OUTCOME]: 'ERR_TOKEN_EXPIRED', [CACHED]: false },
        { [OUTCOME]: 'ERR_TOKEN_AUDIENCE_INVALID', [CACHED]: false },
        { [OUTCOME]: 'ERR_TOKEN_KEY_NOT_FOUND', [CACHED]: false },
        { [OUTCOME]: 'ERR_MISSING_CREDENTIALS', [CACHED]: false },
      ]),
    )
    expect(verifications).toHaveLength(6)
    expect(verifications.every((p) => p.value === 1)).toBe(true)
    expect(collected.metrics.get(VERIFICATIONS)?.descriptor).toMatchObject({
      unit: '{verification}',
    })

    // Key-set loads: the first (discovery + JWKS), and the refetch for the unknown kid.
    const fetches = collected.points(FETCH_DURATION)
    expect(fetches.map((p) => p.attributes)).toEqual([
      { [ISSUER]: issuer.issuer, [REASON]: 'initial' },
      { [ISSUER]: issuer.issuer, [REASON]: 'unknown-kid' },
    ])
    for (const fetch of fetches) {
      expect(fetch.value).toBe(1)
      // Seconds, not milliseconds: two loopback requests take well under a second.
      expect(fetch.sum).toBeGreaterThan(0)
      expect(fetch.sum).toBeLessThan(1)
      expect(fetch.boundaries).toEqual([
        0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
      ])
    }
    expect(collected.metrics.get(FETCH_DURATION)?.descriptor).toMatchObject({ unit: 's' })
    expect(collected.value(KEY_COUNT, { [ISSUER]: issuer.issuer })).toBe(issuer.keys.length)

    // Bounded, and nothing of a token: no part of one, no claim value, no kid.
    const values = attributeValues(collected)
    for (const sent of [token, expired, otherAudience, foreign]) {
      for (const part of sent.split('.')) {
        expect(values.some((value) => value.includes(part))).toBe(false)
      }
    }
    for (const secret of ['user-123', 'test-client', 'orders:read', issuer.activeKey.kid]) {
      expect(values).not.toContain(secret)
    }
  })

  it('are not built by core until recordMetrics is called, nor after it is undone', async () => {
    const validator = createAccessTokenValidator({ issuer: issuer.issuer, audience })
    const token = await issuer.mint()
    // Nobody listens: core's `hasSubscribers` checks skip building every event.
    expect(CORE_CHANNELS.map((c) => c.hasSubscribers)).toEqual([false, false, false, false])

    const meter = testMeter()
    cleanup.push(() => meter.shutdown())
    const stop = recordMetrics({ meterProvider: meter.meterProvider })
    expect(CORE_CHANNELS.map((c) => c.hasSubscribers)).toEqual([true, true, true, true])
    await validator.verify(token)
    const once = [
      {
        attributes: { [OUTCOME]: 'ok', [CACHED]: false, [ISSUER]: issuer.issuer },
        value: 1,
      },
    ]
    expect((await meter.collect()).points(VERIFICATIONS)).toEqual(once)

    stop()
    stop() // a second call does nothing
    expect(CORE_CHANNELS.map((c) => c.hasSubscribers)).toEqual([false, false, false, false])
    await validator.verify(token)
    await validator.verify(await issuer.mint())
    // The SDK keeps the last cumulative value; the two verifications after stop() are not in it.
    expect((await meter.collect()).points(VERIFICATIONS)).toEqual(once)
  })
})

describe('key sets', () => {
  const issuers: TestIssuer[] = []
  afterAll(() => Promise.all(issuers.map((i) => i.close())))
  async function fresh(options: Parameters<typeof createTestIssuer>[0] = {}): Promise<TestIssuer> {
    const issuer = await createTestIssuer({ algorithm: 'ES256', audience, ...options })
    issuers.push(issuer)
    return issuer
  }

  it('a load that fails is a fetch with error.type, and its 503 an ERR_KEYSET_UNAVAILABLE verification', async () => {
    const meter = subscribed()
    const down = await fresh()
    down.fail('all', { kind: 'status', status: 500 })
    const discovered = createAccessTokenValidator({ issuer: down.issuer, audience })
    const direct = createAccessTokenValidator({
      issuer: down.issuer,
      audience,
      jwksUri: down.jwksUri,
    })
    const token = await down.mint()
    expect(await refusal(discovered.verify(token))).toMatchObject({
      code: 'ERR_KEYSET_UNAVAILABLE',
      status: 503,
    })
    expect(await refusal(direct.verify(token))).toMatchObject({ status: 503 })

    const collected = await meter.collect()
    // Every discovery URL failed: AggregateError; the JWKS itself answered 500: FetchFailure.
    expect(collected.points(FETCH_DURATION).map((p) => [p.attributes, p.value])).toEqual([
      [{ [ISSUER]: down.issuer, [REASON]: 'initial', 'error.type': 'AggregateError' }, 1],
      [{ [ISSUER]: down.issuer, [REASON]: 'initial', 'error.type': 'FetchFailure' }, 1],
    ])
    expect(
      collected.value(VERIFICATIONS, { [OUTCOME]: 'ERR_KEYSET_UNAVAILABLE', [CACHED]: false }),
    ).toBe(2)
    // No message, no URL but the issuer's own: the error's class name only.
    const values = attributeValues(collected)
    expect(values.filter((v) => /\s|jwks|well-known|HTTP/.test(v))).toEqual([])
  })

  it('keys past their max-age are counted per use while the refresh fails', async () => {
    const meter = subscribed()
    const issuer = await fresh({ tokenLifetime: 3600 })
    let clock = Date.now()
    const validator: AccessTokenValidator = createAccessTokenValidator({
      issuer: issuer.issuer,
      audience,
      clock: () => clock,
    })
    const token = await issuer.mint()
    await validator.verify(token)

    // The JWKS said max-age=300; the issuer is now down.
    issuer.fail('all', { kind: 'status', status: 503 })
    clock += 301_000
    await validator.verify(token) // served with the stale keys; a refresh starts behind it
    await vi.waitFor(async () => {
      const collected = await meter.collect()
      expect(
        collected.value(FETCH_DURATION, {
          [ISSUER]: issuer.issuer,
          [REASON]: 'refresh',
          'error.type': 'FetchFailure',
        }),
      ).toBe(1)
    })
    await validator.verify(token) // still served (staleIfError), the refresh backing off

    const collected = await meter.collect()
    expect(collected.points(STALE_USES)).toEqual([
      { attributes: { [ISSUER]: issuer.issuer }, value: 2 },
    ])
    expect(
      collected.value(VERIFICATIONS, { [OUTCOME]: 'ok', [CACHED]: true, [ISSUER]: issuer.issuer }),
    ).toBe(2)
  })

  it('maxIssuers bounds the issuer values (the first seen keep theirs, later ones are _OTHER); 0 drops the attribute', async () => {
    const [a, b] = [await fresh(), await fresh()]
    const capped = subscribed({ maxIssuers: 1 })
    const none = subscribed({ maxIssuers: 0 })
    const validator = createAccessTokenValidator({ issuer: [a.issuer, b.issuer], audience })
    await validator.verify(await a.mint())
    await validator.verify(await b.mint())

    const one = await capped.collect()
    expect(one.points(VERIFICATIONS).map((p) => p.attributes[ISSUER])).toEqual([a.issuer, '_OTHER'])
    expect(one.points(FETCH_DURATION).map((p) => p.attributes[ISSUER])).toEqual([
      a.issuer,
      '_OTHER',
    ])
    // A last value shared by many issuers would mean nothing: kept for named issuers only.
    expect(one.points(KEY_COUNT).map((p) => p.attributes)).toEqual([{ [ISSUER]: a.issuer }])

    const zero = await none.collect()
    expect(zero.points(VERIFICATIONS)).toEqual([
      { attributes: { [OUTCOME]: 'ok', [CACHED]: false }, value: 2 },
    ])
    expect(zero.points(FETCH_DURATION).map((p) => [p.attributes, p.value])).toEqual([
      [{ [REASON]: 'initial' }, 2],
    ])
    expect(zero.points(KEY_COUNT)).toEqual([])
  })
})

describe('the provider', () => {
  let issuer: TestIssuer
  beforeAll(async () => {
    issuer = await createTestIssuer({ audience })
  })
  afterAll(() => issuer.close())

  it('is the global one by default; while none is registered nothing is subscribed, and diag says so', async () => {
    const warnings: string[] = []
    const logger: DiagLogger = {
      error: () => undefined,
      warn: (message) => warnings.push(message),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    }
    diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true })
    cleanup.push(() => {
      diag.disable()
    })
    metrics.disable()

    const idle = recordMetrics()
    expect(CORE_CHANNELS.map((c) => c.hasSubscribers)).toEqual([false, false, false, false])
    expect(warnings).toEqual([expect.stringContaining('no MeterProvider is registered')])
    idle()

    const meter = testMeter()
    metrics.setGlobalMeterProvider(meter.meterProvider)
    cleanup.push(
      () => meter.shutdown(),
      () => {
        metrics.disable()
      },
    )
    cleanup.push(recordMetrics())
    const validator = createAccessTokenValidator({ issuer: issuer.issuer, audience })
    await validator.verify(await issuer.mint())
    const collected = await meter.collect()
    expect(
      collected.value(VERIFICATIONS, { [OUTCOME]: 'ok', [CACHED]: false, [ISSUER]: issuer.issuer }),
    ).toBe(1)
    const scope = collected.resourceMetrics.scopeMetrics.find(
      (s) => s.scope.name === '@bearer-guard/opentelemetry',
    )?.scope
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string
    }
    expect(scope?.version).toBe(pkg.version)
    expect(VERSION).toBe(pkg.version)
  })

  it('options are checked once: unknown names (with the closest known one) and bad values are refused', () => {
    const meterProvider = testMeter().meterProvider
    expect(() => recordMetrics({ meterProvider, maxIssuer: 5 } as never)).toThrow(
      /has no option 'maxIssuer'; did you mean 'maxIssuers'\?/,
    )
    for (const maxIssuers of [-1, 1.5, Number.NaN, Infinity, '5']) {
      expect(() => recordMetrics({ meterProvider, maxIssuers: maxIssuers as number })).toThrow(
        TypeError,
      )
    }
    expect(() => recordMetrics({ meterProvider: {} as MeterProvider })).toThrow(
      /meterProvider must be an OpenTelemetry MeterProvider/,
    )
    expect(() => recordMetrics(null as never)).toThrow(TypeError)
    // Nothing was subscribed by a refused call.
    expect(CORE_CHANNELS.map((c) => c.hasSubscribers)).toEqual([false, false, false, false])
  })

  it('an instrument that throws never reaches the request: the key set loads, the verification answers', async () => {
    const errors: unknown[] = []
    diag.setLogger(
      {
        error: (...args) => errors.push(args),
        warn: () => undefined,
        info: () => undefined,
        debug: () => undefined,
        verbose: () => undefined,
      },
      { logLevel: DiagLogLevel.ERROR, suppressOverrideMessage: true },
    )
    cleanup.push(() => {
      diag.disable()
    })
    // A provider whose histograms throw (a broken exporter pipeline, say): a failure shape.
    const real = testMeter()
    cleanup.push(() => real.shutdown())
    const broken: MeterProvider = {
      getMeter(name, version, options) {
        const meter = real.meterProvider.getMeter(name, version, options)
        return Object.assign(Object.create(meter) as Meter, {
          createHistogram: (): Histogram => ({
            record() {
              throw new Error('exporter pipeline broken')
            },
          }),
        })
      },
    }
    cleanup.push(recordMetrics({ meterProvider: broken }))
    const uncaught = vi.fn()
    process.on('uncaughtException', uncaught)
    cleanup.push(() => process.off('uncaughtException', uncaught))

    const validator = createAccessTokenValidator({ issuer: issuer.issuer, audience })
    const auth = await validator.verify(await issuer.mint())
    expect(auth.claims.sub).toBe('user-123')
    await new Promise((resolve) => setImmediate(resolve))
    expect(uncaught).not.toHaveBeenCalled()
    expect(errors).not.toHaveLength(0)
  })

  it('events from any publisher map to closed sets of values (_OTHER) and never throw', async () => {
    const meter = subscribed()
    channel(channels.verify).publish({ outcome: '<script>', issuer: 42, cached: 'yes' })
    channel(channels.verify).publish(null)
    channel(channels.verify).publish('ok')
    channel(channels.keySetFetchError).publish({
      issuer: 'https://a.example/',
      reason: 'because',
      durationMs: -5,
      error: 'a string',
    })
    const collected = await meter.collect()
    expect(collected.points(VERIFICATIONS)).toEqual([
      { attributes: { [OUTCOME]: '_OTHER', [CACHED]: false }, value: 1 },
    ])
    expect(collected.points(FETCH_DURATION)).toMatchObject([
      {
        attributes: {
          [ISSUER]: 'https://a.example/',
          [REASON]: '_OTHER',
          'error.type': '_OTHER',
        },
        value: 1,
        sum: 0,
      },
    ])
  })
})
