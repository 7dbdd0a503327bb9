// Sources: keycloak.org/docs/latest/server_admin ("Audience support": an API is in `aud` only
// through the Audience Resolve mapper of client roles or an Audience mapper; realm roles in
// `realm_access.roles`, client roles in `resource_access.<client>.roles`); keys at
// <issuer>/protocol/openid-connect/certs; access tokens carry the claim `typ: 'Bearer'`, ID tokens
// `typ: 'ID'`, refresh tokens `typ: 'Refresh'`.
import type { IssuerOptions } from '@bearer-guard/core'
import { baseUrl, fail, frozen, optionalString, presetOptions, requiredString } from './options.js'

/** Options of {@link keycloak}. */
export interface KeycloakOptions {
  /**
   * The server's base URL as clients see it (its frontend URL): `'https://keycloak.example.com'`,
   * with `/auth` on Keycloak 16 and older. Required.
   */
  readonly url: string
  /** The realm's name. Required. */
  readonly realm: string
  /**
   * The client ID that stands for this API in Keycloak: a token's `aud` must contain it. Required.
   * Keycloak puts a client in `aud` only when told to: add an Audience mapper ("Included Client
   * Audience": this client) to the calling client's dedicated scope or to a client scope it uses,
   * or give the callers roles of this client (the default Audience Resolve mapper then adds it).
   */
  readonly audience: string
  /**
   * The client whose client roles (`resource_access.<client>.roles`) count as scopes. Default:
   * `audience` (this API's own client roles).
   */
  readonly clientRoles?: string
}

const OPTIONS: Readonly<Record<keyof KeycloakOptions, true>> = {
  url: true,
  realm: true,
  audience: true,
  clientRoles: true,
}

/**
 * The issuer of a Keycloak realm.
 *
 * @remarks
 * Checks: `iss` is `<url>/realms/<realm>`, verified with the keys of
 * `<url>/realms/<realm>/protocol/openid-connect/certs`; `aud` contains `audience` (which needs an
 * Audience mapper in Keycloak, see {@link KeycloakOptions.audience}); the claim `typ` is `Bearer`,
 * so refresh tokens and ID tokens are refused. Scopes come from `scope`, the realm roles
 * (`realm_access.roles`) and the client roles of `clientRoles` (`resource_access.<client>.roles`):
 * name roles so they cannot be mistaken for scopes.
 *
 * Keycloak ID tokens are refused: their `aud` is the client that signed the user in
 * (`ERR_TOKEN_AUDIENCE_INVALID`), and they carry `typ: 'ID'`, `nonce` and `at_hash`
 * (`ERR_TOKEN_TYPE_INVALID`).
 *
 * @param options - See {@link KeycloakOptions}.
 * @returns One issuer entry, frozen.
 * @throws TypeError for an unknown, missing or malformed option.
 * @example
 * ```ts
 * import { createAccessTokenValidator } from '@bearer-guard/core'
 * import { keycloak } from '@bearer-guard/presets'
 *
 * const validator = createAccessTokenValidator({
 *   issuer: keycloak({ url: 'https://keycloak.example.com', realm: 'example', audience: 'orders-api' }),
 * })
 * ```
 */
export function keycloak(options: KeycloakOptions): readonly IssuerOptions[] {
  const where = 'keycloak()'
  const given = presetOptions<KeycloakOptions>(options, OPTIONS, where)
  const url = baseUrl(where, 'url', given.url)
  const realm = requiredString(where, 'realm', given.realm)
  if (/[/?#\s]/.test(realm)) fail(where, '"realm" must be a realm name, not a path or URL')
  const audience = requiredString(where, 'audience', given.audience)
  const clientRoles = optionalString(where, 'clientRoles', given.clientRoles) ?? audience
  const issuer = `${url}/realms/${encodeURIComponent(realm)}`
  return frozen([
    {
      issuer,
      jwksUri: `${issuer}/protocol/openid-connect/certs`,
      audience,
      scopeClaims: ['scope', ['realm_access', 'roles'], ['resource_access', clientRoles, 'roles']],
      requiredClaimValues: { typ: 'Bearer' },
    },
  ])
}
