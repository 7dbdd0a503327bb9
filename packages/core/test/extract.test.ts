import { describe, expect, it } from 'vitest'
import {
  BearerGuardError,
  createAccessTokenValidator,
  type AccessTokenValidatorOptions,
  type BearerRequest,
} from '../src/index.js'

// Extraction happens before any key is needed, so an unreachable issuer is fine here: every
// case below is decided without I/O, and a token that gets through fails on the key set (503).
const base: AccessTokenValidatorOptions = {
  issuer: 'https://issuer.invalid',
  audience: 'api',
  fetch: () => Promise.reject(new Error('no network in this test')),
}

/** A request described by the parts these tests vary. */
interface Parts {
  readonly authorization?: string | readonly string[]
  readonly contentType?: string
  readonly cookie?: string | readonly string[]
  readonly headers?: Record<string, string | readonly string[]>
  readonly method?: string
  readonly query?: unknown
  readonly body?: unknown
}

function request(parts: Parts): BearerRequest {
  const headers: Record<string, string | readonly string[] | undefined> = { ...parts.headers }
  if (parts.authorization !== undefined) headers.authorization = parts.authorization
  if (parts.contentType !== undefined) headers['content-type'] = parts.contentType
  if (parts.cookie !== undefined) headers.cookie = parts.cookie
  return { method: parts.method, headers, query: parts.query, body: parts.body }
}

async function outcome(parts: Parts, options: Partial<AccessTokenValidatorOptions> = {}) {
  const validator = createAccessTokenValidator({ ...base, ...options })
  try {
    await validator.verifyRequest(request(parts))
  } catch (error) {
    if (!(error instanceof BearerGuardError)) throw error
    return `${error.status} ${error.code}`
  }
  return 'accepted'
}

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln'
const REACHES_KEYS = '503 ERR_KEYSET_UNAVAILABLE'

describe('token extraction (RFC 6750 §2)', () => {
  it('treats a missing header or another scheme as no credentials', async () => {
    expect(await outcome({})).toBe('401 ERR_MISSING_CREDENTIALS')
    expect(await outcome({ authorization: '' })).toBe('401 ERR_MISSING_CREDENTIALS')
    expect(await outcome({ authorization: 'Basic dXNlcjpwYXNz' })).toBe(
      '401 ERR_MISSING_CREDENTIALS',
    )
    expect(await outcome({ authorization: 'Bearerx abc' })).toBe('401 ERR_MISSING_CREDENTIALS')
    expect(await outcome({ authorization: 'DPoP abc' })).toBe('401 ERR_MISSING_CREDENTIALS')
  })

  it('matches the scheme case-insensitively and tolerates extra spaces', async () => {
    for (const header of [`Bearer ${JWT}`, `bearer ${JWT}`, `BEARER ${JWT}`, `Bearer   ${JWT}  `]) {
      expect(await outcome({ authorization: header })).toBe(REACHES_KEYS)
    }
  })

  it('RFC 9110 §11.1: "a case-insensitive token" — only the two cases of each letter match', async () => {
    const dpop = { dpop: { origin: 'https://api.example.com' } }
    for (const header of [`bEaReR ${JWT}`, `dpop ${JWT}`, `DPOP ${JWT}`, `dPoP ${JWT}`]) {
      expect(await outcome({ authorization: header }, dpop)).toBe(REACHES_KEYS)
    }
    // Each letter of each scheme replaced by a character with the same low byte (above U+00FF),
    // or differing in another bit than the case bit 0x20: never that letter, in any case.
    for (const scheme of ['Bearer', 'DPoP']) {
      for (let i = 0; i < scheme.length; i++) {
        const letter = scheme.toLowerCase().charCodeAt(i)
        for (const other of [letter + 0x100, letter ^ 0x40]) {
          const lookalike = `${scheme.slice(0, i)}${String.fromCharCode(other)}${scheme.slice(i + 1)}`
          expect(await outcome({ authorization: `${lookalike} ${JWT}` }, dpop)).toBe(
            '401 ERR_MISSING_CREDENTIALS',
          )
        }
      }
    }
  })

  it('refuses Bearer without a token, or a token that is not token68, with invalid_request', async () => {
    for (const header of [
      'Bearer',
      'Bearer ',
      'Bearer    ',
      'Bearer a b',
      'Bearer a,b',
      'Bearer realm="x"',
      'Bearer =abc',
      'Bearer é',
    ]) {
      expect(await outcome({ authorization: header }), header).toBe('400 ERR_INVALID_REQUEST')
    }
    expect(await outcome({ authorization: 'Bearer abc==' })).not.toBe('400 ERR_INVALID_REQUEST')
    // Only SP and HTAB are white space around the token; U+00A0 (obs-text 0xA0) is not.
    expect(await outcome({ authorization: `Bearer  ${JWT}\t` })).toBe(REACHES_KEYS)
    for (const header of [`Bearer ${JWT}\u00a0`, `Bearer \u00a0${JWT}`, `Bearer ${JWT}\u2028`]) {
      expect(await outcome({ authorization: header }), header).toBe('400 ERR_INVALID_REQUEST')
    }
  })

  it('refuses more than one Authorization header', async () => {
    expect(await outcome({ authorization: [`Bearer ${JWT}`, `Bearer ${JWT}`] })).toBe(
      '400 ERR_INVALID_REQUEST',
    )
    expect(await outcome({ authorization: [`Bearer ${JWT}`] })).toBe(REACHES_KEYS)
  })

  it('ignores the query unless enabled, but refuses a token sent both ways', async () => {
    const query = { access_token: JWT }
    expect(await outcome({ query })).toBe('401 ERR_MISSING_CREDENTIALS')
    expect(await outcome({ query, authorization: `Bearer ${JWT}` })).toBe('400 ERR_INVALID_REQUEST')
    expect(await outcome({ query }, { allowQuery: true })).toBe(REACHES_KEYS)
    expect(
      await outcome({ query: new URLSearchParams({ access_token: JWT }) }, { allowQuery: true }),
    ).toBe(REACHES_KEYS)
    const twice = new URLSearchParams([
      ['access_token', JWT],
      ['access_token', JWT],
    ])
    expect(await outcome({ query: twice }, { allowQuery: true })).toBe('400 ERR_INVALID_REQUEST')
    expect(await outcome({ query: { access_token: [JWT, JWT] } }, { allowQuery: true })).toBe(
      '400 ERR_INVALID_REQUEST',
    )
    expect(await outcome({ query: { access_token: 'a b' } }, { allowQuery: true })).toBe(
      '400 ERR_INVALID_REQUEST',
    )
  })

  it('reads the form body only when enabled, for form content types, not on GET', async () => {
    const form = {
      body: { access_token: JWT },
      contentType: 'application/x-www-form-urlencoded; charset=utf-8',
      method: 'POST',
    }
    expect(await outcome(form)).toBe('401 ERR_MISSING_CREDENTIALS')
    expect(await outcome(form, { allowFormBody: true })).toBe(REACHES_KEYS)
    expect(await outcome({ ...form, method: 'GET' }, { allowFormBody: true })).toBe(
      '401 ERR_MISSING_CREDENTIALS',
    )
    expect(
      await outcome({ ...form, contentType: 'application/json' }, { allowFormBody: true }),
    ).toBe('401 ERR_MISSING_CREDENTIALS')
    expect(
      await outcome({ ...form, authorization: `Bearer ${JWT}` }, { allowFormBody: true }),
    ).toBe('400 ERR_INVALID_REQUEST')
    expect(
      await outcome(
        { ...form, query: { access_token: JWT } },
        { allowFormBody: true, allowQuery: true },
      ),
    ).toBe('400 ERR_INVALID_REQUEST')
  })
})

describe('opt-in token sources: a cookie and a custom header (RFC 6750 §2: one method per request)', () => {
  const cookie = { tokenSources: { cookie: 'at' } }
  const header = { tokenSources: { header: 'X-Access-Token' } }

  it('reads the named cookie only when enabled, among other cookies, quoted or not', async () => {
    expect(await outcome({ cookie: `at=${JWT}` })).toBe('401 ERR_MISSING_CREDENTIALS')
    expect(await outcome({ cookie: `theme=dark; at=${JWT}; lang=en` }, cookie)).toBe(REACHES_KEYS)
    expect(await outcome({ cookie: `at="${JWT}"` }, cookie)).toBe(REACHES_KEYS)
    expect(await outcome({ cookie: ['theme=dark', `at=${JWT}`] }, cookie)).toBe(REACHES_KEYS)
    expect(await outcome({ cookie: 'theme=dark; xat=1' }, cookie)).toBe(
      '401 ERR_MISSING_CREDENTIALS',
    )
  })

  it('refuses a malformed or repeated token cookie with invalid_request', async () => {
    expect(await outcome({ cookie: 'at=' }, cookie)).toBe('400 ERR_INVALID_REQUEST')
    expect(await outcome({ cookie: 'at=a,b' }, cookie)).toBe('400 ERR_INVALID_REQUEST')
    expect(await outcome({ cookie: `at=${JWT}; at=${JWT}` }, cookie)).toBe(
      '400 ERR_INVALID_REQUEST',
    )
  })

  it('reads a bare token from the custom header only when enabled', async () => {
    const parts = { headers: { 'x-access-token': JWT } }
    expect(await outcome(parts)).toBe('401 ERR_MISSING_CREDENTIALS')
    expect(await outcome(parts, header)).toBe(REACHES_KEYS)
    expect(await outcome({ headers: { 'x-access-token': 'a b' } }, header)).toBe(
      '400 ERR_INVALID_REQUEST',
    )
    expect(await outcome({ headers: { 'x-access-token': [JWT, JWT] } }, header)).toBe(
      '400 ERR_INVALID_REQUEST',
    )
  })

  it('refuses a token sent two ways: header and cookie, header and custom header, cookie and query', async () => {
    const both = { tokenSources: { cookie: 'at', header: 'x-access-token' } }
    expect(await outcome({ authorization: `Bearer ${JWT}`, cookie: `at=${JWT}` }, both)).toBe(
      '400 ERR_INVALID_REQUEST',
    )
    expect(
      await outcome({ authorization: `Bearer ${JWT}`, headers: { 'x-access-token': JWT } }, both),
    ).toBe('400 ERR_INVALID_REQUEST')
    expect(
      await outcome(
        { cookie: `at=${JWT}`, query: { access_token: JWT } },
        { ...both, allowQuery: true },
      ),
    ).toBe('400 ERR_INVALID_REQUEST')
  })

  it('checks the token source options at construction', () => {
    expect(() =>
      createAccessTokenValidator({ ...base, tokenSources: { header: 'Authorization' } }),
    ).toThrow(/other than Authorization/)
    expect(() => createAccessTokenValidator({ ...base, tokenSources: { header: 'x y' } })).toThrow(
      /field name/,
    )
    expect(() =>
      createAccessTokenValidator({ ...base, tokenSources: { cookies: 'at' } as never }),
    ).toThrow(/did you mean 'cookie'/)
  })
})

describe('optional authentication: anonymous callers pass, a bad token does not (issue 10, §6)', () => {
  const validator = () => createAccessTokenValidator(base)

  it('resolves to undefined without credentials or with another scheme', async () => {
    await expect(validator().verifyRequest({ headers: {} }, { optional: true })).resolves.toBe(
      undefined,
    )
    await expect(
      validator().verifyRequest(
        { headers: { authorization: 'Basic dXNlcjpwYXNz' } },
        { optional: true },
      ),
    ).resolves.toBe(undefined)
  })

  it('still refuses a malformed request and a bad token', async () => {
    const refusal = async (authorization: string) => {
      try {
        await validator().verifyRequest({ headers: { authorization } }, { optional: true })
      } catch (error) {
        if (error instanceof BearerGuardError) return `${error.status} ${error.code}`
        throw error
      }
      return 'accepted'
    }
    expect(await refusal('Bearer ')).toBe('400 ERR_INVALID_REQUEST')
    expect(await refusal('Bearer not-a-jwt')).toBe('401 ERR_TOKEN_MALFORMED')
    expect(await refusal(`Bearer ${JWT}`)).toBe(REACHES_KEYS)
  })
})
