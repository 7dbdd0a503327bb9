import { authenticateClient, single } from './client-auth.js'
import type { ClientAuthContext } from './client-auth.js'
import { json, NO_STORE } from './server.js'
import type { ReceivedRequest, Reply } from './server.js'
import { checkFormRequest } from './token-endpoint.js'
import { TokenRequestError } from './token-errors.js'

/** RFC 9701 §4: the media type of a JWT introspection response, and of the `Accept` asking for one. */
export const JWT_RESPONSE_TYPE = 'application/token-introspection+jwt'

/** What the introspection endpoint needs from its issuer. */
export interface IntrospectionContext {
  /** How clients authenticate here (RFC 7662 §2.1: the endpoint requires it). */
  readonly clientAuth: ClientAuthContext
  /** Milliseconds since the epoch. */
  readonly clock: () => number
  /** The claims of a token this issuer issued and still knows (opaque, or a JWT it signed). */
  readonly lookUp: (token: string) => Promise<Readonly<Record<string, unknown>> | undefined>
  /** True for a token revoked with `TestIssuer.revoke`. */
  readonly isRevoked: (token: string) => boolean
  /**
   * RFC 9701: signs `payload` as a JWT response (`typ: token-introspection+jwt`), when the issuer
   * serves signed responses; `undefined` when it does not.
   */
  readonly signResponse: ((payload: Record<string, unknown>) => Promise<string>) | undefined
  /** The issuer identifier: `iss` of signed responses. */
  readonly issuer: () => string
}

const SINGLE_VALUED = [
  'token',
  'token_type_hint',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
]

/** RFC 7662 §2.2: active while not revoked, after `nbf` and before `exp` (seconds). */
function isActive(claims: Readonly<Record<string, unknown>>, now: number): boolean {
  const { exp, nbf } = claims
  if (typeof exp === 'number' && exp * 1000 <= now) return false
  if (typeof nbf === 'number' && nbf * 1000 > now) return false
  return true
}

/** True when the `Accept` header names the RFC 9701 media type (RFC 9110 §12.5.1, no q=0). */
function asksForJwt(accept: string | undefined): boolean {
  if (accept === undefined) return false
  return accept.split(',').some((range) => {
    const [type, ...parameters] = range.split(';').map((part) => part.trim().toLowerCase())
    return type === JWT_RESPONSE_TYPE && !parameters.some((p) => /^q=0(\.0*)?$/.test(p))
  })
}

async function introspect(context: IntrospectionContext, request: ReceivedRequest): Promise<Reply> {
  const params = checkFormRequest(
    request,
    {
      endpoint: 'introspection endpoint',
      post: 'RFC 7662 section 2.1',
      form: 'RFC 7662 section 2.1',
    },
    SINGLE_VALUED,
  )
  let clientId: string
  try {
    ;({
      client: { clientId },
    } = await authenticateClient(request.headers.authorization, params, context.clientAuth))
  } catch (error) {
    // RFC 7662 §2.3: invalid client credentials are 401, whichever method carried them.
    if (error instanceof TokenRequestError && error.code === 'invalid_client') {
      const realm = context.clientAuth.realm.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '?')
      throw new TokenRequestError('invalid_client', error.description, 401, {
        'www-authenticate': `Basic realm="${realm}"`,
      })
    }
    throw error
  }
  const token = single(params, 'token')
  if (token === undefined) {
    throw new TokenRequestError('invalid_request', 'token is missing (RFC 7662 section 2.1)')
  }
  const now = context.clock()
  const claims = await context.lookUp(token)
  // RFC 7662 §2.2: an inactive token gets nothing but `active: false`.
  const members: Record<string, unknown> =
    claims !== undefined && !context.isRevoked(token) && isActive(claims, now)
      ? { active: true, ...claims }
      : { active: false }
  if (context.signResponse !== undefined && asksForJwt(request.headers.accept)) {
    // RFC 9701 §5: iss, aud (the resource server that asked) and iat at the top level, the
    // RFC 7662 members inside `token_introspection`.
    const signed = await context.signResponse({
      iss: context.issuer(),
      aud: clientId,
      iat: Math.floor(now / 1000),
      token_introspection: members,
    })
    return {
      status: 200,
      headers: { 'content-type': JWT_RESPONSE_TYPE, ...NO_STORE },
      body: signed,
    }
  }
  return json(200, members, { ...NO_STORE })
}

/**
 * Answers a request to the introspection endpoint (RFC 7662 §2): a POSTed form with `token` (and
 * an optional `token_type_hint`), from a client authenticated by `client_secret_basic`,
 * `client_secret_post` or `private_key_jwt`. The answer is `{ active: true, …claims }` for a token
 * this issuer issued that is neither revoked nor expired, else `{ active: false }`; an RFC 9701
 * signed JWT when the issuer serves them and the request's `Accept` asks for one.
 */
export async function handleIntrospectionRequest(
  context: IntrospectionContext,
  request: ReceivedRequest,
): Promise<Reply> {
  try {
    return await introspect(context, request)
  } catch (error) {
    if (error instanceof TokenRequestError) return error.reply()
    throw error
  }
}
