/**
 * How the resource server authenticates to the introspection endpoint (RFC 7662 §2.1: the
 * endpoint requires it, so that it cannot be used to scan for tokens): a client secret sent per
 * RFC 6749 §2.3.1, or a JWT signed with the client's private key (RFC 7523 §2.2, §3).
 */
import { constants, randomUUID, sign, type KeyObject } from 'node:crypto'
import { algorithmSpec } from '../jws/algorithms.js'

/** A client authentication method (RFC 8414 `introspection_endpoint_auth_methods_supported`). */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt'

/** The introspecting client's credentials, checked once. */
export type ClientCredentials =
  | {
      readonly method: 'client_secret_basic' | 'client_secret_post'
      readonly clientId: string
      readonly secret: string
    }
  | {
      readonly method: 'private_key_jwt'
      readonly clientId: string
      readonly key: KeyObject
      readonly alg: string
      readonly kid: string | undefined
    }

/** What authenticates one request: headers and form parameters to add. */
export interface ClientAuthentication {
  readonly headers: Readonly<Record<string, string>>
  readonly params: Readonly<Record<string, string>>
}

/** RFC 7523 §2.2: the `client_assertion_type` of a JWT client assertion. */
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
/** How long a client assertion is valid, in seconds: one request's worth. */
const ASSERTION_LIFETIME = 60

/** RFC 6749 Appendix B: a value as `application/x-www-form-urlencoded` encodes it. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2)
}

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url')
}

/** A JWS signature with node:crypto; ECDSA in the fixed-length form JWS mandates (RFC 7518 §3.4). */
function signature(alg: string, key: KeyObject, input: Buffer): Buffer {
  const spec = algorithmSpec(alg)
  switch (spec?.family) {
    case 'RSA':
      return sign(spec.hash, input, key)
    case 'PSS':
      return sign(spec.hash, input, {
        key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
      })
    case 'EC':
      return sign(spec.hash, input, { key, dsaEncoding: 'ieee-p1363' })
    case 'OKP':
      return sign(null, input, key)
    case 'HMAC':
    case undefined:
      // Refused when the options were resolved; unreachable.
      throw new TypeError(`bearer-guard: cannot sign a client assertion with ${alg}`)
  }
}

/**
 * The client assertion (RFC 7523 §3): `iss` and `sub` are the client, `aud` the authorization
 * server's issuer identifier (the value draft-ietf-oauth-rfc7523bis settles on), a fresh `jti`,
 * and a one-minute lifetime.
 */
function clientAssertion(
  credentials: Extract<ClientCredentials, { method: 'private_key_jwt' }>,
  audience: string,
  now: number,
): string {
  const iat = Math.floor(now / 1000)
  const header = {
    alg: credentials.alg,
    ...(credentials.kid === undefined ? {} : { kid: credentials.kid }),
  }
  const payload = {
    iss: credentials.clientId,
    sub: credentials.clientId,
    aud: audience,
    jti: randomUUID(),
    iat,
    exp: iat + ASSERTION_LIFETIME,
  }
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`
  return `${input}.${base64url(signature(credentials.alg, credentials.key, Buffer.from(input)))}`
}

/**
 * The headers and form parameters that authenticate the client: `client_secret_basic` puts the
 * form-encoded id and secret, base64, in `Authorization` (RFC 6749 §2.3.1); `client_secret_post`
 * puts them in the body; `private_key_jwt` a fresh assertion for `audience` (RFC 7523 §2.2).
 */
export function authenticate(
  credentials: ClientCredentials,
  audience: string,
  now: number,
): ClientAuthentication {
  switch (credentials.method) {
    case 'client_secret_basic': {
      const pair = `${formEncode(credentials.clientId)}:${formEncode(credentials.secret)}`
      return {
        headers: { authorization: `Basic ${Buffer.from(pair).toString('base64')}` },
        params: {},
      }
    }
    case 'client_secret_post':
      return {
        headers: {},
        params: { client_id: credentials.clientId, client_secret: credentials.secret },
      }
    case 'private_key_jwt':
      return {
        headers: {},
        params: {
          client_id: credentials.clientId,
          client_assertion_type: JWT_BEARER,
          client_assertion: clientAssertion(credentials, audience, now),
        },
      }
  }
}
