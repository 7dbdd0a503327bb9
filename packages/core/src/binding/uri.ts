/**
 * RFC 3986 normalisation of the absolute `http`/`https` URIs DPoP compares (`htu`, RFC 9449 §4.3:
 * "servers SHOULD employ syntax-based normalization (Section 6.2.2 of [RFC3986]) and scheme-based
 * normalization (Section 6.2.3 of [RFC3986]) before comparing the htu claim").
 */

const DEFAULT_PORTS: Readonly<Record<string, string>> = { http: '80', https: '443' }
/** `scheme "://" authority path-abempty`, nothing after: no query, no fragment. */
const ABSOLUTE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)$/
/** A reg-name or IPv4address (RFC 3986 §3.2.2) without percent-encoding. */
const REG_NAME = /^[A-Za-z0-9\-._~!$&'()*+,;=]+$/
/** An IP-literal: an IPv6 address in brackets (IPvFuture is not accepted). */
const IP_LITERAL = /^\[[0-9A-Fa-f:.]+\]$/
/** Characters a path may hold besides pct-encoded triplets: `pchar` and `/` (RFC 3986 §3.3). */
const PATH_CHAR = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]$/
const UNRESERVED = /^[A-Za-z0-9\-._~]$/
const HEX = /^[0-9A-Fa-f]{2}$/

/**
 * Normalises an absolute `http` or `https` URI (RFC 3986 §6.2.2, §6.2.3): scheme and host in
 * lower case, the default port (and an empty one) dropped, a port's leading zeros dropped,
 * percent-encoded unreserved characters decoded and other triplets in upper case, dot segments
 * removed (§5.2.4), an empty path made `/`. Returns `undefined` for anything else, including a
 * URI with a query, a fragment, user information, or characters a URI may not hold.
 */
export function normalizeHttpUri(value: string): string | undefined {
  const match = ABSOLUTE.exec(value)
  if (match === null) return undefined
  const [, rawScheme = '', authority = '', rawPath = ''] = match
  const scheme = rawScheme.toLowerCase()
  const defaultPort = DEFAULT_PORTS[scheme]
  if (defaultPort === undefined) return undefined
  const host = normalizeAuthority(authority, defaultPort)
  if (host === undefined) return undefined
  const path = normalizePath(rawPath === '' ? '/' : rawPath)
  return path === undefined ? undefined : `${scheme}://${host}${path}`
}

/**
 * The normalised form of an origin (`scheme "://" host [ ":" port ]`, an optional `/` and nothing
 * else), without a trailing `/`; `undefined` when `value` is not an `http`/`https` origin.
 */
export function normalizeOrigin(value: string): string | undefined {
  const normalized = normalizeHttpUri(value)
  if (normalized === undefined || !normalized.endsWith('/')) return undefined
  const origin = normalized.slice(0, -1)
  // A path beyond the root, e.g. `https://api.example.com/v1`, is not an origin.
  return origin.indexOf('/', origin.indexOf('//') + 2) === -1 ? origin : undefined
}

/**
 * RFC 9449 §4.3 item 9: `htu` against `origin` (normalised, see {@link normalizeOrigin}) plus the
 * path of `url`, the request target as received (its query and fragment ignored). The claim
 * itself may hold neither (§4.2: "without query and fragment parts"); both sides are compared
 * after RFC 3986 §6.2.2 and §6.2.3 normalisation. A target that is not origin-form matches
 * nothing: no host is ever read from the request.
 */
export function htuMatches(htu: string, url: string, origin: string): boolean {
  if (!url.startsWith('/')) return false
  let end = url.length
  const query = url.indexOf('?')
  const fragment = url.indexOf('#')
  if (query !== -1) end = query
  if (fragment !== -1 && fragment < end) end = fragment
  const expected = origin + url.slice(0, end)
  if (htu === expected) return true
  const claimed = normalizeHttpUri(htu)
  return claimed !== undefined && claimed === normalizeHttpUri(expected)
}

/** `host [ ":" port ]` in lower case, without the default port; no user information. */
function normalizeAuthority(authority: string, defaultPort: string): string | undefined {
  let host: string
  let port: string
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']')
    host = authority.slice(0, end + 1)
    const rest = authority.slice(end + 1)
    if (end === -1 || !IP_LITERAL.test(host) || (rest !== '' && !rest.startsWith(':'))) {
      return undefined
    }
    port = rest.slice(1)
  } else {
    const colon = authority.lastIndexOf(':')
    host = colon === -1 ? authority : authority.slice(0, colon)
    port = colon === -1 ? '' : authority.slice(colon + 1)
    if (!REG_NAME.test(host)) return undefined
  }
  if (!/^[0-9]*$/.test(port)) return undefined
  host = host.toLowerCase()
  if (port === '') return host
  const number = Number(port)
  if (number > 65535) return undefined
  return String(number) === defaultPort ? host : `${host}:${String(number)}`
}

/**
 * Upper-case hex in percent-encodings, unreserved characters decoded (RFC 3986 §6.2.2.1,
 * §6.2.2.2), then dot segments removed (§6.2.2.3). `undefined` for a character a path may not
 * hold or a broken percent-encoding.
 */
function normalizePath(path: string): string | undefined {
  let out = ''
  for (let i = 0; i < path.length; i++) {
    const ch = path.charAt(i)
    if (ch === '%') {
      const hex = path.slice(i + 1, i + 3)
      if (!HEX.test(hex)) return undefined
      const decoded = String.fromCharCode(parseInt(hex, 16))
      out += UNRESERVED.test(decoded) ? decoded : `%${hex.toUpperCase()}`
      i += 2
    } else if (PATH_CHAR.test(ch)) {
      out += ch
    } else {
      return undefined
    }
  }
  // A dot segment always follows a `/`; most paths have none and skip the split.
  return out.includes('/.') ? removeDotSegments(out) : out
}

/** RFC 3986 §5.2.4 `remove_dot_segments` for an absolute path (it starts with `/`). */
export function removeDotSegments(path: string): string {
  const segments = path.split('/')
  const out: string[] = []
  const last = segments.length - 1
  for (let i = 1; i <= last; i++) {
    const segment = segments[i] ?? ''
    if (segment === '.' || segment === '..') {
      if (segment === '..') out.pop()
      // A trailing dot segment leaves the path ending in `/` ("/a/b/." is "/a/b/").
      if (i === last) out.push('')
    } else {
      out.push(segment)
    }
  }
  return `/${out.join('/')}`
}
