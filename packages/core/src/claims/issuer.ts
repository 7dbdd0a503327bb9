/**
 * How a token's `iss` is matched: exactly (the rule), or against a multi-tenant template such as
 * Entra's `https://login.microsoftonline.com/{tenantid}/v2.0`, where the tenant must be on an
 * allow-list and equal the token's `tid` claim.
 */

/** The placeholder of a multi-tenant issuer template. */
export const TENANT_PLACEHOLDER = '{tenantid}'

/** Tenant ids as they appear in an issuer: a GUID or a similar single path segment. */
const TENANT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

/** An issuer, checked once: exact, or a template with its tenant rule. */
export type IssuerMatch =
  | { readonly kind: 'exact'; readonly issuer: string }
  | {
      readonly kind: 'template'
      /** The template as configured, for messages. */
      readonly issuer: string
      readonly prefix: string
      readonly suffix: string
      /** Allowed tenants; `undefined` when any tenant is allowed (`tenants: 'any'`). */
      readonly tenants: ReadonlySet<string> | undefined
      /** The claim that must equal the tenant in `iss` (Entra: `tid`). */
      readonly tenantClaim: string
    }

/** Builds the match of one configured issuer. */
export function issuerMatch(
  issuer: string,
  tenants: readonly string[] | 'any' | undefined,
  tenantClaim = 'tid',
): IssuerMatch {
  const at = issuer.indexOf(TENANT_PLACEHOLDER)
  if (at === -1) {
    if (tenants !== undefined) {
      throw new TypeError(`bearer-guard: "tenants" needs an issuer with ${TENANT_PLACEHOLDER}`)
    }
    return Object.freeze({ kind: 'exact', issuer })
  }
  if (issuer.indexOf(TENANT_PLACEHOLDER, at + 1) !== -1) {
    throw new TypeError(`bearer-guard: an issuer may hold ${TENANT_PLACEHOLDER} once`)
  }
  if (tenants === undefined) {
    throw new TypeError(
      `bearer-guard: the issuer ${issuer} needs "tenants": the tenant ids to accept, or 'any'`,
    )
  }
  const list: unknown = tenants
  if (
    list !== 'any' &&
    (!Array.isArray(list) || list.some((t: unknown) => typeof t !== 'string' || !TENANT.test(t)))
  ) {
    throw new TypeError('bearer-guard: "tenants" must be \'any\' or an array of tenant ids')
  }
  return Object.freeze({
    kind: 'template',
    issuer,
    prefix: issuer.slice(0, at),
    suffix: issuer.slice(at + TENANT_PLACEHOLDER.length),
    tenants: tenants === 'any' ? undefined : new Set<string>(tenants),
    tenantClaim,
  })
}

/** The tenant `iss` names under a template, if it fits the template and the allow-list. */
export function tenantOf(match: IssuerMatch, iss: string): string | undefined {
  if (match.kind !== 'template') return undefined
  const { prefix, suffix } = match
  if (iss.length <= prefix.length + suffix.length) return undefined
  if (!iss.startsWith(prefix) || !iss.endsWith(suffix)) return undefined
  const tenant = iss.slice(prefix.length, iss.length - suffix.length)
  if (!TENANT.test(tenant)) return undefined
  if (match.tenants !== undefined && !match.tenants.has(tenant)) return undefined
  return tenant
}

/** True when a verified payload's `iss` is this issuer's (and, for a template, its `tid` agrees). */
export function issuerMatches(match: IssuerMatch, payload: Record<string, unknown>): boolean {
  const { iss } = payload
  if (typeof iss !== 'string') return false
  if (match.kind === 'exact') return iss === match.issuer
  const tenant = tenantOf(match, iss)
  return (
    tenant !== undefined &&
    Object.hasOwn(payload, match.tenantClaim) &&
    payload[match.tenantClaim] === tenant
  )
}

/** True when `iss` could be this issuer's, before anything is verified (selection only). */
export function mayBeIssuer(match: IssuerMatch, iss: string): boolean {
  return match.kind === 'exact' ? iss === match.issuer : tenantOf(match, iss) !== undefined
}
