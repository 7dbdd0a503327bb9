/**
 * Scope hierarchies as data (`scopeHierarchy`): a granted scope also grants the scopes it lists,
 * transitively; every policy honours it; the 403 keeps RFC 6750 §3's `scope` = what the route
 * needs, and its description names the broader scopes that would also do.
 */
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseWwwAuthenticate } from '../../../test/support/www-authenticate.js'
import {
  InsufficientScopeError,
  authorize,
  createAccessTokenValidator,
  type AccessPolicy,
  type ScopeHierarchy,
} from '../src/index.js'
import { AUDIENCE, rejection } from './support/helpers.js'

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer()
})
afterAll(async () => {
  await issuer.close()
})

const hierarchy: ScopeHierarchy = {
  admin: ['orders:*', 'reports:read'],
  'orders:*': ['orders:read', 'orders:write'],
}

const validator = (scopeHierarchy?: ScopeHierarchy) =>
  createAccessTokenValidator({
    issuer: issuer.issuer,
    audience: AUDIENCE,
    ...(scopeHierarchy && { scopeHierarchy }),
  })

async function verdict(scope: string, policy: AccessPolicy, v = validator(hierarchy)) {
  const auth = await v.verify(await issuer.mint({ scope }))
  return rejection(Promise.resolve().then(() => authorize(auth, policy))).catch(
    (error: unknown) => {
      // `rejection` throws when the promise resolves: access granted.
      if (error instanceof Error && error.message.startsWith('expected the promise')) return 'ok'
      throw error
    },
  )
}

describe('scope hierarchies', () => {
  it('a broader scope grants what it lists, transitively (admin ⊇ orders:* ⊇ orders:read)', async () => {
    expect(await verdict('orders:*', { allOf: ['orders:read', 'orders:write'] })).toBe('ok')
    expect(await verdict('admin', { allOf: ['orders:write', 'reports:read'] })).toBe('ok')
    expect(await verdict('admin', { anyOf: ['orders:read'] })).toBe('ok')
    const auth = await validator(hierarchy).verify(await issuer.mint({ scope: 'admin' }))
    expect([...auth.scopes].sort()).toEqual([
      'admin',
      'orders:*',
      'orders:read',
      'orders:write',
      'reports:read',
    ])
    // The token's own claim is untouched.
    expect(auth.claims.scope).toBe('admin')
  })

  it('never grants upwards or sideways, and names are not patterns', async () => {
    for (const [scope, need] of [
      ['orders:read', 'orders:*'],
      ['orders:*', 'admin'],
      ['orders:*', 'reports:read'],
      ['orders:*', 'orders:delete'],
    ] as const) {
      const error = await verdict(scope, { allOf: [need] })
      expect(error).toBeInstanceOf(InsufficientScopeError)
    }
  })

  it('without a hierarchy, a scope grants only itself', async () => {
    const error = await verdict('admin', { allOf: ['orders:read'] }, validator())
    expect(error).toBeInstanceOf(InsufficientScopeError)
  })

  it('403 (RFC 6750 §3): scope= lists what the route needs; the description names what else grants it', async () => {
    const error = await verdict('reports:read', { allOf: ['orders:read', 'reports:read'] })
    if (!(error instanceof InsufficientScopeError)) throw new Error('expected a 403')
    expect(error.status).toBe(403)
    const [challenge] = parseWwwAuthenticate(error.challenge)
    expect(challenge?.params.scope).toBe('orders:read reports:read')
    expect(challenge?.params.error_description).toContain(
      'orders:read is also granted by admin or orders:*',
    )
    expect(challenge?.params.error_description).toContain('reports:read is also granted by admin')
  })

  it('cycles make scopes equivalent', async () => {
    const v = validator({ a: ['b'], b: ['a'] })
    expect(await verdict('a', { allOf: ['b'] }, v)).toBe('ok')
    expect(await verdict('b', { allOf: ['a'] }, v)).toBe('ok')
  })

  it('applies per issuer', async () => {
    const other = await createTestIssuer()
    try {
      const v = createAccessTokenValidator({
        issuer: [{ issuer: issuer.issuer, scopeHierarchy: hierarchy }, { issuer: other.issuer }],
        audience: AUDIENCE,
      })
      const mine = await v.verify(await issuer.mint({ scope: 'admin' }))
      const theirs = await v.verify(await other.mint({ scope: 'admin' }))
      expect(mine.scopes.has('orders:read')).toBe(true)
      expect(theirs.scopes.has('orders:read')).toBe(false)
    } finally {
      await other.close()
    }
  })

  it('is checked once, at start-up (RFC 6749 §3.3 scope tokens, non-empty lists)', () => {
    for (const bad of [
      [],
      'admin',
      { admin: [] },
      { admin: 'orders:read' },
      { admin: ['orders read'] },
      { 'a"b': ['c'] },
      { admin: [1] },
    ]) {
      expect(() => validator(bad as unknown as ScopeHierarchy)).toThrow(/scopeHierarchy/)
    }
    expect(() =>
      createAccessTokenValidator({
        issuer: issuer.issuer,
        audience: AUDIENCE,
        scopeHierachy: hierarchy,
      } as never),
    ).toThrow(/scopeHierarchy/)
  })
})
