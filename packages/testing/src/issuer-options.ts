import { assertTestAlgorithm } from './algorithms.js'
import type { TestAlgorithm } from './algorithms.js'
import { createClient } from './clients.js'
import type { TestClient, TestClientOptions } from './clients.js'
import { checkJwkMembers } from './keys.js'
import { assertKnownKeys } from './option-keys.js'

/** Options of {@link createTestIssuer}. All are optional. */
export interface TestIssuerOptions {
  /**
   * Algorithm of the first key and the default of `rotate` and `generateKey`. Default `'RS256'`.
   */
  readonly algorithm?: TestAlgorithm
  /**
   * Issuer path: `'/tenant-a'` gives the issuer `http://127.0.0.1:PORT/tenant-a`. Must start with
   * `/` and not end with `/`. Default `''` (the issuer is `http://127.0.0.1:PORT`, no trailing
   * slash).
   */
  readonly path?: string
  /**
   * The issuer identifier, when it is not the server's own URL: `iss` of minted tokens (and of
   * the token endpoint's) and `issuer` of the discovery documents, e.g. a real provider's
   * `'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC'`, Auth0's
   * `'https://tenant.eu.auth0.com/'` (trailing slash included) or Microsoft's multi-tenant template
   * `'https://login.microsoftonline.com/{tenantid}/v2.0'`. Any non-empty string without white
   * space (Kubernetes' legacy `'kubernetes/serviceaccount'` is not a URL). Discovery, JWKS and
   * token endpoint are still served on 127.0.0.1 at `url + path`, and the documents' `jwks_uri`
   * and `token_endpoint` point there: configure a validator with `jwksUri: issuer.jwksUri` and
   * this issuer. Default: `url + path`.
   */
  readonly issuer?: string
  /**
   * Extra members of the first key's published JWK (see `GenerateKeyOptions.jwkMembers`), e.g.
   * `{ issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0' }` as in Microsoft Entra ID's
   * multi-tenant key set. Later keys take theirs from `rotate` or `generateKey`. Default: none.
   */
  readonly jwkMembers?: Readonly<Record<string, unknown>>
  /**
   * Which discovery documents are served: OpenID Connect
   * (`url + path + '/.well-known/openid-configuration'`), RFC 8414 OAuth
   * (`url + '/.well-known/oauth-authorization-server' + path`), both or none. Default `'both'`.
   */
  readonly discovery?: 'openid' | 'oauth' | 'both' | 'none'
  /** `aud` of minted tokens. Default `'https://api.example.com'`. */
  readonly audience?: string | readonly string[]
  /** Lifetime of minted tokens (`exp - iat`), in seconds. Default `300`. */
  readonly tokenLifetime?: number
  /** TCP port, always on 127.0.0.1. Default `0` (a free port chosen by the system). */
  readonly port?: number
  /** The current time in milliseconds since the epoch, for `iat` and `exp`. Default `Date.now`. */
  readonly clock?: () => number
  /**
   * Clients of the token endpoint (`client_credentials` grant); more can be added with
   * `registerClient`. Each `clientId` must be unique. Default: none (every token request gets
   * `invalid_client` until one is registered).
   */
  readonly clients?: readonly TestClientOptions[]
  /**
   * Serve RFC 9701 signed introspection responses: the discovery documents list
   * `introspection_signing_alg_values_supported` (the active key's algorithm), and an
   * introspection request whose `Accept` names `application/token-introspection+jwt` gets a JWT
   * signed by the active key. Default `false` (plain RFC 7662 JSON only).
   */
  readonly signedIntrospection?: boolean
}

/** Every option of {@link TestIssuerOptions}; the compiler keeps it complete. */
const OPTION_NAMES: Readonly<Record<keyof TestIssuerOptions, true>> = {
  algorithm: true,
  path: true,
  issuer: true,
  jwkMembers: true,
  discovery: true,
  audience: true,
  tokenLifetime: true,
  port: true,
  clock: true,
  clients: true,
  signedIntrospection: true,
}

/** Options after defaults and checks. */
export interface ResolvedIssuerOptions {
  readonly algorithm: TestAlgorithm
  readonly path: string
  /** `undefined`: the issuer is `url + path`. */
  readonly issuer: string | undefined
  readonly jwkMembers: Readonly<Record<string, unknown>> | undefined
  readonly discovery: 'openid' | 'oauth' | 'both' | 'none'
  readonly audience: string | readonly string[]
  readonly tokenLifetime: number
  readonly port: number
  readonly clock: () => number
  readonly clients: readonly TestClient[]
  readonly signedIntrospection: boolean
}

function optionError(message: string): never {
  throw new TypeError(`createTestIssuer(): ${message}`)
}

/** Adds `client` to `clients`, refusing a second client with the same id. */
export function addClient(
  clients: Map<string, TestClient>,
  client: TestClient,
  where: string,
): void {
  if (clients.has(client.clientId)) {
    throw new TypeError(`${where}: a client "${client.clientId}" is already registered`)
  }
  clients.set(client.clientId, client)
}

/** Checks the options of `createTestIssuer` (throwing a `TypeError`) and applies the defaults. */
export function resolveIssuerOptions(options: TestIssuerOptions): ResolvedIssuerOptions {
  if (typeof options !== 'object' || (options as unknown) === null) {
    optionError('options must be an object')
  }
  assertKnownKeys(options, OPTION_NAMES, 'createTestIssuer()')
  const algorithm = options.algorithm ?? 'RS256'
  assertTestAlgorithm('createTestIssuer(): algorithm', algorithm)
  const path = options.path ?? ''
  if (typeof path !== 'string' || (path !== '' && (!path.startsWith('/') || path.endsWith('/')))) {
    optionError('path must be "" or start with "/" and not end with "/"')
  }
  if (/[?#\s]/.test(path)) optionError('path must not contain "?", "#" or white space')
  const { issuer } = options
  if (issuer !== undefined && (typeof issuer !== 'string' || !/^\S+$/.test(issuer))) {
    optionError('issuer must be a non-empty string without white space')
  }
  const jwkMembers =
    options.jwkMembers === undefined
      ? undefined
      : checkJwkMembers(options.jwkMembers, 'createTestIssuer()')
  const discovery = options.discovery ?? 'both'
  if (!['openid', 'oauth', 'both', 'none'].includes(discovery)) {
    optionError('discovery must be "openid", "oauth", "both" or "none"')
  }
  const audience = options.audience ?? 'https://api.example.com'
  const audiences: readonly unknown[] = typeof audience === 'string' ? [audience] : audience
  if (
    !Array.isArray(audiences) ||
    audiences.length === 0 ||
    audiences.some((entry) => typeof entry !== 'string' || entry === '')
  ) {
    optionError('audience must be a non-empty string or an array of them')
  }
  const tokenLifetime = options.tokenLifetime ?? 300
  if (typeof tokenLifetime !== 'number' || !Number.isFinite(tokenLifetime)) {
    optionError('tokenLifetime must be a finite number of seconds')
  }
  const port = options.port ?? 0
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    optionError('port must be an integer from 0 to 65535')
  }
  const clock = options.clock ?? Date.now
  if (typeof clock !== 'function') optionError('clock must be a function returning milliseconds')
  const clientOptions: unknown = options.clients ?? []
  if (!Array.isArray(clientOptions)) optionError('clients must be an array of client options')
  const clients = new Map<string, TestClient>()
  for (const [index, entry] of (clientOptions as readonly TestClientOptions[]).entries()) {
    const where = `createTestIssuer(): clients[${index}]`
    addClient(clients, createClient(entry, audience, where), where)
  }
  const signedIntrospection = options.signedIntrospection ?? false
  if (typeof signedIntrospection !== 'boolean') optionError('signedIntrospection must be a boolean')
  return {
    signedIntrospection,
    algorithm,
    path,
    issuer,
    jwkMembers,
    discovery,
    audience,
    tokenLifetime,
    port,
    clock,
    clients: [...clients.values()],
  }
}
