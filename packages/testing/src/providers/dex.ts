// Source: dexidp/dex server/oauth2.go (newIDToken, newAccessToken); Dex docs "Custom claims".
import { begin, finish, halfHash, randomToken, SHAPE_OPTION_NAMES, when } from './shape.js'
import type { ShapeOptions, TokenShape } from './shape.js'

/** Options of the Dex builders. */
export interface DexOptions extends ShapeOptions {
  /** `iss`, the `issuer` of Dex's configuration. Default `'https://dex.example.com'`. */
  readonly issuer?: string
  /** The client that signed the user in: `aud`. Default `'orders-app'`. */
  readonly clientId?: string
  /**
   * More audiences (Dex's cross-client `audience:server:client_id:<id>` scope): `aud` becomes
   * these plus `clientId`, and `azp` is `clientId`. Default: none.
   */
  readonly peers?: readonly string[]
  /** The user's ID at the upstream provider (`federated_claims.user_id`). Default `'2342749'`. */
  readonly userId?: string
  /** The connector that authenticated the user. Default `'github'`. */
  readonly connectorId?: string
  /** `email`. Default `'jane.doe@example.com'`. */
  readonly email?: string
  /** `groups` (scope `groups`). Default `['orders-admins', 'developers']`. */
  readonly groups?: readonly string[]
  /** `nonce`; absent unless given. */
  readonly nonce?: string
}

const OPTIONS: Readonly<Record<keyof DexOptions, true>> = {
  ...SHAPE_OPTION_NAMES,
  issuer: true,
  clientId: true,
  peers: true,
  userId: true,
  connectorId: true,
  email: true,
  groups: true,
  nonce: true,
}

/** The protobuf varint of a length (Dex's IDTokenSubject fields are short). */
function varint(value: number): number[] {
  const bytes: number[] = []
  let rest = value
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80)
    rest >>>= 7
  }
  bytes.push(rest)
  return bytes
}

/** Dex's `sub`: base64url (no padding) of the protobuf `{ 1: user_id, 2: conn_id }`. */
function dexSubject(userId: string, connectorId: string): string {
  const field = (tag: number, value: string): number[] => {
    const bytes = [...Buffer.from(value, 'utf8')]
    return [tag, ...varint(bytes.length), ...bytes]
  }
  return Buffer.from([...field(0x0a, userId), ...field(0x12, connectorId)]).toString('base64url')
}

function build(kind: TokenShape['kind'], options: DexOptions, where: string): TokenShape {
  const { iat, exp } = begin(options, OPTIONS, where, 86_400)
  const clientId = options.clientId ?? 'orders-app'
  const userId = options.userId ?? '2342749'
  const connectorId = options.connectorId ?? 'github'
  const peers = options.peers ?? []
  const email = options.email ?? 'jane.doe@example.com'
  const claims = {
    iss: options.issuer ?? 'https://dex.example.com',
    sub: dexSubject(userId, connectorId),
    aud: peers.length === 0 ? clientId : [...new Set([...peers, clientId])],
    exp,
    iat,
    ...when(peers.length > 0, { azp: clientId }),
    ...when(options.nonce !== undefined, { nonce: options.nonce }),
    at_hash: halfHash(randomToken(32)),
    email,
    email_verified: true,
    groups: [...(options.groups ?? ['orders-admins', 'developers'])],
    name: 'Jane Doe',
    preferred_username: email.split('@')[0],
    federated_claims: { connector_id: connectorId, user_id: userId },
  }
  return finish('dex', kind, {}, claims, options)
}

/**
 * Dex token shapes: header `{ alg, kid }`, RS256, 86,400 s. Dex issues ID tokens; its access
 * tokens are JWTs built by the same code with the same claims (including an `at_hash`), so the
 * two cannot be told apart by their shape: only `kind` differs here.
 */
export const dex = {
  /**
   * A Dex access token: the same claims as `idToken` (Dex builds both alike).
   */
  accessToken(options: DexOptions = {}): TokenShape {
    return build('access', options, 'providers.dex.accessToken()')
  },

  /**
   * A Dex ID token: `iss`, `sub` (the encoded user and connector IDs), `aud` (the client ID, or
   * an array with the cross-client peers), `exp`, `iat`, `azp` (with peers), `nonce` (if given),
   * `at_hash`, `email`, `email_verified`, `groups`, `name`, `preferred_username`,
   * `federated_claims: { connector_id, user_id }`.
   */
  idToken(options: DexOptions = {}): TokenShape {
    return build('id', options, 'providers.dex.idToken()')
  },
}
