// Sources: dexidp/dex server/oauth2.go (newAccessToken calls newIDToken: access and ID tokens have
// the same claims, `at_hash` included; keys at `<issuer>/keys`), and dexidp.io "Cross-client
// trust and authorized party" (the `audience:server:client_id:<peer>` scope puts the peer, here
// the API, in `aud`, with the requesting client as `azp`).
import type { IssuerOptions } from '@bearer-guard/core'
import { baseUrl, frozen, presetOptions, requiredList } from './options.js'

/** Options of {@link dex}. */
export interface DexOptions {
  /** Dex's issuer URL, as in its config (`issuer:`), e.g. `'https://dex.example.com'`. Required. */
  readonly issuer: string
  /**
   * This API's client ID(s) in Dex: a token's `aud` must contain one. Clients get such tokens by
   * asking for the cross-client scope `audience:server:client_id:<this API's client ID>`.
   * Required; never a client application's own ID.
   */
  readonly audience: string | readonly string[]
}

const OPTIONS: Readonly<Record<keyof DexOptions, true>> = { issuer: true, audience: true }

/**
 * The issuer of a Dex server.
 *
 * @remarks
 * Checks: `iss` is the issuer, verified with the keys of `<issuer>/keys`; `aud` contains the API's
 * client ID; scopes come from `groups`. Dex builds its access tokens with its ID-token code, so
 * they carry `at_hash` (and the client's `nonce`): the entry sets `allowIdTokenClaims`, and only
 * the audience tells a token for this API from an ID token for a client. A client's ID token (its
 * `aud` is the client) is refused with `ERR_TOKEN_AUDIENCE_INVALID`.
 *
 * @remarks Security: give the API its own client ID in Dex and list only that as `audience`.
 *
 * @param options - See {@link DexOptions}.
 * @returns One issuer entry, frozen.
 * @throws TypeError for an unknown, missing or malformed option.
 * @example
 * ```ts
 * import { createAccessTokenValidator } from '@bearer-guard/core'
 * import { dex } from '@bearer-guard/presets'
 *
 * const validator = createAccessTokenValidator({
 *   issuer: dex({ issuer: 'https://dex.example.com', audience: 'orders-api' }),
 * })
 * ```
 */
export function dex(options: DexOptions): readonly IssuerOptions[] {
  const where = 'dex()'
  const given = presetOptions<DexOptions>(options, OPTIONS, where)
  const issuer = baseUrl(where, 'issuer', given.issuer)
  return frozen([
    {
      issuer,
      jwksUri: `${issuer}/keys`,
      audience: requiredList(where, 'audience', given.audience),
      scopeClaims: ['groups'],
      allowIdTokenClaims: true,
    },
  ])
}
