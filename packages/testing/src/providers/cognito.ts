// Source: awsdocs/amazon-cognito-developer-guide, "Using the access token" and "the ID token".
import { begin, finish, halfHash, randomToken, SHAPE_OPTION_NAMES, uuid, when } from './shape.js'
import type { ShapeOptions, TokenShape } from './shape.js'

/** Options shared by the Cognito builders. */
export interface CognitoOptions extends ShapeOptions {
  /**
   * The user pool ID, `<region>_<id>`: `iss` is
   * `https://cognito-idp.<region>.amazonaws.com/<userPoolId>`. Default `'eu-west-1_AbCdEfGhI'`.
   */
  readonly userPoolId?: string
  /**
   * The app client ID (`client_id`; `aud` of ID tokens). Default `'4qf2kc9bm7r1tj5h8vnl3xw6pd'`.
   */
  readonly clientId?: string
  /** The user's `sub`. Default `'a1b2c3d4-e5f6-4789-8abc-def012345678'`. */
  readonly subject?: string
  /** The user name (`username`, `cognito:username`). Default: the `subject`. */
  readonly username?: string
  /** `cognito:groups`; `[]` leaves it out (a user in no group). Default `['orders-admins']`. */
  readonly groups?: readonly string[]
}

/** Options of `providers.cognito.accessToken`. */
export interface CognitoAccessTokenOptions extends CognitoOptions {
  /**
   * `scope`, space-separated. Default `'openid email'` (`'orders-api/read'` for client
   * credentials).
   */
  readonly scope?: string
  /**
   * `'user'`, or `'client-credentials'` (machine to machine: `sub` is the client ID; no
   * `username`, groups or `origin_jti`). Default `'user'`.
   */
  readonly grant?: 'user' | 'client-credentials'
}

/** Options of `providers.cognito.idToken`. */
export interface CognitoIdTokenOptions extends CognitoOptions {
  /** `email`. Default `'jane.doe@example.com'`. */
  readonly email?: string
}

const COMMON: Readonly<Record<keyof CognitoOptions, true>> = {
  ...SHAPE_OPTION_NAMES,
  userPoolId: true,
  clientId: true,
  subject: true,
  username: true,
  groups: true,
}
const ACCESS_OPTIONS: Readonly<Record<keyof CognitoAccessTokenOptions, true>> = {
  ...COMMON,
  scope: true,
  grant: true,
}
const ID_OPTIONS: Readonly<Record<keyof CognitoIdTokenOptions, true>> = { ...COMMON, email: true }

function issuer(userPoolId: string): string {
  const region = userPoolId.split('_')[0] ?? ''
  return `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`
}

interface User {
  readonly iss: string
  readonly clientId: string
  readonly sub: string
  readonly username: string
  readonly groups: Record<string, unknown>
}

function user(options: CognitoOptions): User {
  const sub = options.subject ?? 'a1b2c3d4-e5f6-4789-8abc-def012345678'
  const groups = options.groups ?? ['orders-admins']
  return {
    iss: issuer(options.userPoolId ?? 'eu-west-1_AbCdEfGhI'),
    clientId: options.clientId ?? '4qf2kc9bm7r1tj5h8vnl3xw6pd',
    sub,
    username: options.username ?? sub,
    groups: when(groups.length > 0, { 'cognito:groups': [...groups] }),
  }
}

/**
 * Amazon Cognito user pool token shapes: header `{ kid, alg }` (no `typ`), RS256, 3,600 s.
 * Cognito signs access and ID tokens with different keys: to test that, sign one of them with a
 * second published key (`TestIssuer.mintShaped(..., { key })`).
 */
export const cognito = {
  /**
   * A Cognito access token. It has NO `aud`: `client_id` names the app client. Claims `sub`,
   * `cognito:groups`, `iss`, `version: 2`, `client_id`, `origin_jti`, `event_id`, `token_use:
   * 'access'`, `scope`, `auth_time`, `exp`, `iat`, `jti`, `username`.
   */
  accessToken(options: CognitoAccessTokenOptions = {}): TokenShape {
    const { iat, exp } = begin(options, ACCESS_OPTIONS, 'providers.cognito.accessToken()', 3600)
    const { iss, clientId, sub, username, groups } = user(options)
    const machine = options.grant === 'client-credentials'
    const claims = machine
      ? {
          sub: clientId,
          token_use: 'access',
          scope: options.scope ?? 'orders-api/read',
          auth_time: iat,
          iss,
          exp,
          iat,
          version: 2,
          jti: uuid(),
          client_id: clientId,
        }
      : {
          sub,
          ...groups,
          iss,
          version: 2,
          client_id: clientId,
          origin_jti: uuid(),
          event_id: uuid(),
          token_use: 'access',
          scope: options.scope ?? 'openid email',
          auth_time: iat - 5,
          exp,
          iat,
          jti: uuid(),
          username,
        }
    return finish('cognito', 'access', {}, claims, options)
  },

  /**
   * A Cognito ID token (to be refused by an API): `at_hash`, `sub`, `cognito:groups`,
   * `email_verified`, `iss`, `cognito:username`, `origin_jti`, `aud` (the app client ID),
   * `event_id`, `token_use: 'id'`, `auth_time`, `exp`, `iat`, `jti`, `email`.
   */
  idToken(options: CognitoIdTokenOptions = {}): TokenShape {
    const { iat, exp } = begin(options, ID_OPTIONS, 'providers.cognito.idToken()', 3600)
    const { iss, clientId, sub, username, groups } = user(options)
    const claims = {
      at_hash: halfHash(randomToken(32)),
      sub,
      ...groups,
      email_verified: true,
      iss,
      'cognito:username': username,
      origin_jti: uuid(),
      aud: clientId,
      event_id: uuid(),
      token_use: 'id',
      auth_time: iat - 5,
      exp,
      iat,
      jti: uuid(),
      email: options.email ?? 'jane.doe@example.com',
    }
    return finish('cognito', 'id', {}, claims, options)
  },
}
