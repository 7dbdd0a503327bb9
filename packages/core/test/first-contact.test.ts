/**
 * Regression tests for what first contact with an independent authorization server (Glewlwyd),
 * peers' test cases and ten providers' token shapes found (issue 9). Each is named after the
 * defect it fixes and fails without the fix.
 */
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isCorsPreflight, onKeySetFailure, type KeySetFailure } from '../src/adapter.js'
import { createAccessTokenValidator, type AccessTokenValidatorOptions } from '../src/index.js'
import { AUDIENCE, expectInvalid, expectUnavailable, rejection } from './support/helpers.js'

let issuer: TestIssuer
const make = (options: Partial<AccessTokenValidatorOptions> = {}) =>
  createAccessTokenValidator({ issuer: issuer.issuer, audience: AUDIENCE, ...options })

beforeAll(async () => {
  issuer = await createTestIssuer()
})
afterAll(async () => {
  await issuer.close()
})

describe('ID tokens are not access tokens (RFC 9068 §4; issue 9, item 2)', () => {
  /** What Glewlwyd issues when the API is also a registered client: an OIDC ID token. */
  const glewlwydIdToken = {
    nonce: 'n-0S6_WzA2Mj',
    at_hash: 'LDktKdoQak3Pk0cnXxCltA',
    auth_time: 1_700_000_000,
    azp: 'web-app',
    client_id: undefined,
    scope: undefined,
    jti: undefined,
  }

  it('refuses an OIDC ID token with typ JWT and the API as aud, by default', async () => {
    const token = await issuer.mint(glewlwydIdToken, { header: { typ: 'JWT' } })
    const error = await expectInvalid(make().verify(token), 'ERR_TOKEN_TYPE_INVALID')
    expect(error.message).toMatch(/ID token/)
  })

  it('refuses each ID-token-only marker on its own: nonce, at_hash, c_hash, s_hash', async () => {
    for (const claim of ['nonce', 'at_hash', 'c_hash', 's_hash']) {
      const token = await issuer.mint({ [claim]: 'x', scope: 'orders:read' })
      await expectInvalid(make().verify(token), 'ERR_TOKEN_TYPE_INVALID')
    }
  })

  it("refuses Keycloak's ID token (its 'typ' claim is 'ID'; access tokens say 'Bearer')", async () => {
    await expectInvalid(
      make().verify(await issuer.mint({ typ: 'ID', azp: 'web' }, { header: { typ: 'JWT' } })),
      'ERR_TOKEN_TYPE_INVALID',
    )
    const access = await issuer.mint({ typ: 'Bearer', azp: 'web', scope: 'openid' })
    expect((await make().verify(access)).claims.typ).toBe('Bearer')
  })

  it('refuses the ID-token shape auth_time + azp without scope, scp or client_id', async () => {
    const idToken = { auth_time: 1_700_000_000, azp: 'web', client_id: undefined }
    await expectInvalid(make().verify(await issuer.mint(idToken)), 'ERR_TOKEN_TYPE_INVALID')
    // An Auth0 or Entra access token has azp (and may have auth_time), and scope or scp.
    expect(await make().verify(await issuer.mint({ ...idToken, scope: 'read' }))).toBeTruthy()
    expect(await make().verify(await issuer.mint({ ...idToken, scp: ['read'] }))).toBeTruthy()
  })

  it('allowNonce accepts a nonce in access tokens, and nothing else of an ID token', async () => {
    const validator = make({ allowNonce: true })
    expect(await validator.verify(await issuer.mint({ nonce: 'n', scope: 'a' }))).toBeTruthy()
    await expectInvalid(
      validator.verify(await issuer.mint({ nonce: 'n', at_hash: 'h' })),
      'ERR_TOKEN_TYPE_INVALID',
    )
    await expectInvalid(
      validator.verify(await issuer.mint(glewlwydIdToken)),
      'ERR_TOKEN_TYPE_INVALID',
    )
  })

  it('strict stays the strict RFC 9068 profile: typ JWT is refused there', async () => {
    const token = await issuer.mint({ scope: 'a' }, { header: { typ: 'JWT' } })
    expect(await make().verify(token)).toBeTruthy()
    await expectInvalid(make({ strict: true }).verify(token), 'ERR_TOKEN_TYPE_INVALID')
  })
})

describe("a JSON array in 'scope' is read, not refused (issue 9, item 3)", () => {
  it('accepts scope as an array of strings, as scp already was', async () => {
    const auth = await make().verify(await issuer.mint({ scope: ['orders:read', 'admin'] }))
    expect([...auth.scopes]).toEqual(['orders:read', 'admin'])
  })

  it('still refuses a scope array holding a non-string', async () => {
    await expectInvalid(
      make().verify(await issuer.mint({ scope: ['orders:read', 1] })),
      'ERR_TOKEN_CLAIM_INVALID',
    )
  })
})

describe('requiredClaims means own members of the payload (issue 9, item 4)', () => {
  const inherited = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__']

  it('is not satisfied through Object.prototype', async () => {
    const token = await issuer.mint({})
    for (const name of inherited) {
      await expectInvalid(make({ requiredClaims: [name] }).verify(token), 'ERR_TOKEN_CLAIM_INVALID')
    }
  })

  it('is satisfied by a claim of that name the token really carries', async () => {
    const token = await issuer.mint({ constructor: 'c', toString: 't' })
    expect(await make({ requiredClaims: ['constructor', 'toString'] }).verify(token)).toBeTruthy()
  })

  it('scope claims are read from own members only', async () => {
    const auth = await make({ scopeClaims: ['constructor'] }).verify(await issuer.mint({}))
    expect(auth.scopes.size).toBe(0)
  })
})

describe('a misconfigured issuer is a loud 503, not a silent one (issue 9, item 8)', () => {
  it('names the configured and the discovered issuer (a trailing slash)', async () => {
    const validator = createAccessTokenValidator({
      issuer: `${issuer.issuer}/`,
      audience: AUDIENCE,
    })
    const failures: KeySetFailure[] = []
    onKeySetFailure(validator, (failure) => failures.push(failure))
    const token = await issuer.mint({})
    const error = await expectUnavailable(validator.verify(token))
    const cause = error.cause as Error
    expect(cause.message).toContain(`names the issuer '${issuer.issuer}'`)
    expect(cause.message).toContain(`the configured issuer is '${issuer.issuer}/'`)
    expect(cause.message).toMatch(/trailing slash/)
    expect(failures).toHaveLength(1)
    expect(failures[0]?.message).toContain(`'${issuer.issuer}/'`)
    expect(failures[0]?.message).toMatch(/requests get 503/)
    expect(failures[0]?.message).not.toContain(token)
    expect(failures[0]?.message).not.toContain(token.split('.')[1])
  })

  it('reports once per failure episode, and again after a recovery and a new failure', async () => {
    let now = Date.now()
    const own = await createTestIssuer({ clock: () => now })
    try {
      const validator = createAccessTokenValidator({
        issuer: own.issuer,
        audience: AUDIENCE,
        clock: () => now,
        keySetMaxAge: 60,
        keySetMinAge: 60,
        staleIfError: 0,
      })
      const messages: string[] = []
      const stop = onKeySetFailure(validator, (failure) => messages.push(failure.message))
      own.fail('all', { kind: 'status', status: 500 })
      const token = await own.mint({})
      await expectUnavailable(validator.verify(token))
      now += 40_000 // past the backoff
      await expectUnavailable(validator.verify(token))
      expect(messages).toHaveLength(1)
      expect(messages[0]).toMatch(/answered HTTP 500/)

      own.fail('all', null)
      now += 40_000
      expect(await validator.verify(token)).toBeTruthy()
      own.fail('all', { kind: 'status', status: 503 })
      now += 61_000 // past max age, no stale window: the next request needs a load
      await rejection(validator.verify(await own.mint({})))
      expect(messages).toHaveLength(2)
      expect(messages[1]).toMatch(/answered HTTP 503/)

      stop()
      now += 40_000
      own.fail('all', null)
      await expect(validator.ready()).resolves.toBeUndefined()
    } finally {
      await own.close()
    }
  })

  it('names the URL and the network error when the issuer cannot be reached', async () => {
    const gone = await createTestIssuer()
    const url = gone.issuer
    await gone.close()
    const validator = createAccessTokenValidator({ issuer: url, audience: AUDIENCE })
    const messages: string[] = []
    onKeySetFailure(validator, (failure) => messages.push(failure.message))
    await expectUnavailable(validator.ready().then(() => undefined))
    expect(messages).toHaveLength(1)
    expect(messages[0]).toContain(`${url}/.well-known/openid-configuration could not be fetched`)
    expect(messages[0]).toMatch(/ECONNREFUSED/)
  })
})

describe('CORS preflights are recognised for the adapters (issue 9, item 9)', () => {
  it('OPTIONS with Origin and Access-Control-Request-Method and no credentials', () => {
    const preflight = { origin: 'https://app.example', 'access-control-request-method': 'GET' }
    expect(isCorsPreflight('OPTIONS', preflight)).toBe(true)
    expect(isCorsPreflight('GET', preflight)).toBe(false)
    expect(isCorsPreflight('OPTIONS', { origin: 'https://app.example' })).toBe(false)
    expect(isCorsPreflight('OPTIONS', { 'access-control-request-method': 'GET' })).toBe(false)
    expect(isCorsPreflight('OPTIONS', { ...preflight, authorization: 'Bearer x' })).toBe(false)
  })
})
