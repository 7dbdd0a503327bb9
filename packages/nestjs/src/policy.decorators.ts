import {
  definePolicy,
  type AccessPolicy,
  type AccessTokenClaims,
  type VerifiedAccessToken,
} from '@bearer-guard/core'
import type { CustomDecorator } from '@nestjs/common'
import { Reflector } from '@nestjs/core'

// One reflectable decorator per kind of requirement, so a class-level `@RequireScopes` and a
// method-level `@RequireAnyScope` both apply, while each kind on a method overrides the same kind
// on its class (`getAllAndOverride`). The transform runs `definePolicy` when the decorator is
// applied, and the exported decorators already call it when they are called: a malformed policy
// throws when the class is defined, never per request (`definePolicy` is idempotent).

/** @internal */
export const AllScopesMetadata = Reflector.createDecorator<AccessPolicy, AccessPolicy>({
  key: 'bearer-guard:all-of',
  transform: (policy) => definePolicy(policy),
})

/** @internal */
export const AnyScopeMetadata = Reflector.createDecorator<AccessPolicy, AccessPolicy>({
  key: 'bearer-guard:any-of',
  transform: (policy) => definePolicy(policy),
})

/** @internal */
export const ClaimsMetadata = Reflector.createDecorator<AccessPolicy, AccessPolicy>({
  key: 'bearer-guard:claims',
  transform: (policy) => definePolicy(policy),
})

/** @internal */
export const PolicyMetadata = Reflector.createDecorator<AccessPolicy, AccessPolicy>({
  key: 'bearer-guard:policy',
  transform: (policy) => definePolicy(policy),
})

/** The metadata decorators {@link BearerGuard} reads, in the order it enforces them. @internal */
export const POLICY_DECORATORS = [
  AllScopesMetadata,
  AnyScopeMetadata,
  ClaimsMetadata,
  PolicyMetadata,
] as const

/**
 * Requires **every** one of `scopes` on a route (method) or on every route of a controller
 * (class); a token lacking one is refused with 403 `insufficient_scope` naming them all. A method's
 * `@RequireScopes` replaces its class's. Needs {@link BearerGuard} on the route.
 *
 * @throws `TypeError` when the class is defined, for no scopes or a scope with spaces, quotes or
 * backslashes.
 *
 * @example
 * ```ts
 * @Delete(':id')
 * @RequireScopes('orders:write', 'orders:admin')
 * remove(@Param('id') id: string) {}
 * ```
 */
export function RequireScopes(...scopes: string[]): CustomDecorator {
  return AllScopesMetadata(definePolicy({ allOf: scopes }))
}

/**
 * Requires **at least one** of `scopes` on a route or controller; otherwise 403
 * `insufficient_scope` naming them all. A method's `@RequireAnyScope` replaces its class's. Needs
 * {@link BearerGuard} on the route.
 *
 * @throws `TypeError` when the class is defined, for no scopes or a malformed one.
 *
 * @example
 * ```ts
 * @Get()
 * @RequireAnyScope('reports:read', 'admin')
 * list() {}
 * ```
 */
export function RequireAnyScope(...scopes: string[]): CustomDecorator {
  return AnyScopeMetadata(definePolicy({ anyOf: scopes }))
}

/**
 * Requires `predicate` to return `true` for the verified claims of the token; `false` or a throw
 * refuses with 403 `insufficient_scope` and `description` as `error_description` (default: a
 * generic sentence). A method's `@RequireClaims` replaces its class's. Needs {@link BearerGuard}.
 *
 * @remarks Security: `description` is sent to the client; do not put claim values in it.
 *
 * @example
 * ```ts
 * @RequireClaims((claims) => claims.tenant_id === 'acme', 'The token is not for tenant acme')
 * @Controller('acme')
 * export class AcmeController {}
 * ```
 */
export function RequireClaims(
  predicate: (claims: AccessTokenClaims, auth: VerifiedAccessToken) => boolean,
  description?: string,
): CustomDecorator {
  return ClaimsMetadata(
    definePolicy(
      description === undefined ? { claims: predicate } : { claims: predicate, description },
    ),
  )
}

/**
 * Requires a core `AccessPolicy` (`allOf`, `anyOf`, `acr`, `maxAge`, `claims`, all of which must
 * hold), e.g. one shared between routes or adapters. A method's `@RequirePolicy` replaces its
 * class's. Needs {@link BearerGuard}. A missing scope or a refusing `claims` gets 403
 * `insufficient_scope`; step-up, an authentication not strong enough (`acr`) or too old
 * (`auth_time` more than `maxAge` seconds ago), gets 401 `insufficient_user_authentication` with
 * `acr_values` or `max_age` in the challenge (RFC 9470 §3).
 *
 * @throws `TypeError` when the class is defined, for an empty or malformed policy.
 *
 * @example
 * ```ts
 * const canRefund = definePolicy({ allOf: ['orders:write'], anyOf: ['support', 'admin'] })
 *
 * @Post(':id/refund')
 * @RequirePolicy(canRefund)
 * refund() {}
 *
 * // Step-up: multi-factor authentication within the last 5 minutes.
 * @Get('audit')
 * @RequireScopes('admin')
 * @RequirePolicy({ acr: ['urn:example:mfa'], maxAge: 300 })
 * audit() {}
 * ```
 */
export function RequirePolicy(policy: AccessPolicy): CustomDecorator {
  return PolicyMetadata(definePolicy(policy))
}
