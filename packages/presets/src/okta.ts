// Sources: developer.okta.com/docs/guides/validate-access-tokens ("Okta is the only app that
// should consume or validate access tokens from the org authorization server"; custom
// authorization servers: iss https://<domain>/oauth2/<id>, keys at <issuer>/v1/keys, `aud`
// 'api://default' for the default server, `cid` the client, `scp` the granted scopes);
// developer.okta.com/docs/reference/api/oidc (token claims).
import type { IssuerOptions } from '@bearer-guard/core'
import { baseUrl, fail, frozen, optionalList, presetOptions } from './options.js'

/** Options of {@link okta}. */
export interface OktaOptions {
  /**
   * The custom authorization server's issuer, `https://<your Okta domain>/oauth2/<id>`
   * (`https://example.okta.com/oauth2/default` for the server named "default"; a custom domain
   * works too). Required. The org authorization server (`https://example.okta.com`, no
   * `/oauth2/…`) is refused: its access tokens are meant for Okta's own APIs only.
   */
  readonly issuer: string
  /**
   * The authorization server's audience (Security > API > Authorization Servers), or several: a
   * token's `aud` must contain one of them. Default: `'api://default'`, the audience of the
   * server named "default".
   */
  readonly audience?: string | readonly string[]
  /**
   * The client IDs allowed to call this API: a token's `cid` must be one of them. Default: none
   * (any client the authorization server issued a token to for this audience).
   */
  readonly clientIds?: readonly string[]
}

const OPTIONS: Readonly<Record<keyof OktaOptions, true>> = {
  issuer: true,
  audience: true,
  clientIds: true,
}

/**
 * The issuer of an Okta custom authorization server.
 *
 * @remarks
 * Checks: `iss` is `issuer` exactly, verified with the keys of `<issuer>/v1/keys`; `aud`
 * contains `audience`; with `clientIds`, `cid` (the client the token was issued to) is one of
 * them. Scopes come from `scp`, an array.
 *
 * Okta ID tokens are refused: their `aud` is the client ID (`ERR_TOKEN_AUDIENCE_INVALID`), and
 * they carry `at_hash` and `nonce` (`ERR_TOKEN_TYPE_INVALID`).
 *
 * @param options - See {@link OktaOptions}.
 * @returns One issuer entry, frozen.
 * @throws TypeError for an unknown, missing or malformed option, or an org authorization server.
 * @example
 * ```ts
 * import { createAccessTokenValidator } from '@bearer-guard/core'
 * import { okta } from '@bearer-guard/presets'
 *
 * const validator = createAccessTokenValidator({
 *   issuer: okta({
 *     issuer: 'https://example.okta.com/oauth2/default',
 *     clientIds: ['0oa8f5j3ecb5w3dF35d7'],
 *   }),
 * })
 * ```
 */
export function okta(options: OktaOptions): readonly IssuerOptions[] {
  const where = 'okta()'
  const given = presetOptions<OktaOptions>(options, OPTIONS, where)
  const issuer = baseUrl(where, 'issuer', given.issuer)
  if (!/^\/oauth2\/[^/]+$/.test(new URL(issuer).pathname)) {
    fail(
      where,
      '"issuer" must be a custom authorization server, https://<domain>/oauth2/<id>: tokens of the org authorization server are for Okta APIs only',
    )
  }
  const audience = optionalList(where, 'audience', given.audience) ?? ['api://default']
  const clientIds = optionalList(where, 'clientIds', given.clientIds)
  return frozen([
    {
      issuer,
      jwksUri: `${issuer}/v1/keys`,
      audience,
      scopeClaims: ['scp'],
      ...(clientIds === undefined ? {} : { requiredClaimValues: { cid: clientIds } }),
    },
  ])
}
