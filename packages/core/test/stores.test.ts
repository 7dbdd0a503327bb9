/**
 * The memory stores: replay (RFC 9449 §11.1) and revocation. Bounded, and when full they refuse
 * rather than forget a live entry.
 */
import { describe, expect, it } from 'vitest'
import { ExpiringMap } from '../src/stores/expiring.js'
import { MemoryReplayStore, type ReplayStore } from '../src/stores/replay.js'
import { MemoryRevocationStore } from '../src/stores/revocation.js'
import { manualClock } from './support/helpers.js'

describe('MemoryReplayStore', () => {
  it('claims an id once until it expires, then again', () => {
    const clock = manualClock()
    const store = new MemoryReplayStore({ clock: clock.now })
    const until = clock.now() + 60_000
    expect(store.claimOnce('dpop:k1:a', until)).toBe(true)
    expect(store.claimOnce('dpop:k1:a', until)).toBe(false)
    expect(store.claimOnce('dpop:k2:a', until)).toBe(true) // the same jti under another key
    clock.advance(59_999)
    expect(store.claimOnce('dpop:k1:a', until)).toBe(false)
    clock.advance(1)
    expect(store.claimOnce('dpop:k1:a', clock.now() + 60_000)).toBe(true)
  })

  it('answers exactly one of many concurrent claims (atomic)', async () => {
    const store: ReplayStore = new MemoryReplayStore()
    const until = Date.now() + 60_000
    const results = await Promise.all(
      Array.from({ length: 50 }, () => Promise.resolve().then(() => store.claimOnce('x', until))),
    )
    expect(results.filter(Boolean)).toHaveLength(1)
  })

  it('when full of live entries, fails closed and forgets none of them', () => {
    const clock = manualClock()
    const store = new MemoryReplayStore({ maxEntries: 3, clock: clock.now })
    for (const id of ['a', 'b', 'c']) store.claimOnce(id, clock.now() + 60_000)
    expect(() => store.claimOnce('d', clock.now() + 60_000)).toThrow(RangeError)
    // Every live entry still refuses its replay.
    for (const id of ['a', 'b', 'c']) expect(store.claimOnce(id, clock.now() + 60_000)).toBe(false)
    expect(store.size).toBe(3)
  })

  it('makes room from expired entries only, wherever they are', () => {
    const clock = manualClock()
    const store = new MemoryReplayStore({ maxEntries: 3, clock: clock.now })
    store.claimOnce('long', clock.now() + 120_000)
    store.claimOnce('short', clock.now() + 10_000)
    store.claimOnce('mid', clock.now() + 60_000)
    clock.advance(10_000)
    // "short" expired behind a live entry: the full sweep finds it.
    expect(store.claimOnce('new', clock.now() + 60_000)).toBe(true)
    expect(store.claimOnce('long', clock.now() + 60_000)).toBe(false)
    expect(() => store.claimOnce('more', clock.now() + 60_000)).toThrow(RangeError)
    clock.advance(50_000)
    expect(store.claimOnce('more', clock.now() + 60_000)).toBe(true) // "mid" expired
    expect(store.claimOnce('new', clock.now() + 60_000)).toBe(false)
  })

  it('drops expired entries from the oldest end as it writes, staying near its live size', () => {
    const clock = manualClock()
    const store = new MemoryReplayStore({ clock: clock.now })
    for (let i = 0; i < 8; i++) store.claimOnce(`old-${i}`, clock.now() + 10_000)
    store.claimOnce('live', clock.now() + 60_000)
    clock.advance(10_000)
    // Each write drops up to four expired entries, oldest first, and stops at a live one.
    store.claimOnce('new-1', clock.now() + 60_000)
    expect(store.size).toBe(6)
    store.claimOnce('new-2', clock.now() + 60_000)
    expect(store.size).toBe(3)
    store.claimOnce('new-3', clock.now() + 60_000)
    expect(store.size).toBe(4)
  })

  it('refuses ids and expiries it cannot keep', () => {
    const store = new MemoryReplayStore()
    expect(() => store.claimOnce('', Date.now() + 1000)).toThrow(TypeError)
    expect(() => store.claimOnce('a', Number.NaN)).toThrow(TypeError)
    expect(() => store.claimOnce('a', Infinity)).toThrow(TypeError)
    expect(() => new MemoryReplayStore({ maxEntries: 0 })).toThrow(TypeError)
    expect(() => new MemoryReplayStore({ maxEntries: 1.5 })).toThrow(TypeError)
  })
})

describe('ExpiringMap (behind both stores)', () => {
  it('sweeps again from the new oldest entry once the oldest is replaced', () => {
    const map = new ExpiringMap<number>(100)
    map.set('a', 1, 60_000, 0)
    map.set('b', 2, 10_000, 0) // expires before the older "a": out of order
    map.set('c', 3, 70_000, 10_000) // the sweep stops at "a", live until 60 s
    expect(map.size).toBe(3)
    map.set('a', 4, 120_000, 10_000) // "a" replaced: moves to the newest end
    map.set('d', 5, 70_000, 10_000) // the sweep starts at "b" again, expired
    expect(map.size).toBe(3)
    expect(map.get('b', 10_000)).toBeUndefined()
    expect(map.get('a', 10_000)?.value).toBe(4)
  })
})

describe('MemoryRevocationStore', () => {
  const iss = 'https://issuer.example'

  it('revokes a jti until the token expires', () => {
    const clock = manualClock()
    const store = new MemoryRevocationStore({ clock: clock.now })
    store.revoke('t-1', clock.now() + 60_000)
    expect(store.isRevoked({ iss, jti: 't-1', sub: 'alice' })).toBe(true)
    expect(store.isRevoked({ iss, jti: 't-2', sub: 'alice' })).toBe(false)
    expect(store.isRevoked({ iss })).toBe(false)
    // Revoking again with an earlier expiry never shortens the revocation.
    store.revoke('t-1', clock.now() + 1000)
    clock.advance(59_999)
    expect(store.isRevoked({ iss, jti: 't-1' })).toBe(true)
    clock.advance(1)
    expect(store.isRevoked({ iss, jti: 't-1' })).toBe(false)
  })

  it('revokes a subject issued at or before an instant, at that issuer only', () => {
    const clock = manualClock()
    const store = new MemoryRevocationStore({ clock: clock.now })
    const before = clock.now()
    store.revokeSubject(iss, 'alice', before)
    const seconds = before / 1000
    expect(store.isRevoked({ iss, sub: 'alice', iat: seconds - 100 })).toBe(true)
    expect(store.isRevoked({ iss, sub: 'alice', iat: seconds })).toBe(true)
    expect(store.isRevoked({ iss, sub: 'alice', iat: seconds + 1 })).toBe(false)
    // Without iat, the token cannot show it was issued later: revoked.
    expect(store.isRevoked({ iss, sub: 'alice' })).toBe(true)
    expect(store.isRevoked({ iss, sub: 'bob', iat: seconds - 100 })).toBe(false)
    expect(store.isRevoked({ iss: 'https://other.example', sub: 'alice' })).toBe(false)
    // A later revocation extends the earlier one; an earlier one does not shorten it.
    store.revokeSubject(iss, 'alice', before + 10_000)
    store.revokeSubject(iss, 'alice', before - 10_000)
    expect(store.isRevoked({ iss, sub: 'alice', iat: seconds + 5 })).toBe(true)
  })

  it('keeps a subject revocation for subjectRetention after its instant', () => {
    const clock = manualClock()
    const store = new MemoryRevocationStore({ clock: clock.now, subjectRetention: 3600 })
    store.revokeSubject(iss, 'alice', clock.now())
    clock.advance(3_599_999)
    expect(store.isRevoked({ iss, sub: 'alice', iat: 0 })).toBe(true)
    clock.advance(1)
    expect(store.isRevoked({ iss, sub: 'alice', iat: 0 })).toBe(false)
  })

  it('namespaces its keys: a jti never names a subject, nor one subject another', () => {
    const clock = manualClock()
    const store = new MemoryRevocationStore({ clock: clock.now })
    store.revoke(`sub:${JSON.stringify([iss, 'alice'])}`, clock.now() + 60_000)
    expect(store.isRevoked({ iss, sub: 'alice', iat: 0 })).toBe(false)
    store.revokeSubject('https://a.example', 'b,c', clock.now())
    expect(store.isRevoked({ iss: 'https://a.example,b', sub: 'c', iat: 0 })).toBe(false)
  })

  it('when full, refuses a new revocation and keeps every live one', () => {
    const clock = manualClock()
    const store = new MemoryRevocationStore({ clock: clock.now, maxEntries: 2 })
    store.revoke('a', clock.now() + 60_000)
    store.revokeSubject(iss, 'alice', clock.now())
    expect(() => {
      store.revoke('b', clock.now() + 60_000)
    }).toThrow(RangeError)
    expect(store.isRevoked({ iss, jti: 'a' })).toBe(true)
    expect(store.isRevoked({ iss, sub: 'alice', iat: 0 })).toBe(true)
    clock.advance(60_000)
    store.revoke('b', clock.now() + 60_000) // "a" expired with its token
    expect(store.isRevoked({ iss, jti: 'b' })).toBe(true)
  })

  it('checks its arguments', () => {
    const store = new MemoryRevocationStore()
    expect(() => {
      store.revoke('', 1)
    }).toThrow(TypeError)
    expect(() => {
      store.revoke('a', Number.NaN)
    }).toThrow(TypeError)
    expect(() => {
      store.revokeSubject(iss, 'alice', Number.NaN)
    }).toThrow(TypeError)
    expect(() => new MemoryRevocationStore({ subjectRetention: 0 })).toThrow(TypeError)
  })
})
