import { createHash, timingSafeEqual } from 'node:crypto'
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose'
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

/** What client authentication needs from its issuer and endpoint. */
export interface ClientAuthContext {
  /** The registered clients, by `clientId` (live). */
  readonly clients: ReadonlyMap<string, TestClient>
  /** The `realm` of `Basic` challenges: the issuer identifier. */
  readonly realm: string
  /**
   * The `aud` values a client assertion may carry (RFC 7523 §3 item 3): the issuer identifier and
   * the endpoint's URL.
   */
  readonly assertionAudiences: readonly string[]
  /** Assertions seen (client id and `jti`), with their expiry in milliseconds: each is used once. */
  readonly seenAssertions: Map<string, number>
  /** Milliseconds since the epoch. */
  readonly clock: () => number
}

/** RFC 7523 §2.2: the `client_assertion_type` of a JWT client assertion. */
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

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
 * Authenticates the client of a token or introspection request by `client_secret_basic` (the
 * `Authorization` header) or `client_secret_post` (`client_id` and `client_secret` in the body),
 * RFC 6749 §2.3.1, or by `private_key_jwt` (a JWT signed by one of the client's registered keys,
 * RFC 7523 §2.2 and §3).
 *
 * A failure is `invalid_client`: 401 with a `Basic` challenge when the `Authorization` header was
 * used or no credentials were sent at all (so clients that wait for a challenge before sending
 * Basic credentials work), 400 when the body's credentials were wrong.
 *
 * @throws TokenRequestError
 */
export async function authenticateClient(
  authorization: string | undefined,
  params: FormParams,
  context: ClientAuthContext,
): Promise<AuthenticatedClient> {
  const { clients, realm } = context
  const challenge = { 'www-authenticate': `Basic realm="${sanitize(realm)}"` }
  const refuse = (description: string, status: 400 | 401): never => {
    throw new TokenRequestError(
      'invalid_client',
      description,
      status,
      status === 401 ? challenge : {},
    )
  }
  const allowed = (client: TestClient, method: TokenEndpointAuthMethod, status: 400 | 401) => {
    const only = client.tokenEndpointAuthMethod
    if (only !== undefined && only !== method) {
      refuse(`client ${quote(client.clientId)} must authenticate with ${only}`, status)
    }
    return { client, method }
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
    return allowed(client, method, status)
  }

  const bodyId = single(params, 'client_id')
  const bodySecret = single(params, 'client_secret')
  const assertionType = single(params, 'client_assertion_type')
  const assertion = single(params, 'client_assertion')
  const methods = [authorization, bodySecret, assertion ?? assertionType].filter(
    (value) => value !== undefined,
  )
  if (methods.length > 1) {
    throw new TokenRequestError(
      'invalid_request',
      'the client used more than one authentication method; use one (RFC 6749 section 2.3)',
    )
  }
  if (authorization !== undefined) {
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
  if (assertion !== undefined || assertionType !== undefined) {
    return await verifyAssertion(assertionType, assertion, bodyId, context, refuse, allowed)
  }
  return refuse(
    bodyId === undefined
      ? 'no client authentication: use client_secret_basic, client_secret_post or private_key_jwt'
      : `client ${quote(bodyId)} sent no secret: the client_credentials grant needs a confidential client (RFC 6749 section 4.4)`,
    401,
  )
}

/**
 * RFC 7523 §2.2 and §3: the assertion is a JWT whose `iss` and `sub` are the client, whose `aud`
 * names this server, with an `exp` in the future and a `jti` never seen before, signed by one of
 * the client's registered public keys.
 */
async function verifyAssertion(
  type: string | undefined,
  assertion: string | undefined,
  bodyId: string | undefined,
  context: ClientAuthContext,
  refuse: (description: string, status: 400 | 401) => never,
  allowed: (
    client: TestClient,
    method: TokenEndpointAuthMethod,
    status: 400 | 401,
  ) => AuthenticatedClient,
): Promise<AuthenticatedClient> {
  if (type !== JWT_BEARER_ASSERTION) {
    return refuse(
      `client_assertion_type must be ${JWT_BEARER_ASSERTION} (RFC 7523 section 2.2)`,
      400,
    )
  }
  if (assertion === undefined) return refuse('client_assertion is missing', 400)
  let claimed: Record<string, unknown>
  try {
    claimed = decodeJwt(assertion)
  } catch {
    return refuse('client_assertion is not a JWT', 400)
  }
  const clientId = claimed.sub
  if (typeof clientId !== 'string' || claimed.iss !== clientId) {
    return refuse(
      'client_assertion: iss and sub must both be the client_id (RFC 7523 section 3)',
      400,
    )
  }
  if (bodyId !== undefined && bodyId !== clientId) {
    throw new TokenRequestError('invalid_request', 'client_id differs from the client assertion')
  }
  const client = context.clients.get(clientId)
  if (client === undefined) return refuse(`unknown client ${quote(clientId)}`, 400)
  if (client.jwks.length === 0) {
    return refuse(`client ${quote(clientId)} has no registered keys for private_key_jwt`, 400)
  }
  const now = context.clock()
  try {
    await jwtVerify(assertion, createLocalJWKSet({ keys: [...client.jwks] }), {
      issuer: clientId,
      subject: clientId,
      audience: [...context.assertionAudiences],
      requiredClaims: ['exp', 'jti'],
      currentDate: new Date(now),
      clockTolerance: 5,
    })
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'invalid'
    return refuse(`client_assertion refused: ${sanitize(reason)}`, 400)
  }
  // RFC 7523 §3 item 7: an assertion is used once (until it expires).
  for (const [seen, until] of context.seenAssertions) {
    if (until < now) context.seenAssertions.delete(seen)
  }
  const id = JSON.stringify([clientId, claimed.jti])
  if (context.seenAssertions.has(id)) {
    return refuse('client_assertion was used before (its jti)', 400)
  }
  context.seenAssertions.set(id, (claimed.exp as number) * 1000)
  return allowed(client, 'private_key_jwt', 400)
}
