import { InsufficientScopeError } from './errors.js'
import { realmOf } from './result.js'
import type { AccessTokenClaims, VerifiedAccessToken } from './types.js'

/**
 * What a route needs from a verified token. All given parts must hold. Evaluated on every request
 * against the already verified result; the token is never verified again.
 *
 * @example
 * ```ts
 * const canDelete = definePolicy({ allOf: ['orders:write', 'orders:admin'] })
 * const canReport = definePolicy({ anyOf: ['reports:read', 'admin'] })
 * const sameTenant = definePolicy({
 *   claims: (claims) => claims.tenant_id === 'acme',
 *   description: 'The token is not for tenant acme',
 * })
 * ```
 */
export interface AccessPolicy<Claims extends AccessTokenClaims = AccessTokenClaims> {
  /** Every one of these scopes must be granted. Default: none. */
  readonly allOf?: readonly string[]
  /** At least one of these scopes must be granted. Default: none. */
  readonly anyOf?: readonly string[]
  /**
   * A predicate over the verified claims; `false` (or a throw) refuses with 403
   * `insufficient_scope`. Default: none.
   */
  readonly claims?: (claims: Claims, auth: VerifiedAccessToken<Claims>) => boolean
  /** The `error_description` sent when `claims` refuses. Default: a generic sentence. */
  readonly description?: string
}

const DEFINED = new WeakSet<object>()

/** RFC 6749 §3.3 `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`, as RFC 6750 §3 `scope` needs. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

function scopeList(name: string, value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    value.some((s) => typeof s !== 'string' || !SCOPE_TOKEN.test(s))
  ) {
    throw new TypeError(
      `bearer-guard: policy "${name}" must be a non-empty array of scope tokens (RFC 6749 §3.3: visible ASCII except quotes and backslashes, no spaces)`,
    )
  }
  return Object.freeze([...(value as string[])])
}

/**
 * Checks a policy once, when a route is defined, and returns a frozen copy ready for
 * {@link authorize}. Throws a `TypeError` for an empty or malformed policy.
 */
export function definePolicy<Claims extends AccessTokenClaims = AccessTokenClaims>(
  policy: AccessPolicy<Claims>,
): AccessPolicy<Claims> {
  if (typeof policy !== 'object' || (policy as unknown) === null) {
    throw new TypeError('bearer-guard: a policy must be an object')
  }
  if (DEFINED.has(policy)) return policy
  const allOf = scopeList('allOf', policy.allOf)
  const anyOf = scopeList('anyOf', policy.anyOf)
  if (policy.claims !== undefined && typeof policy.claims !== 'function') {
    throw new TypeError('bearer-guard: policy "claims" must be a function')
  }
  if (policy.description !== undefined && typeof policy.description !== 'string') {
    throw new TypeError('bearer-guard: policy "description" must be a string')
  }
  if (allOf === undefined && anyOf === undefined && policy.claims === undefined) {
    throw new TypeError('bearer-guard: a policy needs "allOf", "anyOf" or "claims"')
  }
  const defined: AccessPolicy<Claims> = Object.freeze({
    ...(allOf && { allOf }),
    ...(anyOf && { anyOf }),
    ...(policy.claims && { claims: policy.claims }),
    ...(policy.description !== undefined && { description: policy.description }),
  })
  DEFINED.add(defined)
  return defined
}

/**
 * Enforces a policy on a verified token; returns normally when it holds.
 *
 * @throws {@link InsufficientScopeError} (403) naming the needed scopes in its challenge.
 */
export function authorize<Claims extends AccessTokenClaims>(
  auth: VerifiedAccessToken<Claims>,
  policy: AccessPolicy<Claims>,
): void {
  const p = definePolicy(policy)
  const realm = realmOf(auth)
  const granted = auth.scopes
  if (p.allOf !== undefined) {
    for (const scope of p.allOf) {
      if (!granted.has(scope)) {
        throw new InsufficientScopeError(
          `The access token lacks a required scope; this request needs all of: ${p.allOf.join(' ')}`,
          needed(p),
          { realm },
        )
      }
    }
  }
  if (p.anyOf !== undefined && !p.anyOf.some((scope) => granted.has(scope))) {
    throw new InsufficientScopeError(
      `The access token lacks a required scope; this request needs one of: ${p.anyOf.join(' ')}`,
      needed(p),
      { realm },
    )
  }
  if (p.claims !== undefined) {
    let ok: boolean
    let cause: unknown
    try {
      // Only a literal `true` grants access: a truthy non-boolean is a bug, not consent.
      ok = (p.claims(auth.claims, auth) as unknown) === true
    } catch (error) {
      ok = false
      cause = error
    }
    if (!ok) {
      throw new InsufficientScopeError(
        p.description ?? 'The access token does not grant access to this resource',
        needed(p),
        { realm, cause },
      )
    }
  }
}

function needed(p: {
  readonly allOf?: readonly string[]
  readonly anyOf?: readonly string[]
}): readonly string[] {
  return [...(p.allOf ?? []), ...(p.anyOf ?? [])]
}
