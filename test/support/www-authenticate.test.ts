import { describe, expect, it } from 'vitest'
import { bearerChallenge, dpopChallenge, parseWwwAuthenticate } from './www-authenticate.js'

describe('parseWwwAuthenticate', () => {
  it('parses a bare scheme', () => {
    expect(parseWwwAuthenticate('Bearer')).toEqual([{ scheme: 'Bearer', params: {} }])
  })

  it('parses quoted and token parameters, lower-casing names', () => {
    expect(
      parseWwwAuthenticate('Bearer Realm="api", error=invalid_token, Error_Description="bad"'),
    ).toEqual([
      {
        scheme: 'Bearer',
        params: { realm: 'api', error: 'invalid_token', error_description: 'bad' },
      },
    ])
  })

  it('unescapes quoted-pairs and keeps commas and equals signs inside quoted strings', () => {
    const [c] = parseWwwAuthenticate(String.raw`Bearer error_description="a \"b\", c=\\d"`)
    expect(c?.params.error_description).toBe('a "b", c=\\d')
  })

  it('accepts bad whitespace around "=" and empty list elements', () => {
    expect(parseWwwAuthenticate(' , Bearer realm = "x" ,, scope="a b" ,')).toEqual([
      { scheme: 'Bearer', params: { realm: 'x', scope: 'a b' } },
    ])
  })

  it('accepts an empty quoted-string value', () => {
    expect(parseWwwAuthenticate('Bearer realm=""')[0]?.params.realm).toBe('')
  })

  it('splits several challenges', () => {
    expect(
      parseWwwAuthenticate('Basic realm="b", Bearer realm="a", error="invalid_token", Negotiate'),
    ).toEqual([
      { scheme: 'Basic', params: { realm: 'b' } },
      { scheme: 'Bearer', params: { realm: 'a', error: 'invalid_token' } },
      { scheme: 'Negotiate', params: {} },
    ])
  })

  it('parses token68 challenges, including trailing "="', () => {
    expect(parseWwwAuthenticate('Negotiate abc+/==, Bearer')).toEqual([
      { scheme: 'Negotiate', token68: 'abc+/==', params: {} },
      { scheme: 'Bearer', params: {} },
    ])
    // By the grammar, a lone `name=` is a token68, not an empty parameter.
    expect(parseWwwAuthenticate('Bearer realm=')[0]?.token68).toBe('realm=')
  })

  it.each([
    ['', 'no challenge'],
    ['Bearer realm="x', 'unterminated quoted-string'],
    ['Bearer realm="x\\', 'unterminated quoted-pair'],
    ['Bearer realm="a", realm="b"', 'repeated parameter'],
    ['Bearer realm= ;', 'expected a parameter value'],
    ['Bearer realm="a" error="b"', 'expected ","'],
    ['Bearer;', 'unexpected character'],
    ['=Bearer', 'expected an auth-scheme'],
  ])('rejects %j (%s)', (header, message) => {
    expect(() => parseWwwAuthenticate(header)).toThrow(message)
  })
})

describe('bearerChallenge', () => {
  it('returns the single Bearer challenge, whatever the scheme case', () => {
    expect(bearerChallenge('Basic realm="b", bearer realm="a"').params).toEqual({ realm: 'a' })
  })

  it('throws without a header or without exactly one Bearer challenge', () => {
    expect(() => bearerChallenge(null)).toThrow('no WWW-Authenticate')
    expect(() => bearerChallenge('Basic realm="b"')).toThrow('one Bearer challenge')
    expect(() => bearerChallenge('Bearer, Bearer realm="x"')).toThrow('one Bearer challenge')
  })
})

describe('dpopChallenge', () => {
  it('returns the single DPoP challenge beside a Bearer one, whatever the scheme case', () => {
    const header = 'Bearer realm="a", error="invalid_token", dpop algs="ES256 EdDSA"'
    expect(dpopChallenge(header).params).toEqual({ algs: 'ES256 EdDSA' })
    expect(bearerChallenge(header).params.error).toBe('invalid_token')
  })

  it('throws without exactly one DPoP challenge', () => {
    expect(() => dpopChallenge('Bearer realm="a"')).toThrow('one DPoP challenge')
    expect(() => dpopChallenge('DPoP algs="ES256", DPoP algs="RS256"')).toThrow(
      'one DPoP challenge',
    )
  })
})
