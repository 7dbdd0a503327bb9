import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { sign as cryptoSign } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAccessTokenValidator } from '../src/index.js'
import { AUDIENCE, expectInvalid } from './support/helpers.js'

/**
 * The strict compact-JWS decoding of jws/decode.ts, on validly signed tokens: a respelled segment
 * that node's base64url decoder would read as the same bytes must be refused, since the signature
 * would verify and the token would no longer be unique as a string (RFC 7515 §2, §7.1; RFC 4648 §5).
 */
describe('decoding: strict base64url, UTF-8 and JSON on validly signed tokens', () => {
  let issuer: TestIssuer
  let now: number
  const clock = () => now
  const make = () =>
    createAccessTokenValidator({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      clock,
      tokenCache: false,
    })

  beforeAll(async () => {
    now = Math.floor(Date.now() / 1000) * 1000
    issuer = await createTestIssuer({ clock })
  })
  afterAll(async () => {
    await issuer.close()
  })

  /** A token signed with the issuer's key over the given header and payload JSON texts. */
  function sign(header: string, payload: string): string {
    const { privateKey } = issuer.activeKey
    const input = `${Buffer.from(header).toString('base64url')}.${Buffer.from(payload).toString('base64url')}`
    return `${input}.${cryptoSign('sha256', Buffer.from(input), privateKey).toString('base64url')}`
  }
  const header = () => `{"alg":"RS256","kid":"${issuer.activeKey.kid}"}`
  const claims = () => `"iss":"${issuer.issuer}","aud":"${AUDIENCE}","exp":${now / 1000 + 60}`

  /**
   * A token whose three segments each hold `-` and `_`, so each can be respelled with `+` and `/`:
   * runs of `?` and `>` encode as `Pz8_` and `Pj4-` at any offset; the signature is tried anew.
   */
  async function mintWithUrlCharacters(): Promise<string> {
    for (let i = 0; i < 100; i++) {
      const token = await issuer.mint({ jti: `url-${i}`, note: NOTE }, { header: { note: NOTE } })
      if (token.split('.').every((segment) => /-/.test(segment) && /_/.test(segment))) return token
    }
    throw new Error('no signature with both - and _ in 100 tokens')
  }

  it('refuses every segment respelled with characters the decoder skips, misreads or stops at', async () => {
    const validator = make()
    const token = await mintWithUrlCharacters()
    expect((await validator.verify(token)).claims.note).toBe(NOTE)
    const segments = token.split('.')
    const respellings: { name: string; respell: (segment: string) => string }[] = [
      // Skipped by Buffer, so the bytes stay the same; one or two keep the length valid (not 4n+1).
      ...[' ', '!', '\t', '\n', '\u0000', '*', '\u00e9', '\u00ff', '\ud800', '\u{1f600}'].flatMap(
        (c) => [
          { name: `${JSON.stringify(c)} inserted`, respell: (s: string) => insert(s, c) },
          { name: `${JSON.stringify(c)} inserted twice`, respell: (s: string) => insert(s, c + c) },
        ],
      ),
      // Buffer reads only the low byte of a character above U+00FF: U+0141 is read as 'A'.
      { name: 'a character with 0x100 added', respell: (s) => lift(s) },
      // Buffer reads the base64 alphabet too: '+' as '-', '/' as '_'.
      { name: "'-' as '+' and '_' as '/'", respell: (s) => s.replace('-', '+').replace('_', '/') },
      { name: "'=' inserted", respell: (s) => insert(s, '=') },
      { name: 'padded', respell: (s) => s + '='.repeat((4 - (s.length % 4)) % 4 || 4) },
    ]
    for (let index = 0; index < 3; index++) {
      for (const { name, respell } of respellings) {
        const changed = segments.slice()
        changed[index] = respell(segments[index] as string)
        const respelled = changed.join('.')
        expect(respelled, `segment ${index}: ${name}`).not.toBe(token)
        await expectInvalid(validator.verify(respelled), 'ERR_TOKEN_MALFORMED')
      }
    }
    // The control: the same validator still accepts the token as issued.
    expect((await validator.verify(token)).token).toBe(token)
  })

  it('would verify the respellings if the decoded bytes were all that counted', async () => {
    // What the test above guards against: these spellings decode to the very same bytes.
    const token = await mintWithUrlCharacters()
    const signature = token.split('.')[2] as string
    const bytes = Buffer.from(signature, 'base64url')
    for (const respelled of [
      insert(signature, ' '),
      insert(signature, '\u00e9\u00e9'),
      lift(signature),
      signature.replace('-', '+').replace('_', '/'),
    ]) {
      expect(Buffer.from(respelled, 'base64url')).toEqual(bytes)
    }
  })

  it('accepts any valid UTF-8 in the payload and refuses invalid UTF-8 and a byte order mark (RFC 8259 §8.1)', async () => {
    const validator = make()
    const names = 'Zoë, 東京, 😀, \u2028'
    const auth = await validator.verify(sign(header(), `{${claims()},"name":"${names}"}`))
    expect(auth.claims.name).toBe(names)
    const input = (payload: Buffer) =>
      `${Buffer.from(header()).toString('base64url')}.${payload.toString('base64url')}`
    const signed = (payload: Buffer) =>
      `${input(payload)}.${cryptoSign('sha256', Buffer.from(input(payload)), issuer.activeKey.privateKey).toString('base64url')}`
    const text = (middle: string) => Buffer.from(`{${claims()},"name":"${middle}"}`)
    for (const bad of ['c0af', 'eda080', 'f4908080', 'e282', 'ff', '80']) {
      const [before, after] = [text('a'), text('b')]
      // Replace the 'a' of the name with the invalid sequence.
      const at = before.lastIndexOf('a')
      const payload = Buffer.concat([
        before.subarray(0, at),
        Buffer.from(bad, 'hex'),
        after.subarray(at + 1),
      ])
      await expectInvalid(validator.verify(signed(payload)), 'ERR_TOKEN_MALFORMED')
    }
    const bom = Buffer.concat([Buffer.from('efbbbf', 'hex'), text('a')])
    await expectInvalid(validator.verify(signed(bom)), 'ERR_TOKEN_MALFORMED')
    // U+FFFD itself (EF BF BD) is valid UTF-8: the decoder's replacement character must not be
    // mistaken for a replaced sequence, nor hide one next to it.
    const replacement = await validator.verify(signed(text('\uFFFD')))
    expect(replacement.claims.name).toBe('\uFFFD')
    const both = text('\uFFFDa')
    const at = both.lastIndexOf('a')
    const mixed = Buffer.concat([
      both.subarray(0, at),
      Buffer.from('ff', 'hex'),
      both.subarray(at + 1),
    ])
    await expectInvalid(validator.verify(signed(mixed)), 'ERR_TOKEN_MALFORMED')
  })

  it('decodes and verifies tokens larger than its 16 KiB scratch buffers the same way', async () => {
    const validator = createAccessTokenValidator({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      clock,
      tokenCache: false,
      maxTokenLength: 100_000,
    })
    for (const size of [16_000, 16_384, 40_000]) {
      const big = 'é'.repeat(size / 2)
      const token = sign(header(), `{${claims()},"big":"${big}"}`)
      expect((await validator.verify(token)).claims.big).toBe(big)
      // The signature of another payload of the same length: its signing input is checked whole.
      const other = sign(header(), `{${claims()},"big":"è${big.slice(1)}"}`)
      const altered = `${other.slice(0, other.lastIndexOf('.'))}${token.slice(token.lastIndexOf('.'))}`
      await expectInvalid(validator.verify(altered), 'ERR_TOKEN_SIGNATURE_INVALID')
    }
    const invalid = Buffer.concat([
      Buffer.from(`{${claims()},"big":"${'a'.repeat(20_000)}`),
      Buffer.from('ff', 'hex'),
      Buffer.from('"}'),
    ])
    const input = `${Buffer.from(header()).toString('base64url')}.${invalid.toString('base64url')}`
    const token = `${input}.${cryptoSign('sha256', Buffer.from(input), issuer.activeKey.privateKey).toString('base64url')}`
    await expectInvalid(validator.verify(token), 'ERR_TOKEN_MALFORMED')
  })

  it('counts members past escaped quotes and backslashes: duplicates are refused however they are spelled', async () => {
    const validator = make()
    const accepted = [
      `{${claims()},"s":"a\\\\","scope":"x"}`,
      `{${claims()},"s\\"":"\\"","scope":"x"}`,
      `{${claims()},"s":"\\\\\\"","t":["\\\\",{"scope":"y"}],"scope":"x"}`,
    ]
    for (const payload of accepted) {
      expect([...(await validator.verify(sign(header(), payload))).scopes]).toEqual(['x'])
    }
    const refused = [
      `{${claims()},"s":"a\\\\","scope":"x","scope":"y"}`,
      `{${claims()},"k\\"":1,"k\\"":2}`,
      `{${claims()},"\\u0073cope":"x","scope":"y"}`,
      `{${claims()},"s":"\\\\\\"","t":["\\\\",{"scope":"y"}],"scope":"x","s":"z"}`,
    ]
    for (const payload of refused) {
      await expectInvalid(validator.verify(sign(header(), payload)), 'ERR_TOKEN_MALFORMED')
    }
    await expectInvalid(
      validator.verify(
        sign(`{"alg":"RS256","kid":"a\\\\","kid":"${issuer.activeKey.kid}"}`, `{${claims()}}`),
      ),
      'ERR_TOKEN_MALFORMED',
    )
  })

  it('decodes many distinct headers right, again and again, frozen all the way down, and never shares a deeper one', async () => {
    const validator = make()
    // More distinct headers than the decoder keeps, twice over, so every kept one is replaced.
    const tokens = await Promise.all(
      Array.from({ length: 20 }, (_, n) => issuer.mint({ jti: `h-${n}` }, { header: { n } })),
    )
    for (let round = 0; round < 2; round++) {
      for (const [n, token] of tokens.entries()) {
        const auth = await validator.verify(token)
        expect(auth.header.n).toBe(n)
        expect(auth.claims.jti).toBe(`h-${n}`)
        expect(Object.isFrozen(auth.header)).toBe(true)
      }
    }
    // The same header twice: equal, and frozen, so sharing it hides nothing.
    const [one, two] = await Promise.all([
      validator.verify(await issuer.mint({ jti: 'same-1' })),
      validator.verify(await issuer.mint({ jti: 'same-2' })),
    ])
    expect(one.header).toEqual(two.header)
    expect(Object.isFrozen(two.header)).toBe(true)
    // A header holding an object of primitives (a DPoP proof's `jwk`) is kept frozen all the way
    // down: shared, and nobody can change it for another.
    const nested = { ext: { level: 1 } }
    const [a, b] = await Promise.all([
      validator.verify(await issuer.mint({ jti: 'nested-1' }, { header: nested })),
      validator.verify(await issuer.mint({ jti: 'nested-2' }, { header: nested })),
    ])
    expect(a.header).toEqual(b.header)
    expect(Object.isFrozen(a.header.ext)).toBe(true)
    expect(() => {
      ;(a.header.ext as { level: number }).level = 2
    }).toThrow(TypeError)
    expect(b.header.ext).toEqual({ level: 1 })
    // Deeper objects and arrays are decoded per token: never shared, so never frozen under anyone.
    for (const header of [{ ext: { deep: { level: 1 } } }, { ext: ['a', 'b'] }]) {
      const [c, d] = await Promise.all([
        validator.verify(await issuer.mint({ jti: 'deep-1' }, { header })),
        validator.verify(await issuer.mint({ jti: 'deep-2' }, { header })),
      ])
      expect(c.header).toEqual(d.header)
      expect(c.header.ext).not.toBe(d.header.ext)
    }
  })
})

const NOTE = '??????>>>>>>'

/** `text` with `inserted` placed in its middle. */
function insert(text: string, inserted: string): string {
  const at = text.length >> 1
  return text.slice(0, at) + inserted + text.slice(at)
}

/** `text` with its middle character moved up by 0x100: same low byte, another character. */
function lift(text: string): string {
  const at = text.length >> 1
  return text.slice(0, at) + String.fromCharCode(text.charCodeAt(at) + 0x100) + text.slice(at + 1)
}
