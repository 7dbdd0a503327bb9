import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  channels,
  createAccessTokenValidator,
  type AccessTokenValidatorOptions,
} from '../src/index.js'
import { AUDIENCE, manualClock, rejection, type ManualClock } from './support/helpers.js'

/** Collects the messages of every bearer-guard channel while a test runs. */
function record(): {
  events: { channel: string; message: Record<string, unknown> }[]
  stop: () => void
} {
  const events: { channel: string; message: Record<string, unknown> }[] = []
  const listeners = Object.values(channels).map((name) => {
    const listener = (message: unknown) => {
      events.push({ channel: name, message: message as Record<string, unknown> })
    }
    subscribe(name, listener)
    return [name, listener] as const
  })
  return {
    events,
    stop: () => {
      for (const [name, listener] of listeners) unsubscribe(name, listener)
    },
  }
}

/** `channel reason-or-outcome`, for compact assertions. */
function label(event: { channel: string; message: Record<string, unknown> }): string {
  const { reason, outcome } = event.message
  const detail = typeof reason === 'string' ? reason : typeof outcome === 'string' ? outcome : ''
  return `${event.channel} ${detail}`.trim()
}

describe('key-set age honours Cache-Control within bounds, with jitter', () => {
  let issuer: TestIssuer
  let clock: ManualClock
  const make = (options: Partial<AccessTokenValidatorOptions> = {}) =>
    createAccessTokenValidator({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      clock: clock.now,
      ...options,
    })
  const jwksWith = (cacheControl: string) => {
    issuer.fail('jwks', {
      kind: 'status',
      status: 200,
      body: JSON.stringify({ keys: issuer.keys.map((k) => k.publicJwk) }),
      headers: { 'content-type': 'application/json', 'cache-control': cacheControl },
    })
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 30))

  beforeEach(async () => {
    clock = manualClock()
    issuer = await createTestIssuer({ clock: clock.now })
  })
  afterEach(async () => {
    await issuer.close()
  })

  it('refreshes at a shorter max-age, never before 90% of it (jitter), always by 100%', async () => {
    jwksWith('public, max-age=120')
    const validator = make({ keySetMaxAge: 600 })
    await validator.verify(await issuer.mint({ jti: 'a' }))
    clock.advance(107_000)
    await validator.verify(await issuer.mint({ jti: 'b' }))
    await settle()
    expect(issuer.requests.jwks).toBe(1)
    clock.advance(14_000) // 121 s
    await validator.verify(await issuer.mint({ jti: 'c' }))
    await settle()
    expect(issuer.requests.jwks).toBe(2)
  })

  it('caps a longer max-age at keySetMaxAge and a max-age of 0 at keySetMinAge', async () => {
    jwksWith('max-age=86400')
    const capped = make({ keySetMaxAge: 100 })
    await capped.verify(await issuer.mint({ jti: 'a' }))
    clock.advance(101_000)
    await capped.verify(await issuer.mint({ jti: 'b' }))
    await settle()
    expect(issuer.requests.jwks).toBe(2)

    issuer.resetCounts()
    jwksWith('no-cache, max-age=0')
    const floored = make({ keySetMinAge: 60 })
    await floored.verify(await issuer.mint({ jti: 'c' }))
    for (const jti of ['d', 'e', 'f']) {
      clock.advance(10_000)
      await floored.verify(await issuer.mint({ jti }))
    }
    await settle()
    expect(issuer.requests.jwks).toBe(1)
  })
})

describe('diagnostics_channel events', () => {
  let issuer: TestIssuer
  let clock: ManualClock
  beforeEach(async () => {
    clock = manualClock()
    issuer = await createTestIssuer({ clock: clock.now })
  })
  afterEach(async () => {
    await issuer.close()
  })

  it('publishes fetch start/end with reason and duration, verify outcomes and cache hits', async () => {
    const validator = createAccessTokenValidator({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      clock: clock.now,
    })
    const token = await issuer.mint()
    const recorder = record()
    try {
      await validator.verify(token)
      await validator.verify(token)
      await rejection(validator.verifyRequest({ headers: { authorization: 'Basic x' } }))
      await rejection(validator.verify(await issuer.mint({ aud: 'other' })))
    } finally {
      recorder.stop()
    }
    const names = recorder.events.map(
      (e) => `${e.channel} ${String(e.message.reason ?? e.message.outcome)}`,
    )
    expect(names).toEqual([
      `${channels.keySetFetchStart} initial`,
      `${channels.keySetFetchEnd} initial`,
      `${channels.verify} ok`,
      `${channels.verify} ok`,
      `${channels.verify} ERR_MISSING_CREDENTIALS`,
      `${channels.verify} ERR_TOKEN_AUDIENCE_INVALID`,
    ])
    const verifies = recorder.events.filter((e) => e.channel === channels.verify)
    expect(verifies.map((e) => e.message.cached)).toEqual([false, true, false, false])
    const end = recorder.events[1]!.message
    expect(end).toMatchObject({ issuer: issuer.issuer, keys: 1 })
    expect(typeof end.durationMs).toBe('number')
  })

  it('publishes fetch errors, unknown-kid refetches and stale serving, never token content', async () => {
    const validator = createAccessTokenValidator({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      clock: clock.now,
      keySetMaxAge: 60,
      keySetMinAge: 0,
    })
    const recorder = record()
    const tokens: string[] = []
    try {
      issuer.fail('jwks', { kind: 'status', status: 500 })
      tokens.push(await issuer.mint())
      await rejection(validator.verify(tokens[0]!))
      issuer.fail('jwks', null)
      clock.advance(2_000)
      await validator.verify(tokens[0]!)
      const rotated = await issuer.rotate()
      tokens.push(await issuer.mint({}, { key: rotated }))
      await validator.verify(tokens[1]!)
      clock.advance(61_000)
      tokens.push(await issuer.mint({ jti: 'late' }))
      await validator.verify(tokens[2]!)
      await validator.ready()
    } finally {
      recorder.stop()
    }
    const seen = recorder.events.map(label)
    expect(seen).toContain(`${channels.keySetFetchError} initial`)
    expect(seen).toContain(`${channels.keySetFetchStart} unknown-kid`)
    expect(seen.some((s) => s.startsWith(channels.keySetStale))).toBe(true)
    expect(seen).toContain(`${channels.keySetFetchStart} refresh`)
    const serialised = JSON.stringify(recorder.events, (_key, value: unknown) =>
      value instanceof Error ? value.message : value,
    )
    for (const token of tokens) {
      for (const part of token.split('.')) expect(serialised).not.toContain(part)
    }
    expect(serialised).not.toContain(issuer.activeKey.kid)
  })
})
