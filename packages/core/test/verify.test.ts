import {
  TEST_ALGORITHMS,
  createTestIssuer,
  encodeToken,
  type TestIssuer,
} from '@bearer-guard/testing'
import { sign as cryptoSign } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  InvalidTokenError,
  createAccessTokenValidator,
  type AccessTokenValidatorOptions,
} from '../src/index.js'

import { AUDIENCE, expectInvalid, rejection } from './support/helpers.js'

describe('verify: every asymmetric algorithm, real keys, real JWKS over loopback', () => {
  for (const algorithm of TEST_ALGORITHMS) {
    it(`accepts a valid ${algorithm} token and rejects it with one flipped signature bit`, async () => {
      const issuer = await createTestIssuer({ algorithm })
      try {
        const validator = createAccessTokenValidator({ issuer: issuer.issuer, audience: AUDIENCE })
        const token = await issuer.mint({ scope: 'orders:read orders:write', sub: 'alice' })
        const auth = await validator.verify(token)
        expect(auth.claims.sub).toBe('alice')
        expect(auth.header.alg).toBe(algorithm)
        expect([...auth.scopes]).toEqual(['orders:read', 'orders:write'])
        expect(auth.token).toBe(token)

        const [h, p, s] = token.split('.') as [string, string, string]
        const sig = Buffer.from(s, 'base64url')
        sig[sig.length >> 1] = (sig[sig.length >> 1] ?? 0) ^ 0x01
        await expectInvalid(
          validator.verify(`${h}.${p}.${sig.toString('base64url')}`),
          'ERR_TOKEN_SIGNATURE_INVALID',
        )
      } finally {
        await issuer.close()
      }
    })
  }
})

describe('verify: header, signature and claim checks', () => {
  let issuer: TestIssuer
  let now: number
  const clock = () => now
  const make = (options: Partial<AccessTokenValidatorOptions> = {}) =>
    createAccessTokenValidator({ issuer: issuer.issuer, audience: AUDIENCE, clock, ...options })

  beforeAll(async () => {
    now = Math.floor(Date.now() / 1000) * 1000
    issuer = await createTestIssuer({ clock })
  })
  afterAll(async () => {
    await issuer.close()
  })

  it('refuses alg "none" in any casing, even when listed nowhere, as ERR_TOKEN_ALG_NOT_ALLOWED with an empty signature too (issue 9, item 7)', async () => {
    const validator = make()
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      // RFC 7519 §6.1: an unsecured JWT has an empty signature; the README lists its code.
      const token = encodeToken({
        header: { alg, typ: 'at+jwt' },
        payload: { iss: issuer.issuer, aud: AUDIENCE, exp: now / 1000 + 60 },
      })
      expect(token.endsWith('.')).toBe(true)
      await expectInvalid(validator.verify(token), 'ERR_TOKEN_ALG_NOT_ALLOWED')
      const signed = encodeToken({
        header: { alg, typ: 'at+jwt' },
        payload: { iss: issuer.issuer, aud: AUDIENCE, exp: now / 1000 + 60 },
        signature: 'AAAA',
      })
      await expectInvalid(validator.verify(signed), 'ERR_TOKEN_ALG_NOT_ALLOWED')
    }
    expect(() => make({ algorithms: ['none'] })).toThrow(TypeError)
  })

  it('refuses HS256/384/512 signed with the public key (PEM and JWK JSON) without a configured secret', async () => {
    const validator = make()
    const pem = issuer.activeKey.publicKeyPem
    const jwkJson = JSON.stringify(issuer.activeKey.publicJwk)
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      for (const secret of [pem, jwkJson]) {
        const token = await issuer.mint({}, { header: { alg }, secret })
        await expectInvalid(validator.verify(token), 'ERR_TOKEN_ALG_NOT_ALLOWED')
      }
    }
    expect(() => make({ algorithms: ['HS256'] })).toThrow(/requires "secret"/)
  })

  it('accepts HMAC only with an explicitly configured secret and HMAC algorithms', async () => {
    const secret = 'a-shared-secret-that-is-long-enough-32b'
    const validator = make({ secret, algorithms: ['HS256'] })
    const good = await issuer.mint({ scope: 'x' }, { header: { alg: 'HS256' }, secret })
    expect((await validator.verify(good)).scopes.has('x')).toBe(true)
    const wrong = await issuer.mint({}, { header: { alg: 'HS256' }, secret: secret + '!' })
    await expectInvalid(validator.verify(wrong), 'ERR_TOKEN_SIGNATURE_INVALID')
    const hs512 = await issuer.mint({}, { header: { alg: 'HS512' }, secret })
    await expectInvalid(validator.verify(hs512), 'ERR_TOKEN_ALG_NOT_ALLOWED')
    const rsa = await issuer.mint()
    await expectInvalid(validator.verify(rsa), 'ERR_TOKEN_ALG_NOT_ALLOWED')
    expect(() => make({ secret: 'short' })).toThrow(/at least 32 bytes/)
    expect(() => make({ secret, algorithms: ['RS256'] })).toThrow(TypeError)
  })

  it('refuses a token signed by a foreign key that carries the real kid', async () => {
    const foreign = await issuer.generateKey('RS256', { kid: issuer.activeKey.kid })
    const token = await issuer.mint({}, { key: foreign })
    await expectInvalid(make().verify(token), 'ERR_TOKEN_SIGNATURE_INVALID')
  })

  it('refuses a token whose alg does not fit the key named by kid', async () => {
    const ec = await issuer.generateKey('ES256', { kid: issuer.activeKey.kid })
    const token = await issuer.mint({}, { key: ec })
    // ES256 is allowed, but the published key with that kid is RSA: no candidate key.
    await expectInvalid(make().verify(token), 'ERR_TOKEN_KEY_NOT_FOUND')
  })

  it('refuses algorithms outside a narrowed allow-list', async () => {
    const token = await issuer.mint()
    await expectInvalid(make({ algorithms: ['ES256'] }).verify(token), 'ERR_TOKEN_ALG_NOT_ALLOWED')
  })

  it('never fetches or uses keys named or carried by the token (jku, x5u, jwk, x5c)', async () => {
    const foreign = await issuer.generateKey('RS256')
    const before = issuer.requests.other
    const counting = `${issuer.url}/attacker-keys`
    const token = await issuer.mint(
      {},
      {
        key: foreign,
        header: { jku: counting, x5u: counting, jwk: foreign.publicJwk, x5c: ['AAAA'] },
      },
    )
    await expectInvalid(make().verify(token), 'ERR_TOKEN_KEY_NOT_FOUND')
    const kidless = await issuer.mint(
      {},
      { key: foreign, header: { kid: undefined, jwk: foreign.publicJwk } },
    )
    await expectInvalid(make().verify(kidless), 'ERR_TOKEN_SIGNATURE_INVALID')
    expect(issuer.requests.other).toBe(before)
  })

  it('verifies a token without kid against the fitting keys of the set', async () => {
    const token = await issuer.mint({}, { header: { kid: undefined } })
    expect((await make().verify(token)).claims.iss).toBe(issuer.issuer)
  })

  it('refuses crit, b64:false and a non-string kid', async () => {
    const validator = make()
    await expectInvalid(
      validator.verify(await issuer.mint({}, { header: { crit: ['exp'], exp: 1 } })),
      'ERR_TOKEN_CRIT_UNSUPPORTED',
    )
    await expectInvalid(
      validator.verify(await issuer.mint({}, { header: { b64: false } })),
      'ERR_TOKEN_MALFORMED',
    )
    await expectInvalid(
      validator.verify(await issuer.mint({}, { header: { kid: 42 } })),
      'ERR_TOKEN_MALFORMED',
    )
  })

  it('checks typ: access-token types pass, anything else fails; strict mode needs at+jwt', async () => {
    const validator = make()
    for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT', 'JWT', undefined]) {
      const token = await issuer.mint({}, { header: { typ } })
      expect((await validator.verify(token)).claims.iss).toBe(issuer.issuer)
    }
    for (const typ of ['id_token+jwt', 'JOSE', 'dpop+jwt', 7]) {
      const token = await issuer.mint({}, { header: { typ } })
      await expectInvalid(validator.verify(token), 'ERR_TOKEN_TYPE_INVALID')
    }
    const strict = make({ strict: true })
    await expectInvalid(
      strict.verify(await issuer.mint({}, { header: { typ: 'JWT' } })),
      'ERR_TOKEN_TYPE_INVALID',
    )
    await expectInvalid(
      strict.verify(await issuer.mint({}, { header: { typ: undefined } })),
      'ERR_TOKEN_TYPE_INVALID',
    )
    expect((await strict.verify(await issuer.mint())).claims.client_id).toBe('test-client')
    for (const claim of ['sub', 'client_id', 'iat', 'jti']) {
      const error = await expectInvalid(
        strict.verify(await issuer.mint({ [claim]: undefined })),
        'ERR_TOKEN_CLAIM_INVALID',
      )
      expect(error.message).toContain(claim)
    }
  })

  it('checks exp with the documented tolerance, at the boundary', async () => {
    const validator = make({ clockTolerance: 30 })
    const t = Math.floor(now / 1000)
    expect(await validator.verify(await issuer.mint({ exp: t - 29 }))).toBeTruthy()
    await expectInvalid(validator.verify(await issuer.mint({ exp: t - 30 })), 'ERR_TOKEN_EXPIRED')
    await expectInvalid(
      make({ clockTolerance: 0 }).verify(await issuer.mint({ exp: t })),
      'ERR_TOKEN_EXPIRED',
    )
    await expectInvalid(
      validator.verify(await issuer.mint({ exp: undefined })),
      'ERR_TOKEN_CLAIM_INVALID',
    )
    await expectInvalid(
      validator.verify(await issuer.mint({ exp: String(t + 60) })),
      'ERR_TOKEN_CLAIM_INVALID',
    )
    await expectInvalid(
      validator.verify(await issuer.mint({ exp: Number.POSITIVE_INFINITY })),
      'ERR_TOKEN_CLAIM_INVALID',
    )
  })

  it('checks nbf and iat types, and maxTokenAge', async () => {
    const t = Math.floor(now / 1000)
    const validator = make({ clockTolerance: 5 })
    expect(await validator.verify(await issuer.mint({ nbf: t + 5 }))).toBeTruthy()
    await expectInvalid(
      validator.verify(await issuer.mint({ nbf: t + 6 })),
      'ERR_TOKEN_NOT_YET_VALID',
    )
    await expectInvalid(
      validator.verify(await issuer.mint({ nbf: 'soon' })),
      'ERR_TOKEN_CLAIM_INVALID',
    )
    await expectInvalid(
      validator.verify(await issuer.mint({ iat: [t] })),
      'ERR_TOKEN_CLAIM_INVALID',
    )

    const aged = make({ clockTolerance: 5, maxTokenAge: 60 })
    expect(await aged.verify(await issuer.mint({ iat: t - 65 }))).toBeTruthy()
    await expectInvalid(aged.verify(await issuer.mint({ iat: t - 66 })), 'ERR_TOKEN_TOO_OLD')
    await expectInvalid(
      aged.verify(await issuer.mint({ iat: undefined })),
      'ERR_TOKEN_CLAIM_INVALID',
    )
    await expectInvalid(aged.verify(await issuer.mint({ iat: t + 600 })), 'ERR_TOKEN_NOT_YET_VALID')
  })

  it('refuses an iat in the future beyond the clock tolerance without maxTokenAge (issue 9, item 5; RFC 7519 §4.1.6)', async () => {
    const t = Math.floor(now / 1000)
    for (const cache of [undefined, false] as const) {
      const validator = make({ clockTolerance: 5, ...(cache === false && { tokenCache: false }) })
      expect(await validator.verify(await issuer.mint({ iat: t + 5 }))).toBeTruthy()
      await expectInvalid(
        validator.verify(await issuer.mint({ iat: t + 6 })),
        'ERR_TOKEN_NOT_YET_VALID',
      )
    }
  })

  it('a cached token whose iat was within the tolerance stays valid; the cache honours iat like the checks (issue 9, item 5)', async () => {
    let clock = now
    const t = Math.floor(now / 1000)
    const validator = make({ clockTolerance: 5, clock: () => clock })
    const token = await issuer.mint({ iat: t + 5, exp: t + 60 })
    expect(await validator.verify(token)).toBeTruthy()
    clock += 1000
    expect(await validator.verify(token)).toBeTruthy()
  })

  it('requires the exact issuer', async () => {
    const validator = make()
    for (const iss of [
      issuer.issuer + '/',
      issuer.issuer.toUpperCase(),
      'https://evil.example',
      undefined,
      1,
    ]) {
      await expectInvalid(validator.verify(await issuer.mint({ iss })), 'ERR_TOKEN_ISSUER_INVALID')
    }
  })

  it('requires a configured audience in aud (string or array)', async () => {
    const validator = make({ audience: [AUDIENCE, 'urn:other'] })
    expect(await validator.verify(await issuer.mint({ aud: 'urn:other' }))).toBeTruthy()
    expect(await validator.verify(await issuer.mint({ aud: ['x', AUDIENCE] }))).toBeTruthy()
    for (const aud of ['https://api.example.com/', ['x', 'y'], [], [AUDIENCE, 3], undefined, 42]) {
      await expectInvalid(
        validator.verify(await issuer.mint({ aud })),
        'ERR_TOKEN_AUDIENCE_INVALID',
      )
    }
    expect(() => createAccessTokenValidator({ issuer: issuer.issuer })).toThrow(
      /"audience" is required/,
    )
  })

  it('refuses an ID token of the same issuer presented as an access token', async () => {
    const idToken = await issuer.mint(
      { aud: 'test-client', nonce: 'n-0S6_WzA2Mj', azp: 'test-client' },
      { header: { typ: 'JWT' } },
    )
    await expectInvalid(make().verify(idToken), 'ERR_TOKEN_AUDIENCE_INVALID')
  })

  it('type-checks sub, client_id, jti and scope, and enforces requiredClaims', async () => {
    const validator = make({ requiredClaims: ['tenant'] })
    for (const claim of ['sub', 'client_id', 'jti', 'scope']) {
      await expectInvalid(
        validator.verify(await issuer.mint({ tenant: 't', [claim]: { nested: true } })),
        'ERR_TOKEN_CLAIM_INVALID',
      )
    }
    const missing = await expectInvalid(
      validator.verify(await issuer.mint()),
      'ERR_TOKEN_CLAIM_INVALID',
    )
    expect(missing.message).toContain('tenant')
    expect((await validator.verify(await issuer.mint({ tenant: 't' }))).claims.tenant).toBe('t')
  })

  it('reads scopes from scope and scp by default, and from configured claims', async () => {
    const validator = make()
    const both = await validator.verify(await issuer.mint({ scope: 'a  b', scp: ['b', 'c'] }))
    expect([...both.scopes].sort()).toEqual(['a', 'b', 'c'])
    const scpString = await validator.verify(await issuer.mint({ scp: 'd e' }))
    expect([...scpString.scopes]).toEqual(['d', 'e'])
    await expectInvalid(
      validator.verify(await issuer.mint({ scp: [1, 2] })),
      'ERR_TOKEN_CLAIM_INVALID',
    )
    const auth0 = make({ scopeClaims: ['permissions'] })
    const perms = await auth0.verify(
      await issuer.mint({ scope: 'openid', permissions: ['read:orders'] }),
    )
    expect([...perms.scopes]).toEqual(['read:orders'])
  })

  it('limits the token size before decoding', async () => {
    const validator = make({ maxTokenLength: 1000 })
    const big = await issuer.mint({ padding: 'x'.repeat(2000) })
    await expectInvalid(validator.verify(big), 'ERR_TOKEN_TOO_LARGE')
    await expectInvalid(make().verify('a'.repeat(5_000_000)), 'ERR_TOKEN_TOO_LARGE')
  })

  it('rejects malformed compact serialisations with a clear code', async () => {
    const validator = make()
    const good = await issuer.mint()
    const [h, p, s] = good.split('.') as [string, string, string]
    const cases = [
      '',
      'abc',
      'a.b',
      `${h}.${p}`,
      `${h}.${p}.`,
      `${h}..${s}`,
      `${h}.${p}.${s}.x.y`,
      `${h}.${p}.${s}=`,
      `eyJhb.${p}.${s}`, // a 4n+1 length is never base64
      `e30.${p}.${s}`, // {} header: no alg
      `${Buffer.from('[1]').toString('base64url')}.${p}.${s}`,
      `${h}.${Buffer.from('"str"').toString('base64url')}.${s}`,
      `${h}.${Buffer.from([0xff, 0xfe, 0x7b, 0x7d]).toString('base64url')}.${s}`,
      `${h}.${Buffer.from('{"a":').toString('base64url')}.${s}`,
    ]
    for (const token of cases) {
      const error = await rejection(validator.verify(token))
      expect(error).toBeInstanceOf(InvalidTokenError)
      expect(['ERR_TOKEN_MALFORMED', 'ERR_TOKEN_ALG_NOT_ALLOWED']).toContain(error.code)
    }
    await expectInvalid(validator.verify(12 as unknown as string), 'ERR_TOKEN_MALFORMED')
  })

  it('refuses a valid signature spelled non-canonically (unused trailing bits set)', async () => {
    const validator = make()
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const token = await issuer.mint({ jti: 'canonical' })
    expect(await validator.verify(token)).toBeTruthy()
    const last = token.charAt(token.length - 1)
    for (const bit of [1, 2, 4, 8]) {
      const respelled = token.slice(0, -1) + alphabet.charAt(alphabet.indexOf(last) ^ bit)
      // Same decoded bytes, so the signature would verify: only the spelling is refused.
      expect(Buffer.from(respelled.split('.')[2]!, 'base64url')).toEqual(
        Buffer.from(token.split('.')[2]!, 'base64url'),
      )
      await expectInvalid(validator.verify(respelled), 'ERR_TOKEN_MALFORMED')
    }
  })

  it('refuses validly signed tokens with duplicate JSON members in header or payload', async () => {
    const validator = make()
    const { kid, privateKey } = issuer.activeKey
    const exp = now / 1000 + 60
    const claims = `"iss":"${issuer.issuer}","aud":"${AUDIENCE}","exp":${exp}`
    const sign = (header: string, payload: string) => {
      const input = `${Buffer.from(header).toString('base64url')}.${Buffer.from(payload).toString('base64url')}`
      return `${input}.${cryptoSign('sha256', Buffer.from(input), privateKey).toString('base64url')}`
    }
    const header = `{"alg":"RS256","kid":"${kid}"}`
    // Control: the same construction without duplicates verifies, so only duplicates differ.
    const nested = `{${claims},"x":{"scope":"a","n":[{"scope":1}]},"s":"q\\"{,\\"scope\\":"}`
    expect((await validator.verify(sign(header, nested))).claims.exp).toBe(exp)
    await expectInvalid(
      validator.verify(sign(`{"alg":"RS256","kid":"${kid}","kid":"other"}`, `{${claims}}`)),
      'ERR_TOKEN_MALFORMED',
    )
    await expectInvalid(
      validator.verify(sign(header, `{${claims},"scope":"a","scope":"admin"}`)),
      'ERR_TOKEN_MALFORMED',
    )
    await expectInvalid(
      validator.verify(sign(header, `{"aud":"https://other.example",${claims}}`)),
      'ERR_TOKEN_MALFORMED',
    )
  })

  it('never puts the token or an unverified claim value in an error message', async () => {
    const validator = make()
    const marker = 'SECRET-MARKER-VALUE'
    const tokens = [
      await issuer.mint({ iss: marker }),
      await issuer.mint({ aud: marker }),
      await issuer.mint({ sub: { marker } }),
      await issuer.mint({}, { header: { typ: marker } }),
      await issuer.mint({}, { header: { alg: 'HS256', kid: marker }, secret: marker }),
      encodeToken({ header: { alg: marker }, payload: { marker }, signature: 'AAAA' }),
    ]
    for (const token of tokens) {
      const error = await rejection(validator.verify(token))
      for (const text of [error.message, error.challenge, JSON.stringify(error.body)]) {
        expect(text).not.toContain(marker)
        expect(text).not.toContain(token.slice(0, 20))
      }
    }
  })
})
