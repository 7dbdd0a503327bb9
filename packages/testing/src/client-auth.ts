import { createHash, timingSafeEqual } from 'node:crypto'
import type { TestClient, TokenEndpointAuthMethod } from './clients.js'
import { quote, sanitize, TokenRequestError } from './token-errors.js'

/** The parameters of a token request: every non-empty value of each name, in order. */
export type FormParams = ReadonlyMap<string, readonly string[]>

/** The value of a parameter that may appear at most once (checked before), if present. */
export function single(params: FormParams, name: string): string | undefined {
  return params.get(name)?.[0]
}

/** Which client made the request, and how it proved it. */
export interface AuthenticatedClient {
  readonly client: TestClient
  readonly method: TokenEndpointAuthMethod
}

const BASIC = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i

/** Appendix B decoding: `+` is a space, then percent-decoding; `undefined` when malformed. */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replaceAll('+', ' '))
  } catch {
    return undefined
  }
}

function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value).digest()
  return timingSafeEqual(digest(given), digest(expected))
}

/**
 * Authenticates the client of a token request by `client_secret_basic` (the `Authorization`
 * header) or `client_secret_post` (`client_id` and `client_secret` in the body), RFC 6749 §2.3.1.
 *
 * A failure is `invalid_client`: 401 with a `Basic` challenge when the `Authorization` header was
 * used or no credentials were sent at all (so clients that wait for a challenge before sending
 * Basic credentials work), 400 when the body's credentials were wrong.
 *
 * @throws TokenRequestError
 */
export function authenticateClient(
  authorization: string | undefined,
  params: FormParams,
  clients: ReadonlyMap<string, TestClient>,
  realm: string,
): AuthenticatedClient {
  const challenge = { 'www-authenticate': `Basic realm="${sanitize(realm)}"` }
  const refuse = (description: string, status: 400 | 401): never => {
    throw new TokenRequestError(
      'invalid_client',
      description,
      status,
      status === 401 ? challenge : {},
    )
  }
  const verify = (
    clientId: string,
    secret: string,
    method: TokenEndpointAuthMethod,
  ): AuthenticatedClient => {
    const status = method === 'client_secret_basic' ? 401 : 400
    const client = clients.get(clientId)
    if (client === undefined) return refuse(`unknown client ${quote(clientId)}`, status)
    if (!sameSecret(secret, client.clientSecret)) {
      return refuse(`wrong secret for client ${quote(clientId)}`, status)
    }
    const only = client.tokenEndpointAuthMethod
    if (only !== undefined && only !== method) {
      return refuse(`client ${quote(clientId)} must authenticate with ${only}`, status)
    }
    return { client, method }
  }

  const bodyId = single(params, 'client_id')
  const bodySecret = single(params, 'client_secret')
  if (authorization !== undefined) {
    if (bodySecret !== undefined) {
      throw new TokenRequestError(
        'invalid_request',
        'the client used both client_secret_basic and client_secret_post; use one (RFC 6749 section 2.3)',
      )
    }
    const match = BASIC.exec(authorization)
    if (match === null) {
      return refuse('the Authorization header must carry Basic credentials', 401)
    }
    const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    const clientId = colon < 0 ? undefined : formDecode(decoded.slice(0, colon))
    const secret = colon < 0 ? undefined : formDecode(decoded.slice(colon + 1))
    if (clientId === undefined || secret === undefined) {
      return refuse(
        'malformed Basic credentials: expected base64 of id:secret, each form-urlencoded (RFC 6749 section 2.3.1)',
        401,
      )
    }
    if (bodyId !== undefined && bodyId !== clientId) {
      throw new TokenRequestError(
        'invalid_request',
        'client_id in the body differs from the client of the Authorization header',
      )
    }
    return verify(clientId, secret, 'client_secret_basic')
  }
  if (bodySecret !== undefined) {
    if (bodyId === undefined) {
      throw new TokenRequestError('invalid_request', 'client_secret was sent without client_id')
    }
    return verify(bodyId, bodySecret, 'client_secret_post')
  }
  return refuse(
    bodyId === undefined
      ? 'no client authentication: use client_secret_basic or client_secret_post'
      : `client ${quote(bodyId)} sent no secret: the client_credentials grant needs a confidential client (RFC 6749 section 4.4)`,
    401,
  )
}
