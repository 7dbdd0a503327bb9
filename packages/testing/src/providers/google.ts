// Source: developers.google.com/identity/openid-connect; cloud.google.com token-types, Cloud Run.
import { begin, finish, halfHash, randomToken, SHAPE_OPTION_NAMES, when } from './shape.js'
import type { ShapeOptions, TokenShape } from './shape.js'

/** Options shared by the Google builders. */
export interface GoogleOptions extends ShapeOptions {
  /** `iss`: Google uses both forms. Default `'https://accounts.google.com'`. */
  readonly issuer?: 'https://accounts.google.com' | 'accounts.google.com'
  /** `sub`: a numeric account ID. Default `'104518326457829012345'`. */
  readonly subject?: string
}

/** Options of `providers.google.accessToken`. */
export interface GoogleServiceTokenOptions extends GoogleOptions {
  /**
   * `aud`: the receiving service's URL (Cloud Run, IAP-style service-to-service calls). Default
   * `'https://orders-abc123xyz-ew.a.run.app'`.
   */
  readonly audience?: string
  /**
   * The calling service account's email. Default
   * `'invoker@example-project.iam.gserviceaccount.com'`.
   */
  readonly email?: string
}

/** Options of `providers.google.idToken`. */
export interface GoogleIdTokenOptions extends GoogleOptions {
  /**
   * The OAuth client ID of the app the user signed in to: `aud` and `azp`. Default
   * `'123456789012-abcdefghijklmnopqrstuvwxyz012345.apps.googleusercontent.com'`.
   */
  readonly clientId?: string
  /** `email`. Default `'jane.doe@example.com'`. */
  readonly email?: string
  /**
   * `hd`, the Google Workspace domain; `null` leaves it out (a consumer account). Default
   * `'example.com'`.
   */
  readonly hostedDomain?: string | null
  /** `nonce`; absent unless given. */
  readonly nonce?: string
}

const COMMON: Readonly<Record<keyof GoogleOptions, true>> = {
  ...SHAPE_OPTION_NAMES,
  issuer: true,
  subject: true,
}
const SERVICE_OPTIONS: Readonly<Record<keyof GoogleServiceTokenOptions, true>> = {
  ...COMMON,
  audience: true,
  email: true,
}
const ID_OPTIONS: Readonly<Record<keyof GoogleIdTokenOptions, true>> = {
  ...COMMON,
  clientId: true,
  email: true,
  hostedDomain: true,
  nonce: true,
}

const SUBJECT = '104518326457829012345'

/**
 * Google token shapes: header `{ alg, kid, typ: 'JWT' }`, RS256, 3,600 s. Google's own OAuth
 * access tokens are opaque (not JWTs), so what an API verifies locally is a Google-signed ID
 * token: `accessToken` is the service-to-service one, `idToken` a user sign-in one.
 */
export const google = {
  /**
   * The Google-signed ID token a workload presents to another service (Cloud Run, Cloud
   * Functions, IAP-style): `aud` (the receiving service's URL), `azp` (the service account's
   * numeric ID, like `sub`), `email`, `email_verified: true`, `exp`, `iat`, `iss`, `sub`.
   */
  accessToken(options: GoogleServiceTokenOptions = {}): TokenShape {
    const { iat, exp } = begin(options, SERVICE_OPTIONS, 'providers.google.accessToken()', 3600)
    const sub = options.subject ?? SUBJECT
    const claims = {
      aud: options.audience ?? 'https://orders-abc123xyz-ew.a.run.app',
      azp: sub,
      email: options.email ?? 'invoker@example-project.iam.gserviceaccount.com',
      email_verified: true,
      exp,
      iat,
      iss: options.issuer ?? 'https://accounts.google.com',
      sub,
    }
    return finish('google', 'access', { typ: 'JWT' }, claims, options)
  },

  /**
   * A Google sign-in ID token for a web client (to be refused by an API): `iss`, `azp`, `aud`
   * (the OAuth client ID), `sub`, `hd`, `email`, `email_verified`, `at_hash`, `nonce` (if
   * given), `name`, `picture`, `given_name`, `family_name`, `iat`, `exp`.
   */
  idToken(options: GoogleIdTokenOptions = {}): TokenShape {
    const { iat, exp } = begin(options, ID_OPTIONS, 'providers.google.idToken()', 3600)
    const clientId =
      options.clientId ?? '123456789012-abcdefghijklmnopqrstuvwxyz012345.apps.googleusercontent.com'
    const hd = options.hostedDomain === undefined ? 'example.com' : options.hostedDomain
    const claims = {
      iss: options.issuer ?? 'https://accounts.google.com',
      azp: clientId,
      aud: clientId,
      sub: options.subject ?? SUBJECT,
      ...when(hd !== null, { hd }),
      email: options.email ?? 'jane.doe@example.com',
      email_verified: true,
      at_hash: halfHash(randomToken(32)),
      ...when(options.nonce !== undefined, { nonce: options.nonce }),
      name: 'Jane Doe',
      picture: 'https://lh3.googleusercontent.com/a/ACg8ocJ0example0picture0id=s96-c',
      given_name: 'Jane',
      family_name: 'Doe',
      iat,
      exp,
    }
    return finish('google', 'id', { typ: 'JWT' }, claims, options)
  },
}
