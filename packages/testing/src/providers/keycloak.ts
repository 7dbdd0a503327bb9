// Source: decoded Keycloak tokens; keycloak.org upgrading guide 25.0 (session_state removed).
import { begin, finish, halfHash, randomToken, SHAPE_OPTION_NAMES, uuid, when } from './shape.js'
import type { ShapeOptions, TokenShape } from './shape.js'

/** Options shared by the Keycloak builders. */
export interface KeycloakOptions extends ShapeOptions {
  /** The server's base URL. Default `'https://keycloak.example.com'`. */
  readonly baseUrl?: string
  /** The realm: `iss` is `<baseUrl>/realms/<realm>`. Default `'example'`. */
  readonly realm?: string
  /** The client that got the token (`azp`; `aud` of ID tokens). Default `'orders-web'`. */
  readonly clientId?: string
  /** The user's ID, `sub`. Default `'f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9'`. */
  readonly subject?: string
  /** `preferred_username`. Default `'jane'`. */
  readonly username?: string
  /**
   * Add `session_state` (equal to `sid`), as Keycloak 24 and older do, or newer ones with the
   * "Session State" mapper. Default `false`.
   */
  readonly sessionState?: boolean
}

/** Options of `providers.keycloak.accessToken`. */
export interface KeycloakAccessTokenOptions extends KeycloakOptions {
  /**
   * `aud`: Keycloak sends `'account'` for users with account roles; an audience mapper adds your
   * API (then `aud` is an array). Default `'account'`.
   */
  readonly audience?: string | readonly string[]
  /**
   * `realm_access.roles`. Default `['default-roles-example', 'offline_access',
   * 'uma_authorization']`.
   */
  readonly realmRoles?: readonly string[]
  /**
   * `resource_access`: client ID to role names. Default `{ account: ['manage-account',
   * 'manage-account-links', 'view-profile'] }`.
   */
  readonly clientRoles?: Readonly<Record<string, readonly string[]>>
  /**
   * `scope`, space-separated. Default `'openid profile email'` (`'profile email'` for client
   * credentials).
   */
  readonly scope?: string
  /**
   * `'user'`, or `'client-credentials'` (the client's service-account user: `sub` is its ID,
   * `preferred_username: 'service-account-<clientId>'`, `client_id`, `clientHost`,
   * `clientAddress`; no session). Default `'user'`.
   */
  readonly grant?: 'user' | 'client-credentials'
}

/** Options of `providers.keycloak.idToken`. */
export interface KeycloakIdTokenOptions extends KeycloakOptions {
  /** `nonce`. Default: a random value. */
  readonly nonce?: string
}

const COMMON: Readonly<Record<keyof KeycloakOptions, true>> = {
  ...SHAPE_OPTION_NAMES,
  baseUrl: true,
  realm: true,
  clientId: true,
  subject: true,
  username: true,
  sessionState: true,
}
const ACCESS_OPTIONS: Readonly<Record<keyof KeycloakAccessTokenOptions, true>> = {
  ...COMMON,
  audience: true,
  realmRoles: true,
  clientRoles: true,
  scope: true,
  grant: true,
}
const ID_OPTIONS: Readonly<Record<keyof KeycloakIdTokenOptions, true>> = {
  ...COMMON,
  nonce: true,
}

function realmOf(options: KeycloakOptions): { iss: string; realm: string } {
  const realm = options.realm ?? 'example'
  return { iss: `${options.baseUrl ?? 'https://keycloak.example.com'}/realms/${realm}`, realm }
}

/** The user's profile claims (scopes `profile` and `email`). */
function profile(username: string): Record<string, unknown> {
  return {
    email_verified: true,
    name: 'Jane Doe',
    preferred_username: username,
    given_name: 'Jane',
    family_name: 'Doe',
    email: `${username}@example.com`,
  }
}

const SUBJECT = 'f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9'

/** Keycloak token shapes: header `{ alg, typ: 'JWT', kid }`, RS256, 300 s. */
export const keycloak = {
  /**
   * A Keycloak access token: `exp`, `iat`, `auth_time`, `jti`, `iss`, `aud`, `sub`, `typ:
   * 'Bearer'`, `azp`, `sid`, `acr`, `realm_access: { roles }`, `resource_access: { <client>: {
   * roles } }`, `scope`, and the profile claims (`email_verified`, `name`, `preferred_username`,
   * `given_name`, `family_name`, `email`).
   */
  accessToken(options: KeycloakAccessTokenOptions = {}): TokenShape {
    const { iat, exp } = begin(options, ACCESS_OPTIONS, 'providers.keycloak.accessToken()', 300)
    const { iss, realm } = realmOf(options)
    const clientId = options.clientId ?? 'orders-web'
    const machine = options.grant === 'client-credentials'
    const sid = uuid()
    const audience = options.audience ?? 'account'
    const clientRoles = options.clientRoles ?? {
      account: ['manage-account', 'manage-account-links', 'view-profile'],
    }
    const claims = {
      exp,
      iat,
      ...when(!machine, { auth_time: iat - 5 }),
      jti: uuid(),
      iss,
      aud: typeof audience === 'string' ? audience : [...audience],
      sub: options.subject ?? SUBJECT,
      typ: 'Bearer',
      azp: clientId,
      ...when(!machine, { sid }),
      ...when(!machine && options.sessionState === true, { session_state: sid }),
      acr: '1',
      realm_access: {
        roles: [
          ...(options.realmRoles ?? [
            `default-roles-${realm}`,
            'offline_access',
            'uma_authorization',
          ]),
        ],
      },
      resource_access: Object.fromEntries(
        Object.entries(clientRoles).map(([client, roles]) => [client, { roles: [...roles] }]),
      ),
      scope: options.scope ?? (machine ? 'profile email' : 'openid profile email'),
      ...(machine
        ? {
            clientHost: '203.0.113.7',
            email_verified: false,
            preferred_username: `service-account-${clientId}`,
            clientAddress: '203.0.113.7',
            client_id: clientId,
          }
        : profile(options.username ?? 'jane')),
    }
    return finish('keycloak', 'access', { typ: 'JWT' }, claims, options)
  },

  /**
   * A Keycloak ID token (to be refused by an API): `exp`, `iat`, `auth_time`, `jti`, `iss`, `aud`
   * (the client ID), `sub`, `typ: 'ID'`, `azp`, `nonce`, `sid`, `at_hash`, `acr`, and the profile
   * claims.
   */
  idToken(options: KeycloakIdTokenOptions = {}): TokenShape {
    const { iat, exp } = begin(options, ID_OPTIONS, 'providers.keycloak.idToken()', 300)
    const clientId = options.clientId ?? 'orders-web'
    const sid = uuid()
    const claims = {
      exp,
      iat,
      auth_time: iat - 5,
      jti: uuid(),
      iss: realmOf(options).iss,
      aud: clientId,
      sub: options.subject ?? SUBJECT,
      typ: 'ID',
      azp: clientId,
      nonce: options.nonce ?? uuid(),
      sid,
      ...when(options.sessionState === true, { session_state: sid }),
      at_hash: halfHash(randomToken(32)),
      acr: '1',
      ...profile(options.username ?? 'jane'),
    }
    return finish('keycloak', 'id', { typ: 'JWT' }, claims, options)
  },
}
