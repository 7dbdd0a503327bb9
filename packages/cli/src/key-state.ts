/**
 * The keys core held for the token's issuer: configured ones, or what its discovery and JWKS
 * requests received (recorded on the way).
 */
import type { KeyDescription, KeyFetch } from './explanation.js'
import { readKeySet, readStaticKeys, type KeyInfo } from './keys.js'
import type { FetchRecord } from './record-fetch.js'
import type { IssuerRules } from './rules.js'
import type { KeyState } from './steps.js'
import { shown } from './words.js'

/** The discovery URLs core tries for an issuer, in order (keys/discovery.ts). */
function discoveryUrls(issuer: string): readonly string[] {
  try {
    const url = new URL(issuer)
    const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')
    return [
      `${url.origin}${path}/.well-known/openid-configuration`,
      `${url.origin}/.well-known/oauth-authorization-server${path}`,
    ]
  } catch {
    return []
  }
}

export function fetchOf(record: FetchRecord, issuer: IssuerRules | undefined): KeyFetch {
  const discovery = issuer === undefined ? [] : discoveryUrls(issuer.issuer)
  return {
    url: record.url,
    kind: discovery.includes(record.url) ? 'discovery' : 'jwks',
    status: record.status,
    error: record.error,
  }
}

function hasKeys(json: unknown): boolean {
  return (
    typeof json === 'object' && json !== null && Array.isArray((json as { keys?: unknown }).keys)
  )
}

/** The keys core held for `issuer`: configured, or what its key requests received. */
export function keyStateOf(issuer: IssuerRules, records: readonly FetchRecord[]): KeyState {
  const source = issuer.keys
  if (source.kind === 'secret') return { kind: 'secret', secret: source.secret }
  if (source.kind === 'static') {
    return {
      kind: 'static',
      available: true,
      keys: readStaticKeys(source.keys),
      problem: undefined,
      refetched: false,
    }
  }
  const discovery = source.kind === 'discovery' ? discoveryUrls(issuer.issuer) : []
  const jwks = records.filter((r) => !discovery.includes(r.url))
  const last = jwks.at(-1)
  if (last?.status === 200 && hasKeys(last.json)) {
    return {
      kind: 'remote',
      available: true,
      keys: readKeySet(last.json),
      problem: undefined,
      refetched: jwks.length > 1,
    }
  }
  return {
    kind: 'remote',
    available: false,
    keys: [],
    problem:
      last !== undefined
        ? problemOf(last, issuer)
        : records.length === 0
          ? 'no request for keys was made'
          : records.length === 1 || records.some((r) => r.status === 200)
            ? problemOf(
                records.find((r) => r.status === 200) ?? (records[0] as FetchRecord),
                issuer,
              )
            : `discovery failed: ${records.map((r) => problemOf(r, issuer)).join('; ')}`,
    refetched: false,
  }
}

function problemOf(record: FetchRecord, issuer: IssuerRules): string {
  if (record.error !== undefined) return `GET ${record.url}: ${record.error}`
  if (record.status !== 200) return `GET ${record.url}: HTTP ${record.status ?? '?'}`
  const json = record.json
  if (typeof json === 'object' && json !== null && 'issuer' in json) {
    const named = json.issuer
    if (named !== issuer.issuer) {
      return `the discovery document at ${record.url} names the issuer ${shown(named)}, not '${issuer.issuer}'`
    }
  }
  return `GET ${record.url}: not a usable ${hasKeys(json) ? 'key set' : 'JSON document'}`
}

export function describeKey(key: KeyInfo): KeyDescription {
  return {
    kid: key.kid,
    kty: key.kty,
    crv: key.crv,
    alg: key.alg,
    use: key.use,
    bits: key.bits,
    usable: key.usable,
    note: key.note,
  }
}
