import { decodeProtectedHeader } from 'jose'
import { describe, expect, it } from 'vitest'
import { encodeToken } from '../src/index.js'

const b64 = (text: string): string => Buffer.from(text).toString('base64url')

describe('encodeToken', () => {
  it('builds an unsigned alg:none token with an empty signature by default', () => {
    const token = encodeToken({ header: { alg: 'none' }, payload: { sub: 'admin' } })
    expect(token).toBe('eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.')
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'none' })
  })

  it('encodes string parts verbatim, e.g. duplicate JSON members', () => {
    const header = '{"alg":"RS256","alg":"none"}'
    const token = encodeToken({ header, payload: 'not json', signature: 'c2ln' })
    expect(token).toBe(`${b64(header)}.${b64('not json')}.c2ln`)
    const [h, p, s] = token.split('.')
    expect(Buffer.from(h!, 'base64url').toString()).toBe(header)
    expect(Buffer.from(p!, 'base64url').toString()).toBe('not json')
    expect(s).toBe('c2ln')
  })

  it('JSON-encodes non-string values, including arrays, numbers and null', () => {
    expect(encodeToken({ header: [1], payload: null })).toBe(`${b64('[1]')}.${b64('null')}.`)
    expect(encodeToken({ header: 42, payload: undefined })).toBe(`${b64('42')}..`)
  })

  it('keeps non-ASCII text as UTF-8 and uses unpadded base64url', () => {
    const token = encodeToken({ header: { alg: 'RS256' }, payload: { name: 'Zoë ✓?>' } })
    expect(token).not.toMatch(/[=+/]/)
    const payload = token.split('.')[1]!
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))).toEqual({
      name: 'Zoë ✓?>',
    })
  })
})
