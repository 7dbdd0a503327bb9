// Sources: learn.microsoft.com/entra/identity-platform/access-token-claims-reference (v1.0 iss
// https://sts.windows.net/<tid>/, v2.0 iss https://login.microsoftonline.com/<tid>/v2.0; `aud` is
// the API's client ID in v2.0, its client ID or App ID URI in v1.0; `appid` only in v1.0 and `azp`
// only in v2.0 tokens; `scp` for user tokens, `roles` for app tokens); the common and organizations
// key sets (login.microsoftonline.com/{common,organizations}/discovery/v2.0/keys) name each key's
// issuer, `{tenantid}` standing for the token's tenant; Microsoft.IdentityModel.Validators
// AadTokenValidationParametersExtension.ValidateIssuerSigningKey binds keys to their issuer that way
// and notes that "v1 endpoint doesn't have issuers attached to keys".
import type { IssuerOptions } from '@bearer-guard/core'
import {
  fail,
  frozen,
  optionalBoolean,
  optionalList,
  presetOptions,
  requiredList,
} from './options.js'

/** Options of {@link entra}. */
export interface EntraOptions {
  /**
   * The directory (tenant) ID of a single-tenant API, a GUID; or `'organizations'` (any work or
   * school tenant) or `'common'` (those and personal Microsoft accounts) for a multi-tenant API,
   * which then needs `tenants`. Required. Domain names (`contoso.onmicrosoft.com`) are refused:
   * tokens name the tenant by its ID.
   */
  readonly tenant: string
  /**
   * For `'organizations'` and `'common'`: the tenant IDs (GUIDs) whose tokens are accepted, or
   * `'any'` for every tenant (then authorize by `tid` in your policies). The token's `tid` must
   * equal the tenant in its `iss`. Required for those, refused for a single tenant.
   */
  readonly tenants?: readonly string[] | 'any'
  /**
   * The API's identifiers: its Application (client) ID and/or its Application ID URI
   * (`api://…`). Required. v2.0 tokens carry the client ID in `aud`; v1.0 tokens carry whichever
   * the client asked for, so give both when v1.0 tokens are accepted.
   */
  readonly audience: string | readonly string[]
  /**
   * The token versions accepted. Which one your API receives is set by its app registration
   * (manifest `requestedAccessTokenVersion`; `null` or `1` gives v1.0 tokens). Default: `['v1',
   * 'v2']`.
   */
  readonly versions?: readonly ('v1' | 'v2')[]
  /**
   * Also read app roles from `roles` (application permissions of app-only tokens, and app roles
   * assigned to users) as scopes, beside the delegated scopes of `scp`. Default: `true`.
   */
  readonly roles?: boolean
  /**
   * The client applications (Application IDs) allowed to call this API: `azp` (v2.0) or `appid`
   * (v1.0) must be one of them. Default: none (any client the tenant let obtain a token for this
   * API).
   */
  readonly clientIds?: readonly string[]
}

const OPTIONS: Readonly<Record<keyof EntraOptions, true>> = {
  tenant: true,
  tenants: true,
  audience: true,
  versions: true,
  roles: true,
  clientIds: true,
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const LOGIN = 'https://login.microsoftonline.com'

function guid(where: string, name: string, value: unknown): string {
  if (value === undefined) fail(where, `"${name}" is required`)
  if (typeof value !== 'string' || !GUID.test(value)) {
    fail(
      where,
      `"${name}" must be a tenant ID, a GUID such as '72f988bf-86f1-41af-91ab-2d7cd011db47'`,
    )
  }
  // Microsoft writes tenant IDs in lower case in `iss` and `tid`.
  return value.toLowerCase()
}

/**
 * The issuers of a Microsoft Entra ID API: v1.0 and v2.0 access tokens, of one tenant or of
 * several.
 *
 * @remarks
 * Checks, per accepted version:
 *
 * - v2.0: `iss` is `https://login.microsoftonline.com/<tenant>/v2.0`; keys from
 *   `https://login.microsoftonline.com/<tenant|organizations|common>/discovery/v2.0/keys`; `azp`
 *   (the calling client) is present, and one of `clientIds` when given.
 * - v1.0: `iss` is `https://sts.windows.net/<tenant>/`; keys from
 *   `https://login.microsoftonline.com/<tenant|common>/discovery/keys`; `appid` is present, and one
 *   of `clientIds` when given.
 * - `aud` contains `audience`; scopes come from `scp` (space-separated, user tokens) and, unless
 *   `roles: false`, `roles` (app roles).
 * - Multi-tenant (`'organizations'`, `'common'`): the issuer is the template
 *   `…/{tenantid}/…`; the tenant in `iss` must be in `tenants` (unless `'any'`) and equal `tid`.
 *   The `organizations` key set holds no personal-account keys, so personal Microsoft account
 *   tokens do not verify with it.
 *
 * Keys are bound to their issuer as Microsoft's own validator binds them: a key whose JWK names an
 * `issuer` (`…/{tenantid}/v2.0`, `{tenantid}` standing for the token's `tid`, or one tenant's
 * issuer) verifies only tokens of that issuer. Microsoft's v1.0 key sets name no issuer.
 *
 * Entra ID tokens are refused: their `aud` is the signing-in client's ID
 * (`ERR_TOKEN_AUDIENCE_INVALID`); when the API and its client are one app registration, the
 * `nonce` (`ERR_TOKEN_TYPE_INVALID`) or, without one, the missing `azp`/`appid`
 * (`ERR_TOKEN_CLAIM_INVALID`) refuses them.
 *
 * An app registration with custom signing keys (claims mapping) needs the key set of
 * `…/discovery/v2.0/keys?appid=<client id>`: set `jwksUri` on the entries yourself.
 *
 * @param options - See {@link EntraOptions}.
 * @returns One issuer entry per accepted version (v1.0 first), frozen.
 * @throws TypeError for an unknown, missing or malformed option.
 * @example
 * ```ts
 * import { createAccessTokenValidator } from '@bearer-guard/core'
 * import { entra } from '@bearer-guard/presets'
 *
 * // One tenant, v2.0 tokens only
 * const single = createAccessTokenValidator({
 *   issuer: entra({
 *     tenant: '72f988bf-86f1-41af-91ab-2d7cd011db47',
 *     audience: 'ef1da9d4-ff77-4c3e-a005-840c3f830745',
 *     versions: ['v2'],
 *   }),
 * })
 *
 * // A multi-tenant API accepting two customer tenants
 * const multi = createAccessTokenValidator({
 *   issuer: entra({
 *     tenant: 'organizations',
 *     tenants: ['11111111-1111-1111-1111-111111111111', '22222222-2222-2222-2222-222222222222'],
 *     audience: ['ef1da9d4-ff77-4c3e-a005-840c3f830745', 'api://orders'],
 *   }),
 * })
 * ```
 */
export function entra(options: EntraOptions): readonly IssuerOptions[] {
  const where = 'entra()'
  const given = presetOptions<EntraOptions>(options, OPTIONS, where)
  const multi = given.tenant === 'organizations' || given.tenant === 'common'
  const tenant = multi ? given.tenant : guid(where, 'tenant', given.tenant)
  let tenants: readonly string[] | 'any' | undefined
  if (multi) {
    if (given.tenants === undefined) {
      fail(where, `"tenants" is required with '${tenant}': the tenant IDs to accept, or 'any'`)
    }
    tenants =
      given.tenants === 'any'
        ? 'any'
        : requiredList(where, 'tenants', given.tenants).map((t) => guid(where, 'tenants[]', t))
  } else if (given.tenants !== undefined) {
    fail(where, `"tenants" is only for 'organizations' or 'common'; this API has one tenant`)
  }
  const audience = requiredList(where, 'audience', given.audience)
  const versions = optionalList(where, 'versions', given.versions) ?? ['v1', 'v2']
  for (const version of versions) {
    if (version !== 'v1' && version !== 'v2') fail(where, `"versions" may hold 'v1' and 'v2' only`)
  }
  const roles = optionalBoolean(where, 'roles', given.roles, true)
  const clientIds = optionalList(where, 'clientIds', given.clientIds)
  const segment = multi ? '{tenantid}' : tenant
  const scopeClaims = roles ? ['scp', 'roles'] : ['scp']
  const shared = { audience, scopeClaims, ...(tenants === undefined ? {} : { tenants }) }
  const client = (claim: string) =>
    clientIds === undefined
      ? { requiredClaims: [claim] }
      : { requiredClaimValues: { [claim]: clientIds } }
  const entries: IssuerOptions[] = []
  if (versions.includes('v1')) {
    entries.push({
      issuer: `https://sts.windows.net/${segment}/`,
      // An API that accepts personal accounts must take v2.0 tokens (requestedAccessTokenVersion
      // 2), so v1.0 tokens are work and school tokens: the common key set serves them all.
      jwksUri: `${LOGIN}/${multi ? 'common' : tenant}/discovery/keys`,
      ...shared,
      ...client('appid'),
    })
  }
  if (versions.includes('v2')) {
    entries.push({
      issuer: `${LOGIN}/${segment}/v2.0`,
      jwksUri: `${LOGIN}/${tenant}/discovery/v2.0/keys`,
      ...shared,
      ...client('azp'),
    })
  }
  return frozen(entries)
}
