import { createTestIssuer } from '@bearer-guard/testing'
import { describe, expect, it } from 'vitest'
import {
  InsufficientScopeError,
  authorize,
  createAccessTokenValidator,
  definePolicy,
  type AccessPolicy,
  type VerifiedAccessToken,
} from '../src/index.js'

async function verifiedWith(claims: Record<string, unknown>): Promise<VerifiedAccessToken> {
  const issuer = await createTestIssuer()
  try {
    const validator = createAccessTokenValidator({
      issuer: issuer.issuer,
      audience: 'https://api.example.com',
      realm: 'orders',
    })
    return await validator.verify(await issuer.mint(claims))
  } finally {
    await issuer.close()
  }
}

function refusal(
  auth: VerifiedAccessToken,
  policy: AccessPolicy,
): InsufficientScopeError | undefined {
  try {
    // Every policy in this file is synchronous.
    void authorize(auth, policy)
  } catch (error) {
    if (error instanceof InsufficientScopeError) return error
    throw error
  }
  return undefined
}

describe('route policies on a verified token', () => {
  it('enforces all-of and any-of, naming the needed scopes in the challenge', async () => {
    const auth = await verifiedWith({ scope: 'orders:read orders:write', tenant: 'acme' })
    expect(refusal(auth, { allOf: ['orders:read'] })).toBeUndefined()
    expect(refusal(auth, { allOf: ['orders:read', 'orders:write'] })).toBeUndefined()
    const both = refusal(auth, { allOf: ['orders:write', 'orders:admin'] })
    expect(both?.status).toBe(403)
    expect(both?.scope).toBe('orders:write orders:admin')
    expect(both?.challenge).toContain('realm="orders"')
    expect(both?.challenge).toContain('scope="orders:write orders:admin"')
    expect(refusal(auth, { anyOf: ['admin', 'orders:write'] })).toBeUndefined()
    expect(refusal(auth, { anyOf: ['reports:read', 'admin'] })?.scope).toBe('reports:read admin')
  })

  it('evaluates claim predicates on the verified claims; false or a throw refuses', async () => {
    const auth = await verifiedWith({ tenant: 'acme' })
    expect(refusal(auth, { claims: (c) => c.tenant === 'acme' })).toBeUndefined()
    const wrong = refusal(auth, {
      claims: (c) => c.tenant === 'other',
      description: 'Wrong tenant',
    })
    expect(wrong?.message).toBe('Wrong tenant')
    expect(wrong?.scope).toBeUndefined()
    expect(wrong?.challenge).not.toContain('scope=')
    const thrown = refusal(auth, {
      claims: () => {
        throw new Error('bug in predicate')
      },
    })
    expect(thrown?.cause).toBeInstanceOf(Error)
    // A truthy non-boolean is not consent.
    expect(refusal(auth, { claims: () => 1 as unknown as boolean })).toBeInstanceOf(
      InsufficientScopeError,
    )
  })

  it('combines parts: every given part must hold', async () => {
    const auth = await verifiedWith({ scope: 'a', tenant: 'acme' })
    expect(refusal(auth, { allOf: ['a'], claims: (c) => c.tenant === 'acme' })).toBeUndefined()
    expect(refusal(auth, { allOf: ['a'], anyOf: ['b', 'c'] })?.scope).toBe('a b c')
  })

  it('checks policies once, at definition, with a TypeError', () => {
    expect(() => definePolicy({})).toThrow(TypeError)
    expect(() => definePolicy(null as unknown as object)).toThrow(/must be an object/)
    expect(() => definePolicy({ allOf: [] })).toThrow(TypeError)
    expect(() => definePolicy({ allOf: ['has space'] })).toThrow(TypeError)
    expect(() => definePolicy({ anyOf: ['quo"te'] })).toThrow(TypeError)
    expect(() => definePolicy({ allOf: 'a' as unknown as string[] })).toThrow(TypeError)
    expect(() => definePolicy({ claims: 'x' as unknown as () => boolean })).toThrow(TypeError)
    const p = definePolicy({ allOf: ['a'] })
    expect(Object.isFrozen(p)).toBe(true)
    expect(definePolicy(p)).toBe(p)
  })
})
