import { InvalidTokenError } from '../challenge/errors.js'

/**
 * Where granted scopes (or roles) are read: a top-level claim name (`'scope'`, `'scp'`,
 * `'permissions'`, `'cognito:groups'`), or a path into nested objects given as an array
 * (`['realm_access', 'roles']`, `['resource_access', 'my-api', 'roles']`). A path is an array, not
 * a dotted string, because claim names may contain dots (`https://example.com/roles`).
 */
export type ScopeClaim = string | readonly string[]

/** A scope claim, checked and named once. */
export interface ResolvedScopeClaim {
  /** For messages: the path joined with dots. */
  readonly name: string
  readonly path: readonly string[]
}

const { hasOwn } = Object

/** The value at `path`, through own members of plain objects only. */
export function claimAt(payload: Record<string, unknown>, path: readonly string[]): unknown {
  let value: unknown = payload
  for (const member of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
    if (!hasOwn(value, member)) return undefined
    value = (value as Record<string, unknown>)[member]
  }
  return value
}

/**
 * Scopes that include other scopes, as data: each key, when granted, also grants the scopes it
 * lists, and transitively what those list (`{ admin: ['orders:*'], 'orders:*': ['orders:read',
 * 'orders:write'] }`: a token with `admin` satisfies a route that needs `orders:read`). Names are
 * plain scope tokens (RFC 6749 §3.3): `orders:*` is a name like any other, not a pattern, so what a
 * scope grants is always written out and can be audited. Cycles are allowed (the scopes in a cycle
 * are equivalent).
 */
export type ScopeHierarchy = Readonly<Record<string, readonly string[]>>

/** A scope hierarchy, closed transitively once at start-up. */
export interface ResolvedScopeHierarchy {
  /** For each scope with children: every scope it grants, itself excluded. */
  readonly grants: ReadonlyMap<string, readonly string[]>
  /** For each granted-by-another scope: every scope that grants it, sorted, itself excluded. */
  readonly grantedBy: ReadonlyMap<string, readonly string[]>
}

/** What a verified result knows about where its scopes came from, for 403 descriptions. */
export interface ScopeInfo {
  /** The scope claims, joined, when not the default `scope, scp`. */
  readonly sources: string | undefined
  readonly hierarchy: ResolvedScopeHierarchy | undefined
}

/** RFC 6749 §3.3 `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

/**
 * Checks the `scopeHierarchy` option once and closes it transitively. `undefined` for none (or an
 * empty one): then reading scopes costs nothing more.
 */
export function resolveScopeHierarchy(value: unknown): ResolvedScopeHierarchy | undefined {
  if (value === undefined) return undefined
  const invalid = (why: string): TypeError => new TypeError(`bearer-guard: "scopeHierarchy" ${why}`)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('must be an object mapping a scope to the scopes it grants')
  }
  const direct = new Map<string, readonly string[]>()
  for (const [parent, children] of Object.entries(value as Record<string, unknown>)) {
    if (!SCOPE_TOKEN.test(parent)) {
      throw invalid(
        `has a key that is not a scope token (RFC 6749 §3.3): ${JSON.stringify(parent)}`,
      )
    }
    if (
      !Array.isArray(children) ||
      children.length === 0 ||
      children.some((c) => typeof c !== 'string' || !SCOPE_TOKEN.test(c))
    ) {
      throw invalid(
        `'${parent}' must list the scopes it grants: a non-empty array of scope tokens (RFC 6749 §3.3)`,
      )
    }
    direct.set(parent, children as string[])
  }
  if (direct.size === 0) return undefined
  const grants = new Map<string, readonly string[]>()
  const grantedBy = new Map<string, string[]>()
  for (const parent of direct.keys()) {
    const reached = new Set<string>()
    const pending = [...(direct.get(parent) ?? [])]
    for (let scope = pending.pop(); scope !== undefined; scope = pending.pop()) {
      if (reached.has(scope)) continue
      reached.add(scope)
      pending.push(...(direct.get(scope) ?? []))
    }
    reached.delete(parent)
    grants.set(parent, Object.freeze([...reached]))
    for (const child of reached) {
      const list = grantedBy.get(child)
      if (list === undefined) grantedBy.set(child, [parent])
      else list.push(parent)
    }
  }
  for (const list of grantedBy.values()) Object.freeze(list.sort())
  return Object.freeze({ grants, grantedBy })
}

/** Checks the `scopeClaims` option once. */
export function resolveScopeClaims(list: readonly ScopeClaim[]): readonly ResolvedScopeClaim[] {
  return Object.freeze(
    list.map((claim) => {
      const path = typeof claim === 'string' ? [claim] : [...claim]
      if (path.length === 0 || path.some((member) => typeof member !== 'string' || member === '')) {
        throw new TypeError(
          'bearer-guard: "scopeClaims" entries must be claim names or non-empty arrays of member names',
        )
      }
      return Object.freeze({ name: path.join('.'), path: Object.freeze(path) })
    }),
  )
}

/**
 * Reads granted scopes from the configured claims: a string is split on spaces (RFC 9068 §2.2.3,
 * RFC 8693 §4.2), an array must hold only strings (what several servers send in `scope`, Okta and
 * Entra in `scp`, Keycloak in `realm_access.roles`). Any other type makes the token invalid rather
 * than silently scope-less.
 */
export function readScopes(
  payload: Record<string, unknown>,
  claims: readonly ResolvedScopeClaim[],
  hierarchy?: ResolvedScopeHierarchy,
): ReadonlySet<string> {
  const scopes = new Set<string>()
  for (const claim of claims) {
    const value =
      claim.path.length === 1 ? ownValue(payload, claim.name) : claimAt(payload, claim.path)
    if (value === undefined) continue
    if (typeof value === 'string') {
      for (const scope of value.split(' ')) if (scope !== '') scopes.add(scope)
    } else if (Array.isArray(value) && value.every((s) => typeof s === 'string')) {
      for (const scope of value) if (scope !== '') scopes.add(scope)
    } else {
      throw new InvalidTokenError(
        'ERR_TOKEN_CLAIM_INVALID',
        `The '${claim.name}' claim is neither a string nor an array of strings`,
      )
    }
  }
  if (hierarchy !== undefined) {
    // The granted set includes what granted scopes grant: every policy and `auth.scopes.has()`
    // then honour the hierarchy, at the cost of a few set insertions per verification (cached).
    for (const scope of [...scopes]) {
      const granted = hierarchy.grants.get(scope)
      if (granted !== undefined) for (const child of granted) scopes.add(child)
    }
  }
  return scopes
}

function ownValue(payload: Record<string, unknown>, name: string): unknown {
  return hasOwn(payload, name) ? payload[name] : undefined
}
