// Source: okta/okta-developer-docs, "OpenID Connect & OAuth 2.0 API" token examples and guides.
import { begin, finish, halfHash, randomToken, SHAPE_OPTION_NAMES, uuid } from './shape.js'
import type { ShapeOptions, TokenShape } from './shape.js'

/** Options shared by the Okta builders. */
export interface OktaOptions extends ShapeOptions {
  /** The Okta org domain. Default `'example.okta.com'`. */
  readonly domain?: string
  /**
   * The custom authorization server's ID: `iss` is `https://<domain>/oauth2/<id>`. Default
   * `'default'`.
   */
  readonly authorizationServerId?: string
  /** The client ID (`cid`; `aud` of ID tokens). Default `'0oa8f5j3ecb5w3dF35d7'`. */
  readonly clientId?: string
  /** The user's Okta ID (`uid`; `sub` of ID tokens). Default `'00u1abcd2EFGH3ijk4l5'`. */
  readonly userId?: string
  /** The user's login (`sub` of access tokens). Default `'jane.doe@example.com'`. */
  readonly login?: string
}

/** Options of `providers.okta.accessToken`. */
export interface OktaAccessTokenOptions extends OktaOptions {
  /** `aud`. Default `'api://default'`. */
  readonly audience?: string
  /** `scp`. Default `['openid', 'orders:read']` (`['orders:read']` for client credentials). */
  readonly scopes?: readonly string[]
  /**
   * `'user'`, or `'client-credentials'` (`sub` is the client ID; no `uid`, no `auth_time`).
   * Default `'user'`.
   */
  readonly grant?: 'user' | 'client-credentials'
}

/** Options of `providers.okta.idToken`. */
export interface OktaIdTokenOptions extends OktaOptions {
  /** `nonce`. Default: a random value. */
  readonly nonce?: string
}

const COMMON: Readonly<Record<keyof OktaOptions, true>> = {
  ...SHAPE_OPTION_NAMES,
  domain: true,
  authorizationServerId: true,
  clientId: true,
  userId: true,
  login: true,
}
const ACCESS_OPTIONS: Readonly<Record<keyof OktaAccessTokenOptions, true>> = {
  ...COMMON,
  audience: true,
  scopes: true,
  grant: true,
}
const ID_OPTIONS: Readonly<Record<keyof OktaIdTokenOptions, true>> = { ...COMMON, nonce: true }

function issuer(options: OktaOptions): string {
  return `https://${options.domain ?? 'example.okta.com'}/oauth2/${options.authorizationServerId ?? 'default'}`
}

const CLIENT_ID = '0oa8f5j3ecb5w3dF35d7'
const USER_ID = '00u1abcd2EFGH3ijk4l5'
const LOGIN = 'jane.doe@example.com'

/** Okta (custom authorization server) token shapes: header `{ alg, kid }`, RS256, 3,600 s. */
export const okta = {
  /**
   * An access token of an Okta custom authorization server.
   *
   * Claims `ver: 1`, `jti: 'AT.…'`, `iss`, `aud`, `iat`, `exp`, `cid`, `uid`, `scp` (an array),
   * `auth_time`, `sub` (the user's login; the client ID for client credentials, without `uid`
   * and `auth_time`). No `typ` in the header.
   */
  accessToken(options: OktaAccessTokenOptions = {}): TokenShape {
    const { iat, exp } = begin(options, ACCESS_OPTIONS, 'providers.okta.accessToken()', 3600)
    const clientId = options.clientId ?? CLIENT_ID
    const machine = options.grant === 'client-credentials'
    const scopes = options.scopes ?? (machine ? ['orders:read'] : ['openid', 'orders:read'])
    const claims = {
      ver: 1,
      jti: `AT.${randomToken(32)}`,
      iss: issuer(options),
      aud: options.audience ?? 'api://default',
      iat,
      exp,
      cid: clientId,
      ...(machine ? {} : { uid: options.userId ?? USER_ID }),
      scp: [...scopes],
      ...(machine ? {} : { auth_time: iat - 5 }),
      sub: machine ? clientId : (options.login ?? LOGIN),
    }
    return finish('okta', 'access', {}, claims, options)
  },

  /**
   * An Okta ID token (to be refused by an API): `sub` (the user ID), `name`, `email`, `ver: 1`,
   * `iss`, `aud` (the client ID), `iat`, `exp`, `jti: 'ID.…'`, `amr`, `idp`, `nonce`,
   * `preferred_username`, `auth_time`, `at_hash`.
   */
  idToken(options: OktaIdTokenOptions = {}): TokenShape {
    const { iat, exp } = begin(options, ID_OPTIONS, 'providers.okta.idToken()', 3600)
    const login = options.login ?? LOGIN
    const claims = {
      sub: options.userId ?? USER_ID,
      name: 'Jane Doe',
      email: login,
      ver: 1,
      iss: issuer(options),
      aud: options.clientId ?? CLIENT_ID,
      iat,
      exp,
      jti: `ID.${randomToken(32)}`,
      amr: ['pwd'],
      idp: '00o1abcd2EFGH3ijk4l5',
      nonce: options.nonce ?? uuid(),
      preferred_username: login,
      auth_time: iat - 5,
      at_hash: halfHash(randomToken(32)),
    }
    return finish('okta', 'id', {}, claims, options)
  },
}
