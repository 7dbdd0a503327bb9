import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  BearerGuardError,
  createAccessTokenValidator,
  type AccessTokenValidator,
  type AccessTokenValidatorOptions,
  type BearerRequest,
  type VerifiedAccessToken,
} from '../src/index.js'
import { verifyRequestCallback } from '../src/adapter.js'
import { AUDIENCE, rejection } from './support/helpers.js'

/** What one call of the adapter primitive did: whether it answered in the same tick, and with what. */
interface Call {
  readonly sync: boolean
  readonly calls: number
  readonly error: unknown
  readonly auth: VerifiedAccessToken | undefined
}

/** Calls the callback form and reports, once it has answered, whether it answered in the same tick. */
function callbackForm(validator: AccessTokenValidator, request: BearerRequest): Promise<Call> {
  return new Promise((resolve) => {
    let returned = false
    let calls = 0
    let first: { error: unknown; auth: VerifiedAccessToken | undefined; sync: boolean } | undefined
    verifyRequestCallback(validator, request, (error, auth) => {
      calls++
      first ??= { error, auth, sync: !returned }
      // Give a second call the chance to happen before reporting.
      setTimeout(() => {
        resolve({ ...first!, calls })
      }, 20)
    })
    returned = true
  })
}

/** What the promise form refuses `request` with, as "status code". */
async function promiseRefusal(validator: AccessTokenValidator, request: BearerRequest) {
  return describeError(await rejection(validator.verifyRequest(request)))
}

function describeError(error: unknown): string {
  return error instanceof BearerGuardError ? `${error.status} ${error.code}` : String(error)
}

const bearer = (token: string): BearerRequest => ({
  headers: { authorization: `Bearer ${token}` },
})

describe('verifyRequestCallback (adapter subpath): synchronous whenever nothing has to wait', () => {
  let issuer: TestIssuer
  const make = (options: Partial<AccessTokenValidatorOptions> = {}) =>
    createAccessTokenValidator({ issuer: issuer.issuer, audience: AUDIENCE, ...options })

  beforeEach(async () => {
    issuer = await createTestIssuer()
  })
  afterEach(async () => {
    await issuer.close()
  })

  it('answers a cached token in the same tick, with the result the promise form gives', async () => {
    const validator = make()
    const token = await issuer.mint({ scope: 'orders:read' })
    const viaPromise = await validator.verifyRequest(bearer(token))
    const call = await callbackForm(validator, bearer(token))
    expect(call).toMatchObject({ sync: true, calls: 1, error: null })
    expect(call.auth).toBe(viaPromise)
    expect(call.auth?.scopes.has('orders:read')).toBe(true)
  })

  it('answers a new token in the same tick once keys are loaded, cache on or off', async () => {
    for (const tokenCache of [undefined, false] as const) {
      const validator = make(tokenCache === false ? { tokenCache } : {})
      await validator.ready()
      const token = await issuer.mint({ sub: 'alice' })
      const call = await callbackForm(validator, bearer(token))
      expect(call).toMatchObject({ sync: true, calls: 1, error: null })
      expect(call.auth?.claims.sub).toBe('alice')
    }
  })

  it('answers later, exactly once, while keys are being fetched', async () => {
    const validator = make()
    const call = await callbackForm(validator, bearer(await issuer.mint({ sub: 'bob' })))
    expect(call).toMatchObject({ sync: false, calls: 1, error: null })
    expect(call.auth?.claims.sub).toBe('bob')
    expect(issuer.requests.jwks).toBe(1)
  })

  it('refuses with the errors of the promise form, synchronously when no key is needed', async () => {
    const validator = make()
    await validator.ready()
    const good = await issuer.mint()
    const forged = good.slice(0, -4) + (good.endsWith('AAAA') ? 'BBBB' : 'AAAA')
    const cases: [BearerRequest, string][] = [
      [{ headers: {} }, '401 ERR_MISSING_CREDENTIALS'],
      [{ headers: { authorization: 'Bearer' } }, '400 ERR_INVALID_REQUEST'],
      [{ headers: { authorization: 'Bearer a!b' } }, '400 ERR_INVALID_REQUEST'],
      [{ headers: { authorization: ['Bearer a', 'Bearer b'] } }, '400 ERR_INVALID_REQUEST'],
      [bearer('not.a.jwt'), '401 ERR_TOKEN_MALFORMED'],
      [bearer(forged), '401 ERR_TOKEN_SIGNATURE_INVALID'],
    ]
    for (const [request, expected] of cases) {
      const call = await callbackForm(validator, request)
      expect(call.sync).toBe(true)
      expect(call.calls).toBe(1)
      expect(call.auth).toBeUndefined()
      expect(describeError(call.error)).toBe(expected)
      expect(await promiseRefusal(validator, request)).toBe(expected)
    }
  })

  it('delivers a 503 later when the issuer cannot be reached', async () => {
    issuer.fail('all', { kind: 'status', status: 500 })
    const validator = make({ retryAfter: 7 })
    const call = await callbackForm(validator, bearer(await issuer.mint()))
    expect(call.sync).toBe(false)
    expect(call.calls).toBe(1)
    expect(describeError(call.error)).toBe('503 ERR_KEYSET_UNAVAILABLE')
  })

  it('lets a throwing callback throw to its caller on the synchronous path, called once', async () => {
    const validator = make()
    const token = await issuer.mint()
    await validator.verifyRequest(bearer(token))
    let calls = 0
    const bug = new Error('bug in the adapter')
    expect(() => {
      verifyRequestCallback(validator, bearer(token), () => {
        calls++
        throw bug
      })
    }).toThrow(bug)
    expect(() => {
      verifyRequestCallback(validator, { headers: {} }, () => {
        calls++
        throw bug
      })
    }).toThrow(bug)
    expect(calls).toBe(2)
  })
})

describe('token68 syntax and the verified-token cache', () => {
  let issuer: TestIssuer
  beforeEach(async () => {
    issuer = await createTestIssuer()
  })
  afterEach(async () => {
    await issuer.close()
  })

  it('still refuses a header that is not token68 once the token beside it is cached', async () => {
    const validator = createAccessTokenValidator({ issuer: issuer.issuer, audience: AUDIENCE })
    const token = await issuer.mint()
    await validator.verifyRequest(bearer(token))
    for (const header of [
      `Bearer ${token}!`,
      `Bearer ${token}\u00a0`,
      `Bearer ${token} ${token}`,
      `Bearer ${token},`,
      `Bearer "${token}"`,
    ]) {
      expect(await promiseRefusal(validator, { headers: { authorization: header } })).toBe(
        '400 ERR_INVALID_REQUEST',
      )
    }
    // Optional whitespace around the token is not part of it: still the cached result.
    const cached = await validator.verifyRequest(bearer(token))
    expect(
      await validator.verifyRequest({ headers: { authorization: `bearer \t${token}\t ` } }),
    ).toBe(cached)
  })

  it('refuses a token that is not token68 the same way with the cache off', async () => {
    const validator = createAccessTokenValidator({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      tokenCache: false,
    })
    const token = await issuer.mint()
    await validator.verifyRequest(bearer(token))
    expect(
      await promiseRefusal(validator, { headers: { authorization: `Bearer ${token}!` } }),
    ).toBe('400 ERR_INVALID_REQUEST')
  })
})
