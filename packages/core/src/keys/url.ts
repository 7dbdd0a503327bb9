import { isIP } from 'node:net'

/** True for 127.0.0.0/8, ::1 and localhost: plain HTTP there never leaves the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname
  // Only `localhost` itself, not `*.localhost`: Node resolves names with getaddrinfo, and a
  // typical resolver (`hosts: files dns`) sends `x.localhost` to DNS, which may answer with a
  // remote address. RFC 6761 only asks resolvers to keep such names local; nothing guarantees it.
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return host === '::1'
}

/**
 * Refuses URLs that are not `https:` (or `http:` on loopback) unless insecure HTTP is allowed.
 * Returns the parsed URL.
 */
export function checkUrl(value: string, allowInsecureHttp: boolean): URL | string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'is not an absolute URL'
  }
  if (url.username !== '' || url.password !== '') return 'must not contain credentials'
  if (url.protocol === 'https:') return url
  if (url.protocol === 'http:' && (allowInsecureHttp || isLoopbackHost(url.hostname))) return url
  return url.protocol === 'http:'
    ? 'uses http:// on a non-loopback host (set allowInsecureHttp to allow it)'
    : 'must use https://'
}

/** Throws a `TypeError` naming the option when {@link checkUrl} refuses it. */
export function assertSecureUrl(name: string, value: string, allowInsecureHttp: boolean): URL {
  const checked =
    typeof value === 'string' ? checkUrl(value, allowInsecureHttp) : 'must be a string'
  if (typeof checked === 'string') throw new TypeError(`bearer-guard: "${name}" ${checked}`)
  return checked
}
