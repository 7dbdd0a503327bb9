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
  return scopes
}

function ownValue(payload: Record<string, unknown>, name: string): unknown {
  return hasOwn(payload, name) ? payload[name] : undefined
}
