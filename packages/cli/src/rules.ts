/**
 * The validator options as the explanation reads them: per issuer, with the top-level values as
 * defaults and core's documented defaults filled in. Only read after core accepted the same
 * options (`createAccessTokenValidator` threw nothing), so nothing here re-checks them.
 */
import type {
  AccessTokenValidatorOptions,
  AudienceClaim,
  ClaimValue,
  IssuerOptions,
  StaticKeys,
} from '@bearer-guard/core'

/** Core's default allow-list (`algorithms`), and the HMAC one used with a `secret`. */
export const DEFAULT_ALGORITHMS: readonly string[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
]
const HMAC_ALGORITHMS: readonly string[] = ['HS256', 'HS384', 'HS512']

/** Where one issuer's keys come from. */
export type KeySourceRule =
  | { readonly kind: 'discovery' }
  | { readonly kind: 'jwksUri'; readonly jwksUri: string }
  | { readonly kind: 'static'; readonly keys: StaticKeys }
  | { readonly kind: 'secret'; readonly secret: string | Uint8Array }

/** One accepted issuer's rules, resolved. */
export interface IssuerRules {
  /** As configured: an identifier, or a `{tenantid}` template. */
  readonly issuer: string
  readonly tenants: readonly string[] | 'any' | undefined
  readonly algorithms: readonly string[]
  readonly audience: { readonly claim: string; readonly values: readonly string[] }
  readonly strict: boolean
  readonly allowNonce: boolean
  readonly allowIdTokenClaims: boolean
  readonly requiredClaims: readonly string[]
  readonly requiredClaimValues: readonly (readonly [string, readonly ClaimValue[]])[]
  readonly maxTokenAge: number | undefined
  /** Claim paths (`['realm_access', 'roles']`). */
  readonly scopeClaims: readonly (readonly string[])[]
  /** `scopeHierarchy`: each scope and the scopes it directly grants. */
  readonly scopeHierarchy: Readonly<Record<string, readonly string[]>> | undefined
  readonly keys: KeySourceRule
}

/** Everything the explanation needs to know of the validator's settings. */
export interface ValidatorRules {
  readonly issuers: readonly IssuerRules[]
  /** One issuer: no selection by `iss` happens before the header checks. */
  readonly single: boolean
  /** Seconds. */
  readonly clockTolerance: number
  readonly maxTokenLength: number
  /** DPoP is on (then a `DPoP` challenge accompanies 401s). */
  readonly dpop: boolean
  /** `dpop.required`: bearer tokens are refused. */
  readonly dpopRequired: boolean
}

function list<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined) return []
  return Array.isArray(value) ? (value as readonly T[]) : [value as T]
}

function audienceOf(
  value: string | readonly string[] | AudienceClaim | undefined,
): IssuerRules['audience'] {
  if (typeof value === 'object' && !Array.isArray(value)) {
    const claim = value as AudienceClaim
    return { claim: claim.claim, values: claim.values }
  }
  return { claim: 'aud', values: list(value as string | readonly string[] | undefined) }
}

/** Resolves `options` (already accepted by core) into the rules the explanation compares with. */
export function resolveRules(options: AccessTokenValidatorOptions): ValidatorRules {
  const top = options
  const entries = list<string | IssuerOptions>(top.issuer)
  const single = entries.length === 1 && top.issuerResolver === undefined
  const issuers = entries.map((entry): IssuerRules => {
    const given: IssuerOptions = typeof entry === 'string' ? { issuer: entry } : entry
    const jwksUri = given.jwksUri ?? (single ? top.jwksUri : undefined)
    const keys = given.keys ?? (single ? top.keys : undefined)
    const secret = given.secret ?? (single ? top.secret : undefined)
    const keySource: KeySourceRule =
      secret !== undefined
        ? { kind: 'secret', secret }
        : keys !== undefined
          ? { kind: 'static', keys }
          : jwksUri !== undefined
            ? { kind: 'jwksUri', jwksUri }
            : { kind: 'discovery' }
    const values = given.requiredClaimValues ?? top.requiredClaimValues ?? {}
    return {
      issuer: given.issuer,
      tenants: given.tenants,
      algorithms: [
        ...(given.algorithms ??
          top.algorithms ??
          (secret === undefined ? DEFAULT_ALGORITHMS : HMAC_ALGORITHMS)),
      ],
      audience: audienceOf(given.audience ?? top.audience ?? top.resource),
      strict: (given.strict ?? top.strict) === true,
      allowNonce: (given.allowNonce ?? top.allowNonce) === true,
      allowIdTokenClaims: (given.allowIdTokenClaims ?? top.allowIdTokenClaims) === true,
      requiredClaims: given.requiredClaims ?? top.requiredClaims ?? [],
      requiredClaimValues: Object.entries(values).map(
        ([name, accepted]) => [name, list<ClaimValue>(accepted)] as const,
      ),
      maxTokenAge: given.maxTokenAge ?? top.maxTokenAge,
      scopeClaims: (given.scopeClaims ?? top.scopeClaims ?? ['scope', 'scp']).map((claim) =>
        typeof claim === 'string' ? [claim] : [...claim],
      ),
      scopeHierarchy: given.scopeHierarchy ?? top.scopeHierarchy,
      keys: keySource,
    }
  })
  const dpop = top.dpop === undefined || top.dpop === false ? undefined : top.dpop
  return {
    issuers,
    single,
    clockTolerance: top.clockTolerance ?? 30,
    maxTokenLength: top.maxTokenLength ?? 8192,
    dpop: dpop !== undefined,
    dpopRequired: dpop?.required === true,
  }
}

/** The placeholder of a multi-tenant issuer template. */
const TENANT_PLACEHOLDER = '{tenantid}'
const TENANT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

/** The tenant `iss` names under a template issuer, if it fits the template and the allow-list. */
export function tenantOf(rules: IssuerRules, iss: string): string | undefined {
  const at = rules.issuer.indexOf(TENANT_PLACEHOLDER)
  if (at === -1) return undefined
  const prefix = rules.issuer.slice(0, at)
  const suffix = rules.issuer.slice(at + TENANT_PLACEHOLDER.length)
  if (iss.length <= prefix.length + suffix.length) return undefined
  if (!iss.startsWith(prefix) || !iss.endsWith(suffix)) return undefined
  const tenant = iss.slice(prefix.length, iss.length - suffix.length)
  if (!TENANT.test(tenant)) return undefined
  if (rules.tenants !== 'any' && !(rules.tenants ?? []).includes(tenant)) return undefined
  return tenant
}

/** True when an unverified `iss` selects this issuer (exactly, or through its template). */
export function mayBeIssuer(rules: IssuerRules, iss: string): boolean {
  return rules.issuer.includes(TENANT_PLACEHOLDER)
    ? tenantOf(rules, iss) !== undefined
    : iss === rules.issuer
}

export { TENANT_PLACEHOLDER }
