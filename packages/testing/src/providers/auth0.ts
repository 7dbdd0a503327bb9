// Source: auth0.com/docs "Access Token Profiles" and "ID Token Structure"; decoded M2M tokens.
import { begin, finish, randomToken, SHAPE_OPTION_NAMES, uuid } from './shape.js'
import type { ShapeOptions, TokenShape } from './shape.js'

/** Options of `providers.auth0.accessToken`. */
export interface Auth0AccessTokenOptions extends ShapeOptions {
  /**
   * The tenant's domain: a canonical one (`'tenant.eu.auth0.com'`) or a custom domain
   * (`'login.example.com'`); `iss` is `https://<domain>/`, with the trailing slash Auth0 always
   * has. Default `'example-tenant.us.auth0.com'`.
   */
  readonly domain?: string
  /** The API identifier, `aud`. Default `'https://api.example.com'`. */
  readonly audience?: string
  /**
   * The application's client ID (`azp`, or `client_id` in the RFC 9068 profile). Default
   * `'N5kG7QzVt2pXmR8wLc4HdJ1sYbE6aF3u'`.
   */
  readonly clientId?: string
  /**
   * `'user'` (authorization code and the like: a user `sub`, and `https://<domain>/userinfo` as a
   * second audience when `scope` has `openid`) or `'client-credentials'` (machine to machine:
   * `sub` is `<clientId>@clients`, `gty: 'client-credentials'`). Default `'user'`.
   */
  readonly grant?: 'user' | 'client-credentials'
  /** The user's ID (`sub` of a user token). Default `'auth0|64f1c0ffee5a7e1d2b3c4d5e'`. */
  readonly subject?: string
  /**
   * `scope`, space-separated. Default `'openid profile email read:orders'` (`'read:orders'` for
   * client credentials).
   */
  readonly scope?: string
  /**
   * `permissions`, present when the API has "Add Permissions in the Access Token" (RBAC)
   * enabled; `null` leaves it out. Default `['read:orders']`.
   */
  readonly permissions?: readonly string[] | null
  /**
   * `'auth0'` (the default dialect: header `typ: 'JWT'`, `azp`) or `'rfc9068'` (header `typ:
   * 'at+jwt'`, `client_id` and `jti`). Default `'auth0'`.
   */
  readonly profile?: 'auth0' | 'rfc9068'
}

/** Options of `providers.auth0.idToken`. */
export interface Auth0IdTokenOptions extends ShapeOptions {
  /** As for the access token. Default `'example-tenant.us.auth0.com'`. */
  readonly domain?: string
  /**
   * The application's client ID: `aud` of an ID token. Default
   * `'N5kG7QzVt2pXmR8wLc4HdJ1sYbE6aF3u'`.
   */
  readonly clientId?: string
  /** `sub`. Default `'auth0|64f1c0ffee5a7e1d2b3c4d5e'`. */
  readonly subject?: string
  /** `nonce`. Default: a random value. */
  readonly nonce?: string
  /** `email` (also the `name`). Default `'jane.doe@example.com'`. */
  readonly email?: string
}

const ACCESS_OPTIONS: Readonly<Record<keyof Auth0AccessTokenOptions, true>> = {
  ...SHAPE_OPTION_NAMES,
  domain: true,
  audience: true,
  clientId: true,
  grant: true,
  subject: true,
  scope: true,
  permissions: true,
  profile: true,
}
const ID_OPTIONS: Readonly<Record<keyof Auth0IdTokenOptions, true>> = {
  ...SHAPE_OPTION_NAMES,
  domain: true,
  clientId: true,
  subject: true,
  nonce: true,
  email: true,
}

const DOMAIN = 'example-tenant.us.auth0.com'
const CLIENT_ID = 'N5kG7QzVt2pXmR8wLc4HdJ1sYbE6aF3u'
const SUBJECT = 'auth0|64f1c0ffee5a7e1d2b3c4d5e'

/** Auth0 token shapes. RS256; access tokens last 86,400 s by default, ID tokens 36,000 s. */
export const auth0 = {
  /**
   * An Auth0 access token for an API.
   *
   * Header `{ alg, typ: 'JWT', kid }`. User token: `iss`, `sub`, `aud` (`[audience,
   * 'https://<domain>/userinfo']` when `scope` has `openid`, else the audience), `iat`, `exp`,
   * `scope`, `azp`, `permissions`. Client credentials: `iss`, `sub: '<clientId>@clients'`,
   * `aud`, `iat`, `exp`, `scope`, `gty: 'client-credentials'`, `azp`, `permissions`.
   *
   * @example
   * ```ts
   * const shape = providers.auth0.accessToken({ domain: 'login.example.com', scope: 'read:orders' })
   * // shape.claims.iss === 'https://login.example.com/'
   * ```
   */
  accessToken(options: Auth0AccessTokenOptions = {}): TokenShape {
    const where = 'providers.auth0.accessToken()'
    const { iat, exp } = begin(options, ACCESS_OPTIONS, where, 86_400)
    const domain = options.domain ?? DOMAIN
    const clientId = options.clientId ?? CLIENT_ID
    const audience = options.audience ?? 'https://api.example.com'
    const machine = options.grant === 'client-credentials'
    const scope = options.scope ?? (machine ? 'read:orders' : 'openid profile email read:orders')
    const rfc9068 = options.profile === 'rfc9068'
    const withUserinfo = !machine && scope.split(' ').includes('openid')
    const claims: Record<string, unknown> = {
      iss: `https://${domain}/`,
      sub: machine ? `${clientId}@clients` : (options.subject ?? SUBJECT),
      aud: withUserinfo ? [audience, `https://${domain}/userinfo`] : audience,
      iat,
      exp,
      ...(rfc9068 ? { jti: randomToken(16) } : {}),
      scope,
      ...(machine ? { gty: 'client-credentials' } : {}),
      ...(rfc9068 ? { client_id: clientId } : { azp: clientId }),
    }
    if (options.permissions !== null)
      claims.permissions = [...(options.permissions ?? ['read:orders'])]
    return finish('auth0', 'access', { typ: rfc9068 ? 'at+jwt' : 'JWT' }, claims, options)
  },

  /**
   * An Auth0 ID token (to be refused by an API).
   *
   * Header `{ alg, typ: 'JWT', kid }`; claims `nickname`, `name`, `picture`, `updated_at`,
   * `email`, `email_verified`, `iss`, `aud` (the client ID), `sub`, `iat`, `exp`, `sid`, `nonce`.
   */
  idToken(options: Auth0IdTokenOptions = {}): TokenShape {
    const where = 'providers.auth0.idToken()'
    const { iat, exp } = begin(options, ID_OPTIONS, where, 36_000)
    const email = options.email ?? 'jane.doe@example.com'
    const claims = {
      nickname: email.split('@')[0],
      name: email,
      picture: 'https://s.gravatar.com/avatar/0f1e2d3c4b5a69788796a5b4c3d2e1f0?s=480&r=pg',
      updated_at: new Date(iat * 1000).toISOString(),
      email,
      email_verified: true,
      iss: `https://${options.domain ?? DOMAIN}/`,
      aud: options.clientId ?? CLIENT_ID,
      sub: options.subject ?? SUBJECT,
      iat,
      exp,
      sid: randomToken(24),
      nonce: options.nonce ?? uuid(),
    }
    return finish('auth0', 'id', { typ: 'JWT' }, claims, options)
  },
}
