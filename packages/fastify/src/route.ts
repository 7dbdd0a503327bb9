import { definePolicy, type AccessPolicy } from '@bearer-guard/core'
import type { RouteAuth } from './augment.js'

/**
 * What the guard enforces on one route: nothing, a valid token if one is sent (anonymous callers
 * pass), a valid token, or a valid token and a policy.
 */
export type RouteNeed =
  | { readonly kind: 'public' }
  | { readonly kind: 'optional' }
  | { readonly kind: 'token' }
  | { readonly kind: 'policy'; readonly policy: AccessPolicy }

const PUBLIC: RouteNeed = Object.freeze({ kind: 'public' })
const OPTIONAL: RouteNeed = Object.freeze({ kind: 'optional' })
const TOKEN: RouteNeed = Object.freeze({ kind: 'token' })

/**
 * Reads a route's `config.auth` once, when the route is defined. A malformed policy throws a
 * `TypeError` naming the route, so a typo fails the start-up instead of a request.
 */
export function routeNeed(
  auth: RouteAuth | undefined,
  protect: 'all' | 'none',
  route: string,
): RouteNeed {
  if (auth === undefined) return protect === 'all' ? TOKEN : PUBLIC
  if (auth === false) return PUBLIC
  if (auth === true) return TOKEN
  if (auth === 'optional') return OPTIONAL
  if (typeof auth !== 'object' || (auth as unknown) === null) {
    throw new TypeError(
      `bearer-guard: config.auth of ${route} must be true, false, 'optional' or a policy ({ allOf, anyOf, claims })`,
    )
  }
  try {
    return { kind: 'policy', policy: definePolicy(auth) }
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^bearer-guard: /, '') : ''
    throw new TypeError(`bearer-guard: config.auth of ${route}: ${reason}`, { cause: error })
  }
}
