/**
 * A token read from a cookie is kept by the verified-token cache: it must be a copy of the
 * cookie's value, not a view into the whole Cookie header (V8 keeps substrings as slices of
 * their parent), or every cache entry would keep the request's other cookies alive too.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAccessTokenValidator } from '../src/index.js'
import { AUDIENCE } from './support/helpers.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer()
})
afterAll(async () => {
  await issuer.close()
})

function heapUsed(): number {
  for (let i = 0; i < 3; i++) gc()
  return process.memoryUsage().heapUsed
}

describe('cookie tokens in the verified-token cache', () => {
  it('do not keep the rest of the Cookie header alive (400 entries × 32 KiB of other cookies)', async () => {
    const validator = createAccessTokenValidator({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      tokenSources: { cookie: 'at' },
    })
    const tokens = await Promise.all(
      Array.from({ length: 400 }, (_, i) => issuer.mint({ sub: `user-${String(i)}` })),
    )
    const before = heapUsed()
    for (const [i, token] of tokens.entries()) {
      // A distinct, large header per request, built here and dropped after the call.
      const filler = `${String(i)}${'x'.repeat(32 * 1024)}`
      await validator.verifyRequest({ headers: { cookie: `session=${filler}; at=${token}` } })
    }
    const retained = heapUsed() - before
    // The 400 cached results hold their tokens (~1 KiB each) and claims; 400 Cookie headers
    // would be 12.8 MiB more.
    expect(retained).toBeLessThan(4 * 1024 * 1024)
    // Still cached: the same token is answered from the cache.
    const again = await validator.verifyRequest({ headers: { cookie: `at=${tokens[0] ?? ''}` } })
    expect(again.claims.sub).toBe('user-0')
  })
})
