// Sources: docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt
// (iss https://cognito-idp.<region>.amazonaws.com/<userPoolId>, keys at <iss>/.well-known/jwks.json;
// "check the token_use claim": access for an API; the access token has no `aud`, its `client_id`
// names the app client) and ...-using-the-access-token (`scope`, `cognito:groups`).
import type { IssuerOptions } from '@bearer-guard/core'
import {
  fail,
  frozen,
  optionalString,
  presetOptions,
  requiredList,
  requiredString,
} from './options.js'

/** Options of {@link cognito}. */
export interface CognitoOptions {
  /**
   * The user pool's Region, e.g. `'eu-west-1'`. Default: the Region the pool ID starts with
   * (`eu-west-1_AbCdEfGhI` is in `eu-west-1`); when given, it must be that one.
   */
  readonly region?: string
  /** The user pool ID, `<region>_<id>`: `'eu-west-1_AbCdEfGhI'`. Required. */
  readonly userPoolId: string
  /**
   * The app client IDs whose access tokens are accepted: a token's `client_id` must be one of
   * them. Required (Cognito access tokens have no `aud`; the client is the audience).
   */
  readonly clientIds: string | readonly string[]
}

const OPTIONS: Readonly<Record<keyof CognitoOptions, true>> = {
  region: true,
  userPoolId: true,
  clientIds: true,
}

/**
 * The issuer of an Amazon Cognito user pool.
 *
 * @remarks
 * Checks: `iss` is `https://cognito-idp.<region>.amazonaws.com/<userPoolId>`, verified with the
 * keys of `<iss>/.well-known/jwks.json`; `client_id` is one of `clientIds` (Cognito access tokens
 * carry no `aud`); `token_use` is `access`. Scopes come from `scope` (resource-server scopes such as
 * `orders-api/read`, and `aws.cognito.signin.user.admin`) and from the user's groups,
 * `cognito:groups`.
 *
 * Cognito ID tokens are refused: they have no `client_id` (their `aud` is the app client,
 * `ERR_TOKEN_AUDIENCE_INVALID`); one given a `client_id` still carries `at_hash`
 * (`ERR_TOKEN_TYPE_INVALID`) and `token_use: 'id'` (`ERR_TOKEN_CLAIM_INVALID`).
 *
 * @param options - See {@link CognitoOptions}.
 * @returns One issuer entry, frozen.
 * @throws TypeError for an unknown, missing or malformed option.
 * @example
 * ```ts
 * import { createAccessTokenValidator } from '@bearer-guard/core'
 * import { cognito } from '@bearer-guard/presets'
 *
 * const validator = createAccessTokenValidator({
 *   issuer: cognito({ userPoolId: 'eu-west-1_AbCdEfGhI', clientIds: ['4qf2kc9bm7r1tj5h8vnl3xw6pd'] }),
 * })
 * ```
 */
export function cognito(options: CognitoOptions): readonly IssuerOptions[] {
  const where = 'cognito()'
  const given = presetOptions<CognitoOptions>(options, OPTIONS, where)
  const userPoolId = requiredString(where, 'userPoolId', given.userPoolId)
  const match = /^([a-z]{2}(?:-[a-z]+)+-\d+)_[A-Za-z0-9]+$/.exec(userPoolId)
  if (match === null) {
    fail(where, '"userPoolId" must be a user pool ID, <region>_<id>, such as eu-west-1_AbCdEfGhI')
  }
  const poolRegion = match[1] as string
  const region = optionalString(where, 'region', given.region) ?? poolRegion
  if (region !== poolRegion) {
    fail(where, `"region" is ${region}, but the user pool ${userPoolId} is in ${poolRegion}`)
  }
  const clientIds = requiredList(where, 'clientIds', given.clientIds)
  const issuer = `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`
  return frozen([
    {
      issuer,
      jwksUri: `${issuer}/.well-known/jwks.json`,
      audience: { claim: 'client_id', values: clientIds },
      requiredClaimValues: { token_use: 'access' },
      scopeClaims: ['scope', 'cognito:groups'],
    },
  ])
}
