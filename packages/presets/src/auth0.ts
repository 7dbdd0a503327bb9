// Sources: auth0.com/docs/secure/tokens/access-tokens/validate-access-tokens (iss is
// https://<domain>/ with its trailing slash; keys at /.well-known/jwks.json);
// auth0.com/docs/secure/tokens/access-tokens/get-access-tokens ("Auth0 issues tokens with the iss
// claim of whichever domain you used with the request": the canonical or the custom domain);
// auth0.com/docs/get-started/apis/enable-role-based-access-control-for-apis (`permissions`).
import type { IssuerOptions } from '@bearer-guard/core'
import { frozen, hostName, optionalBoolean, presetOptions, requiredList } from './options.js'

/** Options of {@link auth0}. */
export interface Auth0Options {
  /**
   * The tenant's canonical domain, a host name: `'example-tenant.us.auth0.com'`. Required. Tokens
   * requested through it have `iss` `https://<domain>/`.
   */
  readonly domain: string
  /**
   * The tenant's custom domain, a host name (`'login.example.com'`), when it has one. Tokens
   * requested through it have `iss` `https://<customDomain>/`; both issuers are accepted. Default:
   * none.
   */
  readonly customDomain?: string
  /**
   * The API's Identifier in Auth0 (Dashboard > Applications > APIs), or several: a token's `aud`
   * must contain one of them. Required.
   */
  readonly audience: string | readonly string[]
  /**
   * Also read granted permissions from the `permissions` claim, present when the API has "Enable
   * RBAC" and "Add Permissions in the Access Token" turned on. Default: `false` (scopes come from
   * `scope` only).
   */
  readonly permissions?: boolean
}

const OPTIONS: Readonly<Record<keyof Auth0Options, true>> = {
  domain: true,
  customDomain: true,
  audience: true,
  permissions: true,
}

/**
 * The issuers of an Auth0 tenant: its canonical domain and, if it has one, its custom domain.
 *
 * @remarks
 * Checks: `iss` is `https://<domain>/` or `https://<customDomain>/` (trailing slash included),
 * each verified with the keys of `https://<that domain>/.well-known/jwks.json`; `aud` contains
 * `audience`. Scopes come from `scope` (space-separated) and, with `permissions: true`, from the
 * `permissions` array that Auth0's RBAC adds. With RBAC on, `scope` already holds only the
 * requested permissions the user was granted; `permissions` holds all of them, requested or not.
 *
 * Auth0 ID tokens are refused: their `aud` is the application's client ID, not the API's
 * Identifier (`ERR_TOKEN_AUDIENCE_INVALID`), and they carry a `nonce` (`ERR_TOKEN_TYPE_INVALID`).
 * Auth0 issues opaque access tokens when a client asks for none of your APIs' audiences; those
 * are not JWTs and are refused as malformed.
 *
 * @param options - See {@link Auth0Options}.
 * @returns One issuer entry per domain, frozen: spread them into `issuer`.
 * @throws TypeError for an unknown, missing or malformed option.
 * @example
 * ```ts
 * import { createAccessTokenValidator } from '@bearer-guard/core'
 * import { auth0 } from '@bearer-guard/presets'
 *
 * const validator = createAccessTokenValidator({
 *   issuer: auth0({
 *     domain: 'example-tenant.us.auth0.com',
 *     customDomain: 'login.example.com',
 *     audience: 'https://api.example.com',
 *     permissions: true,
 *   }),
 * })
 * ```
 */
export function auth0(options: Auth0Options): readonly IssuerOptions[] {
  const where = 'auth0()'
  const given = presetOptions<Auth0Options>(options, OPTIONS, where)
  const domain = hostName(where, 'domain', given.domain)
  const custom =
    given.customDomain === undefined
      ? undefined
      : hostName(where, 'customDomain', given.customDomain)
  const audience = requiredList(where, 'audience', given.audience)
  const permissions = optionalBoolean(where, 'permissions', given.permissions, false)
  const domains = custom === undefined || custom === domain ? [domain] : [domain, custom]
  return frozen(
    domains.map((host) => ({
      issuer: `https://${host}/`,
      jwksUri: `https://${host}/.well-known/jwks.json`,
      audience,
      scopeClaims: permissions ? ['scope', 'permissions'] : ['scope'],
    })),
  )
}
