/**
 * Several issuers behind one API (issue 10, §2): each verified only with its own keys, selected by
 * the unverified `iss` among the issuers the application allows, never by fetching what a token
 * names; and tenants known only at run time, through a resolver with bounded memory.
 */
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createAccessTokenValidator,
  type AccessTokenValidatorOptions,
  type IssuerOptions,
} from '../src/index.js'
import { AUDIENCE, expectInvalid, expectUnavailable, rejection } from './support/helpers.js'

let a: TestIssuer
let b: TestIssuer
let outsider: TestIssuer

beforeAll(async () => {
  ;[a, b, outsider] = await Promise.all([
    createTestIssuer(),
    createTestIssuer(),
    createTestIssuer(),
  ])
})
afterAll(async () => {
  await Promise.all([a.close(), b.close(), outsider.close()])
})

const both = (options: Partial<AccessTokenValidatorOptions> = {}) =>
  createAccessTokenValidator({ issuer: [a.issuer, b.issuer], audience: AUDIENCE, ...options })

describe('a static list of issuers', () => {
  it('verifies each issuer’s tokens with that issuer’s keys', async () => {
    const validator = both()
    expect((await validator.verify(await a.mint({ sub: 'from-a' }))).claims.sub).toBe('from-a')
    expect((await validator.verify(await b.mint({ sub: 'from-b' }))).claims.sub).toBe('from-b')
  })

  it('refuses a token naming an unlisted issuer without a single request to it', async () => {
    outsider.resetCounts()
    const validator = both()
    await expectInvalid(validator.verify(await outsider.mint()), 'ERR_TOKEN_ISSUER_INVALID')
    expect(outsider.requests.discovery + outsider.requests.jwks).toBe(0)
  })

  it('refuses issuer A’s iss signed with issuer B’s key (keys verify only their issuer’s tokens)', async () => {
    const validator = both()
    await validator.ready()
    b.resetCounts()
    // B's key (and kid) inside a token that claims to come from A.
    const forged = await b.mint({ iss: a.issuer })
    const error = await rejection(validator.verify(forged))
    expect(['ERR_TOKEN_KEY_NOT_FOUND', 'ERR_TOKEN_SIGNATURE_INVALID']).toContain(error.code)
    expect(b.requests.discovery + b.requests.jwks).toBe(0)
  })

  it('applies each issuer’s own settings (audience, scope claims), the top level as defaults', async () => {
    const validator = createAccessTokenValidator({
      audience: AUDIENCE,
      issuer: [
        { issuer: a.issuer, audience: 'https://a-only.example', scopeClaims: ['permissions'] },
        b.issuer,
      ],
    })
    await expectInvalid(validator.verify(await a.mint()), 'ERR_TOKEN_AUDIENCE_INVALID')
    const fromA = await validator.verify(
      await a.mint({ aud: 'https://a-only.example', permissions: ['read:x'], scope: 'ignored' }),
    )
    expect([...fromA.scopes]).toEqual(['read:x'])
    const fromB = await validator.verify(await b.mint({ scope: 'orders:read' }))
    expect([...fromB.scopes]).toEqual(['orders:read'])
  })

  it('refuses the same issuer listed twice, and top-level keys with several issuers', () => {
    expect(() => both({ issuer: [a.issuer, a.issuer] })).toThrow(/listed twice/)
    expect(() => both({ jwksUri: a.jwksUri })).toThrow(/needs exactly one issuer/)
  })

  it('keeps per-issuer key-set state: one issuer down answers 503, the other keeps working', async () => {
    const down = await createTestIssuer()
    try {
      down.fail('all', { kind: 'status', status: 500 })
      const validator = createAccessTokenValidator({
        issuer: [a.issuer, down.issuer],
        audience: AUDIENCE,
      })
      await expectUnavailable(validator.verify(await down.mint()))
      expect(await validator.verify(await a.mint())).toBeTruthy()
    } finally {
      await down.close()
    }
  })
})

describe('issuers known only at run time: issuerResolver', () => {
  function tenants(list: TestIssuer[]) {
    const known = new Map<string, IssuerOptions>(list.map((t) => [t.issuer, { issuer: t.issuer }]))
    const asked: string[] = []
    return {
      asked,
      resolver: {
        resolve: (iss: string) => {
          asked.push(iss)
          return known.get(iss)
        },
      },
    }
  }

  it('asks the resolver about an unknown iss once, caches the validator, and refuses unknown issuers', async () => {
    const { asked, resolver } = tenants([a, b])
    const validator = createAccessTokenValidator({ audience: AUDIENCE, issuerResolver: resolver })
    for (let i = 0; i < 3; i++) {
      expect(await validator.verify(await a.mint())).toBeTruthy()
      expect(await validator.verify(await b.mint())).toBeTruthy()
    }
    expect(asked).toEqual([a.issuer, b.issuer])
    outsider.resetCounts()
    for (let i = 0; i < 3; i++) {
      await expectInvalid(validator.verify(await outsider.mint()), 'ERR_TOKEN_ISSUER_INVALID')
    }
    // The unknown answer is remembered: one lookup, and never a request to the named issuer.
    expect(asked.filter((iss) => iss === outsider.issuer)).toHaveLength(1)
    expect(outsider.requests.discovery + outsider.requests.jwks).toBe(0)
  })

  it('asks once for concurrent tokens of a new tenant (single flight)', async () => {
    const { asked, resolver } = tenants([a])
    const validator = createAccessTokenValidator({ audience: AUDIENCE, issuerResolver: resolver })
    const token = await a.mint()
    const results = await Promise.all(Array.from({ length: 20 }, () => validator.verify(token)))
    expect(results).toHaveLength(20)
    expect(asked).toEqual([a.issuer])
  })

  it('keeps at most maxIssuers validators: an evicted tenant is looked up again, and still works', async () => {
    const { asked, resolver } = tenants([a, b])
    const validator = createAccessTokenValidator({
      audience: AUDIENCE,
      issuerResolver: { ...resolver, maxIssuers: 1 },
    })
    await validator.verify(await a.mint({ jti: '1' }))
    await validator.verify(await b.mint({ jti: '2' }))
    await validator.verify(await a.mint({ jti: '3' }))
    expect(asked).toEqual([a.issuer, b.issuer, a.issuer])
  })

  it('answers 503 when the lookup fails, and asks again next time (failures are not cached)', async () => {
    let fail = true
    const validator = createAccessTokenValidator({
      audience: AUDIENCE,
      issuerResolver: {
        resolve: (iss) => (fail ? Promise.reject(new Error('database down')) : { issuer: iss }),
      },
    })
    const token = await a.mint()
    await expectUnavailable(validator.verify(token))
    fail = false
    expect(await validator.verify(token)).toBeTruthy()
  })

  it('refuses an answer for another issuer than the one asked about', async () => {
    const validator = createAccessTokenValidator({
      audience: AUDIENCE,
      issuerResolver: { resolve: () => ({ issuer: b.issuer }) },
    })
    await expectInvalid(validator.verify(await a.mint()), 'ERR_TOKEN_ISSUER_INVALID')
  })

  it('configured issuers are matched before the resolver is asked', async () => {
    const { asked, resolver } = tenants([b])
    const validator = createAccessTokenValidator({
      issuer: a.issuer,
      audience: AUDIENCE,
      issuerResolver: resolver,
    })
    expect(await validator.verify(await a.mint())).toBeTruthy()
    expect(await validator.verify(await b.mint())).toBeTruthy()
    expect(asked).toEqual([b.issuer])
  })
})
