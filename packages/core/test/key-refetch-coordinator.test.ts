/**
 * `keyRefetchCoordinator`: unknown-`kid` refetches shared by the instances of a fleet. Several
 * validators in one process stand for the instances; the coordinator they share here keeps its
 * state in memory, the interface's simplest honest implementation (the Redis one is tested in
 * @bearer-guard/redis, and the fleet of example processes in test/fleet.test.ts).
 */
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createAccessTokenValidator,
  type AccessTokenValidator,
  type KeyRefetchCoordinator,
} from '../src/index.js'
import { AUDIENCE, expectInvalid, manualClock } from './support/helpers.js'

/** One fleet's shared state, in memory: a claim per issuer and period, the published kids. */
function sharedCoordinator(now: () => number) {
  const claims = new Map<string, number>()
  const published = new Map<string, { kids: readonly string[]; until: number }>()
  const calls = { claim: 0, won: 0, publish: 0, lookup: 0 }
  const coordinator: KeyRefetchCoordinator = {
    claim(issuer, ttl) {
      calls.claim += 1
      const until = claims.get(issuer)
      if (until !== undefined && until > now()) return false
      claims.set(issuer, now() + ttl)
      // A new period: what the previous winner published is stale.
      published.delete(issuer)
      calls.won += 1
      return true
    },
    publish(issuer, kids, ttl) {
      calls.publish += 1
      published.set(issuer, { kids, until: now() + ttl })
    },
    lookup(issuer) {
      calls.lookup += 1
      const entry = published.get(issuer)
      return entry !== undefined && entry.until > now() ? entry.kids : undefined
    },
  }
  return { coordinator, calls }
}

let issuer: TestIssuer | undefined
afterEach(async () => {
  await issuer?.close()
  issuer = undefined
})

async function fleet(size: number, coordinator: KeyRefetchCoordinator | undefined) {
  const clock = manualClock()
  issuer = await createTestIssuer({ clock: clock.now })
  const it = issuer
  const instances: AccessTokenValidator[] = Array.from({ length: size }, () =>
    createAccessTokenValidator({
      issuer: it.issuer,
      audience: AUDIENCE,
      clock: clock.now,
      unknownKeyCooldown: 30,
      ...(coordinator && { keyRefetchCoordinator: coordinator }),
    }),
  )
  // Every instance loads its keys once.
  await Promise.all(instances.map(async (v) => v.verify(await it.mint())))
  expect(it.requests.jwks).toBe(size)
  return { issuer: it, clock, instances }
}

describe('keyRefetchCoordinator: one unknown-kid refetch per cooldown for the fleet', () => {
  it('a flood of made-up kids across 4 instances costs one JWKS fetch, not 4', async () => {
    const shared = sharedCoordinator(Date.now)
    const { issuer, instances } = await fleet(4, shared.coordinator)
    const flood = await Promise.all(
      Array.from({ length: 40 }, (_, i) => issuer.mint({}, { header: { kid: `made-up-${i}` } })),
    )
    await Promise.all(
      flood.map((token, i) =>
        expectInvalid(
          (instances[i % 4] as AccessTokenValidator).verify(token),
          'ERR_TOKEN_KEY_NOT_FOUND',
        ),
      ),
    )
    expect(issuer.requests.jwks).toBe(4 + 1)
    expect(shared.calls.won).toBe(1)
  })

  it('without a coordinator, the same flood costs one fetch per instance', async () => {
    const { issuer, instances } = await fleet(4, undefined)
    const flood = await Promise.all(
      Array.from({ length: 40 }, (_, i) => issuer.mint({}, { header: { kid: `made-up-${i}` } })),
    )
    await Promise.all(
      flood.map((token, i) =>
        expectInvalid(
          (instances[i % 4] as AccessTokenValidator).verify(token),
          'ERR_TOKEN_KEY_NOT_FOUND',
        ),
      ),
    )
    expect(issuer.requests.jwks).toBe(4 + 4)
  })

  it('a real rotation: the winner publishes the new kid, each instance fetches its own keys and accepts', async () => {
    const shared = sharedCoordinator(Date.now)
    const { issuer, instances } = await fleet(4, shared.coordinator)
    const added = await issuer.generateKey()
    issuer.publishKey(added)
    const tokens = await Promise.all(
      instances.map((_, i) => issuer.mint({ sub: `after-rotation-${i}` }, { key: added })),
    )
    const subjects = await Promise.all(
      instances.map(async (v, i) => (await v.verify(tokens[i] as string)).claims.sub),
    )
    expect(subjects).toEqual(instances.map((_, i) => `after-rotation-${i}`))
    // Keys never travel through the coordinator: each instance fetched the new set itself.
    expect(issuer.requests.jwks).toBe(4 + 4)
    expect(shared.calls.won).toBe(1)
  })

  it('a failing coordinator is bypassed: each instance refetches on its own, tokens still verify', async () => {
    const broken: KeyRefetchCoordinator = {
      claim: () => Promise.reject(new Error('store down')),
      publish: () => Promise.reject(new Error('store down')),
      lookup: () => Promise.reject(new Error('store down')),
    }
    const { issuer, instances } = await fleet(2, broken)
    const added = await issuer.generateKey()
    issuer.publishKey(added)
    for (const v of instances) {
      expect((await v.verify(await issuer.mint({ sub: 'ok' }, { key: added }))).claims.sub).toBe(
        'ok',
      )
    }
    expect(issuer.requests.jwks).toBe(2 + 2)
  })

  it('an instance that lost the claim and never sees a result answers by itself after the fetch timeout', async () => {
    const silent: KeyRefetchCoordinator = {
      claim: () => false,
      publish: () => undefined,
      lookup: () => undefined,
    }
    const clock = manualClock()
    issuer = await createTestIssuer({ clock: clock.now })
    const it = issuer
    const v = createAccessTokenValidator({
      issuer: it.issuer,
      audience: AUDIENCE,
      clock: clock.now,
      fetchTimeout: 0.1,
      keyRefetchCoordinator: silent,
    })
    await v.verify(await it.mint())
    const started = performance.now()
    await expectInvalid(
      v.verify(await it.mint({}, { header: { kid: 'made-up' } })),
      'ERR_TOKEN_KEY_NOT_FOUND',
    )
    expect(performance.now() - started).toBeLessThan(5_000)
    expect(it.requests.jwks).toBe(1)
  })

  it('is checked at start-up', () => {
    expect(() =>
      createAccessTokenValidator({
        issuer: 'https://issuer.example.com',
        audience: AUDIENCE,
        keyRefetchCoordinator: { claim: () => true } as unknown as KeyRefetchCoordinator,
      }),
    ).toThrow(/keyRefetchCoordinator/)
  })
})
