import { authenticateClient, single } from './client-auth.js'
import type { ClientAuthContext, FormParams } from './client-auth.js'
import { isResourceIndicator, parseScope } from './clients.js'
import type { TestClient } from './clients.js'
import { json, NO_STORE } from './server.js'
import type { ReceivedRequest, Reply } from './server.js'
import { quote, TokenRequestError } from './token-errors.js'

/** What the token endpoint needs from its issuer. */
export interface TokenEndpointContext {
  /** How clients authenticate here: the registered clients, the realm, assertion audiences. */
  readonly clientAuth: ClientAuthContext
  /** Seconds, as `exp - iat` of the minted tokens. */
  readonly tokenLifetime: number
  /** Mints an access token with these claims merged over the issuer's defaults. */
  readonly mint: (claims: Readonly<Record<string, unknown>>) => Promise<string>
}

/** The only grant type served. */
const CLIENT_CREDENTIALS = 'client_credentials'
/** Parameters that must not be repeated (RFC 6749 §3.2); `resource` may be (RFC 8707 §2). */
const SINGLE_VALUED = [
  'grant_type',
  'scope',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
]

/**
 * The parameters of an `application/x-www-form-urlencoded` body. Empty values are dropped:
 * "parameters sent without a value MUST be treated as if they were omitted" (RFC 6749 §3.2).
 */
export function parseForm(body: string): FormParams {
  const params = new Map<string, string[]>()
  for (const [name, value] of new URLSearchParams(body)) {
    if (value === '') continue
    const values = params.get(name)
    if (values === undefined) params.set(name, [value])
    else values.push(value)
  }
  return params
}

/**
 * A POST with a form body whose single-valued parameters appear once; `where` names the endpoint
 * and the rule in messages.
 */
export function checkFormRequest(
  request: ReceivedRequest,
  where: { readonly endpoint: string; readonly post: string; readonly form: string },
  singleValued: readonly string[] = SINGLE_VALUED,
): FormParams {
  if (request.method !== 'POST') {
    throw new TokenRequestError(
      'invalid_request',
      `the ${where.endpoint} accepts only POST (${where.post})`,
      405,
      { allow: 'POST' },
    )
  }
  const mediaType = (request.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase()
  if (mediaType !== 'application/x-www-form-urlencoded') {
    throw new TokenRequestError(
      'invalid_request',
      `the body must be application/x-www-form-urlencoded (${where.form})`,
    )
  }
  const params = parseForm(request.body)
  for (const name of singleValued) {
    if ((params.get(name)?.length ?? 0) > 1) {
      throw new TokenRequestError(
        'invalid_request',
        `parameter ${quote(name)} is repeated (RFC 6749 section 3.2)`,
      )
    }
  }
  return params
}

/** The scopes granted: those requested, all allowed ones if none are, or none if unrestricted. */
function grantScopes(client: TestClient, requested: string | undefined): readonly string[] {
  const allowed = client.scope === undefined ? undefined : (parseScope(client.scope) ?? [])
  if (requested === undefined) return allowed ?? []
  const scopes = parseScope(requested)
  if (scopes === undefined) {
    throw new TokenRequestError('invalid_scope', 'malformed scope (RFC 6749 section 3.3)')
  }
  const refused = scopes.find((scope) => allowed !== undefined && !allowed.includes(scope))
  if (refused !== undefined) {
    throw new TokenRequestError(
      'invalid_scope',
      `scope ${quote(refused)} is not allowed for client ${quote(client.clientId)}`,
    )
  }
  return scopes
}

/** `aud` of the token: the requested resources (RFC 8707), or the client's default audience. */
function audienceOf(client: TestClient, requested: readonly string[]): string | string[] {
  if (requested.length === 0) {
    return typeof client.audience === 'string' ? client.audience : [...client.audience]
  }
  for (const resource of requested) {
    if (!isResourceIndicator(resource)) {
      throw new TokenRequestError(
        'invalid_target',
        `resource ${quote(resource)} is not an absolute URI without a fragment (RFC 8707 section 2)`,
      )
    }
    if (!client.resources.includes(resource)) {
      throw new TokenRequestError(
        'invalid_target',
        `resource ${quote(resource)} is not allowed for client ${quote(client.clientId)}`,
      )
    }
  }
  const resources = [...new Set(requested)]
  return resources.length === 1 ? (resources[0] as string) : resources
}

async function issue(context: TokenEndpointContext, request: ReceivedRequest): Promise<Reply> {
  const params = checkFormRequest(request, {
    endpoint: 'token endpoint',
    post: 'RFC 6749 section 3.2',
    form: 'RFC 6749 section 4.4.2',
  })
  const { authorization } = request.headers
  const { client } = await authenticateClient(authorization, params, context.clientAuth)

  const grantType = single(params, 'grant_type')
  if (grantType === undefined) {
    throw new TokenRequestError('invalid_request', 'grant_type is missing')
  }
  if (grantType !== CLIENT_CREDENTIALS) {
    throw new TokenRequestError(
      'unsupported_grant_type',
      `grant_type ${quote(grantType)} is not supported; this issuer serves client_credentials`,
    )
  }
  if (!client.grantTypes.includes(CLIENT_CREDENTIALS)) {
    throw new TokenRequestError(
      'unauthorized_client',
      `client ${quote(client.clientId)} may not use the client_credentials grant`,
    )
  }
  const scopes = grantScopes(client, single(params, 'scope'))
  const aud = audienceOf(client, params.get('resource') ?? [])

  const scope = scopes.length === 0 ? undefined : scopes.join(' ')
  // RFC 9068 §2.2: with no resource owner, `sub` identifies the client.
  const accessToken = await context.mint({
    sub: client.clientId,
    client_id: client.clientId,
    aud,
    scope,
  })
  const body: Record<string, unknown> = {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: Math.max(0, Math.floor(context.tokenLifetime)),
  }
  if (scope !== undefined) body.scope = scope
  return json(200, body, { ...NO_STORE })
}

/**
 * Answers a request to the token endpoint: the `client_credentials` grant (RFC 6749 §4.4) with
 * `client_secret_basic`, `client_secret_post` or `private_key_jwt` (RFC 7523 §2.2), `scope` and
 * RFC 8707 `resource`; a §5.1 token
 * response or a §5.2 error response, both with `Cache-Control: no-store` and `Pragma: no-cache`.
 */
export async function handleTokenRequest(
  context: TokenEndpointContext,
  request: ReceivedRequest,
): Promise<Reply> {
  try {
    return await issue(context, request)
  } catch (error) {
    if (error instanceof TokenRequestError) return error.reply()
    throw error
  }
}
