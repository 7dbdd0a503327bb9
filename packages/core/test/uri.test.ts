/**
 * RFC 3986 §6.2.2 / §6.2.3 normalisation of htu values, against the RFC's own examples.
 */
import { describe, expect, it } from 'vitest'
import { normalizeHttpUri, normalizeOrigin, removeDotSegments } from '../src/binding/uri.js'

describe('normalizeHttpUri (RFC 3986 §6.2.2, §6.2.3)', () => {
  it.each([
    // §6.2.2.1 case: scheme and host lower case, hex digits upper case.
    ['HTTP://www.EXAMPLE.com/a%c2%b1b', 'http://www.example.com/a%C2%B1b'],
    // §6.2.2.2 percent-encoded unreserved characters decoded.
    ['http://example.com/%7Efoo%2dbar%5F%2E', 'http://example.com/~foo-bar_.'],
    // §6.2.3 scheme-based: empty path, default and empty port.
    ['http://example.com', 'http://example.com/'],
    ['http://example.com:/', 'http://example.com/'],
    ['http://example.com:80/', 'http://example.com/'],
    ['https://example.com:443/x', 'https://example.com/x'],
    ['https://example.com:80/x', 'https://example.com:80/x'],
    ['http://[::1]:8080/x', 'http://[::1]:8080/x'],
    ['http://[2001:DB8::1]/', 'http://[2001:db8::1]/'],
  ])('%s is %s', (value, normalized) => {
    expect(normalizeHttpUri(value)).toBe(normalized)
  })

  it.each([
    'http://example.com/?q',
    'http://example.com/#f',
    'http://user@example.com/',
    'ftp://example.com/',
    'http:example.com/',
    'http:///x',
    'http://exa mple.com/',
    'http://example.com/a b',
    'http://example.com/%zz',
    'http://example.com/%4',
    'http://example.com/é',
    'http://example.com:99999/',
    'http://example.com:8o/',
    'http://[::1/',
    'http://[::1]x/',
  ])('%s is not a URI htu may be', (value) => {
    expect(normalizeHttpUri(value)).toBeUndefined()
  })

  it('removes dot segments as §5.2.4 does', () => {
    expect(removeDotSegments('/a/b/c/./../../g')).toBe('/a/g')
    expect(removeDotSegments('/a/b/.')).toBe('/a/b/')
    expect(removeDotSegments('/a/b/..')).toBe('/a/')
    expect(removeDotSegments('/../x')).toBe('/x')
    expect(removeDotSegments('/a//b/')).toBe('/a//b/')
    expect(normalizeHttpUri('http://example.com/a/%2E%2E/b')).toBe('http://example.com/b')
  })

  it('takes an origin only', () => {
    expect(normalizeOrigin('https://API.example.com:443')).toBe('https://api.example.com')
    expect(normalizeOrigin('https://api.example.com/')).toBe('https://api.example.com')
    expect(normalizeOrigin('https://api.example.com/v1')).toBeUndefined()
    expect(normalizeOrigin('https://api.example.com/v1/')).toBeUndefined()
  })
})
