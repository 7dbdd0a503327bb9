// Source: MicrosoftDocs/entra-docs, "Access token claims reference", "ID token claims reference".
import { begin, finish, randomToken, SHAPE_OPTION_NAMES, uuid, when } from './shape.js'
import type { ShapeOptions, TokenShape } from './shape.js'

/**
 * The issuer template of Microsoft Entra ID's multi-tenant (`common`) v2.0 metadata and of the
 * `issuer` member of its common key set: a validator substitutes the token's tenant for
 * `{tenantid}`. Publish it with `createTestIssuer({ issuer: ENTRA_COMMON_ISSUER, jwkMembers: {
 * issuer: ENTRA_COMMON_ISSUER } })`.
 */
export const ENTRA_COMMON_ISSUER = 'https://login.microsoftonline.com/{tenantid}/v2.0'

/** Options shared by the Entra ID builders. */
export interface EntraOptions extends ShapeOptions {
  /**
   * The token version: `'1.0'` (iss `https://sts.windows.net/<tenantId>/`, header `x5t`) or
   * `'2.0'` (iss `https://login.microsoftonline.com/<tenantId>/v2.0`). Default `'2.0'`.
   */
  readonly version?: '1.0' | '2.0'
  /** `tid`. Default `'72f988bf-86f1-41af-91ab-2d7cd011db47'`. */
  readonly tenantId?: string
  /**
   * The calling application's client ID: `azp` (v2.0) or `appid` (v1.0) of access tokens, `aud`
   * of ID tokens. Default `'6e74172b-be56-4843-9ff4-e66a39bb12e3'`.
   */
  readonly clientId?: string
  /**
   * `oid`: the user's (or, for app tokens, the service principal's) object ID. Default
   * `'690222be-ff1a-4d56-abd1-7e4f7d38e474'`.
   */
  readonly objectId?: string
  /**
   * The user's UPN (`preferred_username` in v2.0, `upn`/`unique_name` in v1.0). Default
   * `'jane.doe@example.com'`.
   */
  readonly username?: string
}

/** Options of `providers.entra.accessToken`. */
export interface EntraAccessTokenOptions extends EntraOptions {
  /**
   * The API's application (client) ID: `aud` of v2.0 tokens. Default
   * `'ef1da9d4-ff77-4c3e-a005-840c3f830745'`.
   */
  readonly apiClientId?: string
  /**
   * `aud`. Default: v2.0 the `apiClientId`, v1.0 the App ID URI `api://<apiClientId>` (v1.0
   * tokens carry whichever the client requested).
   */
  readonly audience?: string
  /**
   * An app-only token (client credentials): `roles` instead of `scp`, `idtyp: 'app'`, `sub` equal
   * to `oid`, no user claims. Default `false` (a delegated user token).
   */
  readonly app?: boolean
  /** `scp` of a user token, space-separated. Default `'access_as_user'`. */
  readonly scope?: string
  /** `roles`. Default: `['Orders.Read.All']` for app tokens, none for user tokens. */
  readonly roles?: readonly string[]
}

/** Options of `providers.entra.idToken`. */
export interface EntraIdTokenOptions extends EntraOptions {
  /** `nonce`. Default: a random value. */
  readonly nonce?: string
}

const COMMON: Readonly<Record<keyof EntraOptions, true>> = {
  ...SHAPE_OPTION_NAMES,
  version: true,
  tenantId: true,
  clientId: true,
  objectId: true,
  username: true,
}
const ACCESS_OPTIONS: Readonly<Record<keyof EntraAccessTokenOptions, true>> = {
  ...COMMON,
  apiClientId: true,
  audience: true,
  app: true,
  scope: true,
  roles: true,
}
const ID_OPTIONS: Readonly<Record<keyof EntraIdTokenOptions, true>> = { ...COMMON, nonce: true }

interface Common {
  readonly v1: boolean
  readonly tid: string
  readonly iss: string
  readonly header: Record<string, unknown>
  readonly oid: string
  readonly username: string
}

function common(options: EntraOptions): Common {
  const v1 = options.version === '1.0'
  const tid = options.tenantId ?? '72f988bf-86f1-41af-91ab-2d7cd011db47'
  return {
    v1,
    tid,
    iss: v1 ? `https://sts.windows.net/${tid}/` : `https://login.microsoftonline.com/${tid}/v2.0`,
    // Microsoft's kid and x5t are the same certificate thumbprint; only v1.0 tokens send x5t.
    header: {
      typ: 'JWT',
      ...(v1 && options.key !== undefined ? { x5t: options.key.kid } : {}),
    },
    oid: options.objectId ?? '690222be-ff1a-4d56-abd1-7e4f7d38e474',
    username: options.username ?? 'jane.doe@example.com',
  }
}

/** Opaque internal claims (`aio`, `rh`, `uti`): random values of the real length. */
function opaque(): { aio: string; rh: string; uti: string } {
  return {
    aio: randomToken(90).replaceAll('-', '+').replaceAll('_', '/'),
    rh: `1.A${randomToken(60)}.`,
    uti: randomToken(16),
  }
}

const CLIENT_ID = '6e74172b-be56-4843-9ff4-e66a39bb12e3'
const API_CLIENT_ID = 'ef1da9d4-ff77-4c3e-a005-840c3f830745'

/**
 * Microsoft Entra ID token shapes (v1.0 and v2.0): header `{ typ: 'JWT', alg, kid }` plus `x5t`
 * (equal to `kid`, when the signing key is known) in v1.0; RS256; 3,600 s; `nbf` equal to `iat`.
 * `idtyp` is Entra's optional claim, included here (remove it with `claims: { idtyp: undefined }`).
 */
export const entra = {
  /**
   * An Entra ID access token for your API.
   *
   * v2.0 user token: `aud` (the API's client ID), `iss`, `iat`, `nbf`, `exp`, `aio`, `azp`,
   * `azpacr`, `idtyp: 'user'`, `name`, `oid`, `preferred_username`, `rh`, `scp`
   * (space-separated), `sub`, `tid`, `uti`, `ver: '2.0'`. v1.0 has `appid`/`appidacr` instead of
   * `azp`/`azpacr`, `acr`, `amr`, `given_name`, `family_name`, `ipaddr`, `unique_name`, `upn`. App tokens (`app: true`)
   * carry `roles` and `idtyp: 'app'`, no `scp` and no user claims, and `sub` equals `oid`.
   *
   * @example
   * ```ts
   * const appToken = providers.entra.accessToken({ version: '1.0', app: true })
   * // iss 'https://sts.windows.net/<tid>/', roles ['Orders.Read.All'], idtyp 'app'
   * ```
   */
  accessToken(options: EntraAccessTokenOptions = {}): TokenShape {
    const { iat, exp } = begin(options, ACCESS_OPTIONS, 'providers.entra.accessToken()', 3600)
    const { v1, tid, iss, header, oid, username } = common(options)
    const apiClientId = options.apiClientId ?? API_CLIENT_ID
    const clientId = options.clientId ?? CLIENT_ID
    const app = options.app === true
    const { aio, rh, uti } = opaque()
    const roles = options.roles ?? (app ? ['Orders.Read.All'] : undefined)
    const user = !app
    // Microsoft sends the claims in alphabetical order after the registered ones.
    const claims = {
      aud: options.audience ?? (v1 ? `api://${apiClientId}` : apiClientId),
      iss,
      iat,
      nbf: iat,
      exp,
      ...when(v1 && user, { acr: '1' }),
      aio,
      ...when(v1 && user, { amr: ['pwd'] }),
      ...(v1
        ? { appid: clientId, appidacr: app ? '1' : '0' }
        : { azp: clientId, azpacr: app ? '1' : '0' }),
      ...when(v1 && user, { family_name: 'Doe', given_name: 'Jane' }),
      ...when(v1 && app, { idp: iss }),
      idtyp: app ? 'app' : 'user',
      ...when(v1 && user, { ipaddr: '203.0.113.7' }),
      ...when(user, { name: 'Jane Doe' }),
      oid,
      ...when(!v1 && user, { preferred_username: username }),
      rh,
      ...when(roles !== undefined, { roles: [...(roles ?? [])] }),
      ...when(user, { scp: options.scope ?? 'access_as_user' }),
      sub: app ? oid : randomToken(32),
      tid,
      ...when(v1 && user, { unique_name: username, upn: username }),
      uti,
      ver: v1 ? '1.0' : '2.0',
    }
    return finish('entra', 'access', header, claims, options)
  },

  /**
   * An Entra ID ID token (to be refused by an API): `aud` (the signing-in client's ID), `iss`,
   * `iat`, `nbf`, `exp`, `aio`, `name`, `nonce`, `oid`, `preferred_username` (v2.0), `rh`, `sid`,
   * `sub`, `tid`, `uti`, `ver`; v1.0 adds `amr`, `family_name`, `given_name`, `ipaddr`,
   * `unique_name`, `upn`.
   */
  idToken(options: EntraIdTokenOptions = {}): TokenShape {
    const { iat, exp } = begin(options, ID_OPTIONS, 'providers.entra.idToken()', 3600)
    const { v1, tid, iss, header, oid, username } = common(options)
    const { aio, rh, uti } = opaque()
    const claims = {
      aud: options.clientId ?? CLIENT_ID,
      iss,
      iat,
      nbf: iat,
      exp,
      aio,
      ...when(v1, { amr: ['pwd'], family_name: 'Doe', given_name: 'Jane', ipaddr: '203.0.113.7' }),
      name: 'Jane Doe',
      nonce: options.nonce ?? uuid(),
      oid,
      ...when(!v1, { preferred_username: username }),
      rh,
      sid: uuid(),
      sub: randomToken(32),
      tid,
      ...when(v1, { unique_name: username, upn: username }),
      uti,
      ver: v1 ? '1.0' : '2.0',
    }
    return finish('entra', 'id', header, claims, options)
  },
}
