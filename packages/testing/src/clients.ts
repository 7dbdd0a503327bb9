import type { JWK } from 'jose'
import { assertKnownKeys } from './option-keys.js'

/**
 * A client authentication method of the token and introspection endpoints (RFC 6749 §2.3.1;
 * `private_key_jwt`: RFC 7523 §2.2, OIDC Core §9).
 */
export type TokenEndpointAuthMethod =
  'client_secret_basic' | 'client_secret_post' | 'private_key_jwt'

/**
 * A confidential client of the test issuer's token endpoint, as given to `createTestIssuer({
 * clients })` or `TestIssuer.registerClient`. The names follow the RFC 7591 client metadata.
 */
export interface TestClientOptions {
  /** The client identifier (RFC 6749 §2.2): printable ASCII (`%x20-7E`), not empty. Required. */
  readonly clientId: string
  /** The client password (RFC 6749 §2.3.1): printable ASCII (`%x20-7E`), not empty. Required. */
  readonly clientSecret: string
  /**
   * The scopes the client may be granted, space-separated (RFC 6749 §3.3 syntax); `''` allows
   * none. A request for any other scope gets `invalid_scope`. A request without `scope` is granted
   * all of these. Default: any requested scope is granted, and a request without `scope` gets a
   * token without one.
   */
  readonly scope?: string
  /**
   * `aud` of the client's tokens when the request names no `resource`: a string or an array of
   * strings. Default: the issuer's `audience`.
   */
  readonly audience?: string | readonly string[]
  /**
   * The RFC 8707 resource indicators the client may request (absolute URIs without a fragment,
   * compared exactly). Any other `resource` gets `invalid_target`; `[]` allows none. Default: the
   * client's `audience` values that are such URIs.
   */
  readonly resources?: readonly string[]
  /**
   * The grant types the client may use. Without `'client_credentials'`, its token requests get
   * `unauthorized_client` (useful to test that error). Default: `['client_credentials']`.
   */
  readonly grantTypes?: readonly string[]
  /**
   * The only authentication method accepted for this client (RFC 7591
   * `token_endpoint_auth_method`), at the token and the introspection endpoint; the others get
   * `invalid_client`. Default: every method the client can use (`private_key_jwt` needs `jwks`).
   */
  readonly tokenEndpointAuthMethod?: TokenEndpointAuthMethod
  /**
   * The client's public keys (RFC 7591 `jwks`, a JWK Set of public keys): a `private_key_jwt`
   * client assertion (RFC 7523 §2.2) must be signed by one of them. Default: none (the client
   * cannot use `private_key_jwt`).
   */
  readonly jwks?: { readonly keys: readonly JWK[] }
}

/** A registered client, with every default applied (a frozen snapshot). */
export interface TestClient {
  /** The client identifier. */
  readonly clientId: string
  /** The client password. */
  readonly clientSecret: string
  /** The scopes the client may be granted, space-separated; `undefined`: any scope. */
  readonly scope: string | undefined
  /** `aud` of its tokens when no `resource` is requested. */
  readonly audience: string | readonly string[]
  /** The resource indicators it may request. */
  readonly resources: readonly string[]
  /** The grant types it may use. */
  readonly grantTypes: readonly string[]
  /** The only authentication method accepted for it; `undefined`: every one it can use. */
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod | undefined
  /** Its public keys for `private_key_jwt`; empty when it has none. */
  readonly jwks: readonly JWK[]
}

/** Every option of {@link TestClientOptions}; the compiler keeps it complete. */
const CLIENT_OPTION_NAMES: Readonly<Record<keyof TestClientOptions, true>> = {
  clientId: true,
  clientSecret: true,
  scope: true,
  audience: true,
  resources: true,
  grantTypes: true,
  tokenEndpointAuthMethod: true,
  jwks: true,
}

const AUTH_METHODS: readonly string[] = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
]
/** JWK members that only a private key has (RFC 7518 §6.2.2, §6.3.2, RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

/** The public keys of `jwks`, checked: a JWK Set of asymmetric public keys. */
function publicKeys(jwks: unknown, fail: (message: string) => never): readonly JWK[] {
  if (jwks === undefined) return Object.freeze([])
  const keys: unknown =
    typeof jwks === 'object' && jwks !== null ? (jwks as { keys?: unknown }).keys : undefined
  if (!Array.isArray(keys) || keys.length === 0) fail('jwks must be a JWK Set: { keys: [ … ] }')
  for (const key of keys as unknown[]) {
    if (typeof key !== 'object' || key === null || Array.isArray(key))
      fail('jwks.keys must hold JWK objects')
    const jwk = key as Record<string, unknown>
    if (!['RSA', 'EC', 'OKP'].includes(String(jwk.kty)))
      fail('jwks.keys must be RSA, EC or OKP keys')
    if (PRIVATE_MEMBERS.some((name) => name in jwk)) {
      fail('jwks.keys must be public keys: a client registers no private key material')
    }
  }
  return Object.freeze((keys as JWK[]).map((key) => Object.freeze({ ...key })))
}
/** RFC 6749 Appendix A: `VSCHAR = %x20-7E`. */
const VSCHARS = /^[\x20-\x7E]+$/
/** RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/
/** RFC 3986 §4.3 absolute-URI (no fragment): a scheme, then only URI characters but `#`. */
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?[\]@!$&'()*+,;=%]*$/

/**
 * The scope tokens of a space-separated `scope` (duplicates dropped, order kept), or `undefined`
 * when a token is malformed. Runs of spaces are tolerated.
 */
export function parseScope(scope: string): readonly string[] | undefined {
  const tokens = scope.split(' ').filter((token) => token !== '')
  return tokens.every((token) => SCOPE_TOKEN.test(token)) ? [...new Set(tokens)] : undefined
}

/** Whether `value` is an RFC 8707 resource indicator: an absolute URI without a fragment. */
export function isResourceIndicator(value: string): boolean {
  return ABSOLUTE_URI.test(value) && URL.canParse(value)
}

/** Checks `options` as `where` (e.g. `registerClient()`) and returns the frozen client. */
export function createClient(
  options: TestClientOptions,
  issuerAudience: string | readonly string[],
  where: string,
): TestClient {
  const fail = (message: string): never => {
    throw new TypeError(`${where}: ${message}`)
  }
  if (typeof options !== 'object' || (options as unknown) === null) fail('expected an object')
  assertKnownKeys(options, CLIENT_OPTION_NAMES, where)
  const { clientId, clientSecret, scope } = options
  if (typeof clientId !== 'string' || !VSCHARS.test(clientId)) {
    fail('clientId must be a non-empty string of printable ASCII characters')
  }
  if (typeof clientSecret !== 'string' || !VSCHARS.test(clientSecret)) {
    fail('clientSecret must be a non-empty string of printable ASCII characters')
  }
  if (scope !== undefined && (typeof scope !== 'string' || parseScope(scope) === undefined)) {
    fail('scope must be a string of space-separated RFC 6749 scope tokens')
  }
  const audience = options.audience ?? issuerAudience
  const audiences: readonly unknown[] = typeof audience === 'string' ? [audience] : audience
  if (
    !Array.isArray(audiences) ||
    audiences.length === 0 ||
    audiences.some((entry) => typeof entry !== 'string' || entry === '')
  ) {
    fail('audience must be a non-empty string or an array of them')
  }
  const resources =
    options.resources ??
    (audiences as readonly string[]).filter((entry) => isResourceIndicator(entry))
  if (
    !Array.isArray(resources) ||
    resources.some((entry) => typeof entry !== 'string' || !isResourceIndicator(entry))
  ) {
    fail('resources must be an array of absolute URIs without a fragment (RFC 8707 §2)')
  }
  const grantTypes = options.grantTypes ?? ['client_credentials']
  if (
    !Array.isArray(grantTypes) ||
    grantTypes.some((entry) => typeof entry !== 'string' || entry === '')
  ) {
    fail('grantTypes must be an array of non-empty strings')
  }
  const method = options.tokenEndpointAuthMethod
  if (method !== undefined && !AUTH_METHODS.includes(method)) {
    fail(
      'tokenEndpointAuthMethod must be "client_secret_basic", "client_secret_post" or "private_key_jwt"',
    )
  }
  const jwks = publicKeys(options.jwks, fail)
  if (method === 'private_key_jwt' && jwks.length === 0) {
    fail('tokenEndpointAuthMethod "private_key_jwt" needs the client\'s public keys in jwks')
  }
  return Object.freeze({
    clientId,
    clientSecret,
    scope: scope === undefined ? undefined : (parseScope(scope) ?? []).join(' '),
    audience: typeof audience === 'string' ? audience : Object.freeze([...audience]),
    resources: Object.freeze([...new Set(resources)]),
    grantTypes: Object.freeze([...grantTypes]),
    tokenEndpointAuthMethod: method,
    jwks,
  })
}
