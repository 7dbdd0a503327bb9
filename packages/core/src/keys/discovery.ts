import { FetchFailure, fetchJson, type FetchLimits } from './fetch-json.js'
import { checkUrl } from './url.js'

/**
 * The discovery URLs of an issuer, in the order tried: OpenID Connect Discovery 1.0 §4
 * (`/.well-known/openid-configuration` appended to the issuer), then RFC 8414 §3
 * (`/.well-known/oauth-authorization-server` inserted between host and path).
 */
export function discoveryUrls(issuer: string): readonly string[] {
  const url = new URL(issuer)
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')
  return [
    `${url.origin}${path}/.well-known/openid-configuration`,
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
  ]
}

/** An issuer's discovery document, its `issuer` checked, and where it was found. */
export interface DiscoveredMetadata {
  readonly url: string
  readonly document: Readonly<Record<string, unknown>>
}

/**
 * Fetches the issuer's discovery document (OIDC Discovery 1.0 §4, then RFC 8414 §3). The
 * document's `issuer` must equal the configured one exactly (OIDC Discovery §4.3, RFC 8414 §3.3),
 * or nothing from it is used.
 */
export async function discoverMetadata(
  issuer: string,
  limits: FetchLimits,
): Promise<DiscoveredMetadata> {
  const failures: unknown[] = []
  for (const url of discoveryUrls(issuer)) {
    let document: unknown
    try {
      ;({ body: document } = await fetchJson(url, limits))
    } catch (error) {
      failures.push(error)
      continue
    }
    if (typeof document !== 'object' || document === null) {
      throw new FetchFailure(`discovery document at ${url} is not a JSON object`)
    }
    const { issuer: advertised } = document as Record<string, unknown>
    if (advertised !== issuer) {
      throw new FetchFailure(
        `the discovery document at ${url} names the issuer ${shown(advertised)}, but the configured issuer is '${issuer}'; they must be equal exactly (OIDC Discovery §4.3, RFC 8414 §3.3)${hint(issuer, advertised)}`,
      )
    }
    return { url, document: document as Record<string, unknown> }
  }
  const reasons = failures.map((f) => (f instanceof Error ? f.message : String(f))).join('; ')
  throw new AggregateError(failures, `discovery failed for ${issuer}: ${reasons}`)
}

/**
 * A URL member of a discovery document (`jwks_uri`, `introspection_endpoint`): https, or http on
 * loopback, unless insecure HTTP is allowed.
 */
export function discoveredUrl(
  { url, document }: DiscoveredMetadata,
  member: string,
  allowInsecureHttp: boolean,
): string {
  const value = document[member]
  if (typeof value !== 'string')
    throw new FetchFailure(`discovery document at ${url} has no ${member}`)
  const checked = checkUrl(value, allowInsecureHttp)
  if (typeof checked === 'string') throw new FetchFailure(`discovered ${member} ${checked}`)
  return checked.href
}

/** Finds the issuer's `jwks_uri` by discovery (see {@link discoverMetadata}). */
export async function discoverJwksUri(
  issuer: string,
  limits: FetchLimits,
  allowInsecureHttp: boolean,
): Promise<string> {
  return discoveredUrl(await discoverMetadata(issuer, limits), 'jwks_uri', allowInsecureHttp)
}

/** An untrusted document value as a log may show it: quoted, printable ASCII, bounded. */
function shown(value: unknown): string {
  if (typeof value !== 'string') return value === undefined ? '(none)' : `(a ${typeof value})`
  const text = value.replace(/[^\x20-\x7e]/g, '?')
  return `'${text.length > 200 ? `${text.slice(0, 200)}…` : text}'`
}

/** The likeliest fix when the two differ by a trailing slash. */
function hint(configured: string, advertised: unknown): string {
  if (typeof advertised !== 'string') return ''
  if (advertised === `${configured}/` || `${advertised}/` === configured) {
    return '; the trailing slash differs: configure the issuer exactly as the document names it'
  }
  return ''
}
