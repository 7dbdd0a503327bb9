import type { KeyObject } from 'node:crypto'
import { algorithmSpec, verifySignature, type AlgorithmSpec } from './algorithms.js'
import { checkClaims, readScopes } from './claims.js'
import { verifyChannel, type VerifyEvent } from './diagnostics.js'
import { InvalidTokenError, isBearerGuardError } from './errors.js'
import { checkSyntax, extractToken } from './extract.js'
import { decodeJws, type DecodedJws } from './jws.js'
import { RemoteKeySet, type KeySetFailure } from './key-set.js'
import { resolveOptions, type AccessTokenValidatorOptions } from './options.js'
import { createResult } from './result.js'
import { TokenCache, type ValidityWindow } from './token-cache.js'
import type { AccessTokenClaims, AccessTokenHeader, VerifiedAccessToken } from './types.js'

/**
 * What a request carries that may hold a bearer token (RFC 6750 §2). Adapters fill it from their
 * framework's request; only `authorization` is read unless the validator enables the others.
 */
export interface BearerRequest {
  /** The `Authorization` header value (an array if the framework kept several). */
  readonly authorization?: string | readonly string[] | undefined
  /** The parsed URL query; its `access_token` is read only with `allowQuery`. */
  readonly query?: unknown
  /**
   * The parsed request body; its `access_token` is read only with `allowFormBody`, when
   * `contentType` is `application/x-www-form-urlencoded` and the method is not `GET`.
   */
  readonly body?: unknown
  /** The `Content-Type` header value. */
  readonly contentType?: string | undefined
  /** The HTTP method. */
  readonly method?: string | undefined
}

/**
 * Receives the outcome of {@link AccessTokenValidator.verifyRequest} in callback form: an error
 * (first argument, anything `verifyRequest` rejects with) or the verified token.
 */
export type VerifyCallback = (error: unknown, auth: VerifiedAccessToken | undefined) => void

/** A configured validator. Create one per issuer and API, at start-up, and share it. */
export interface AccessTokenValidator {
  /**
   * Verifies a compact JWT access token: signature with the issuer's keys, `alg`, `typ`, `iss`,
   * `aud`, `exp`, `nbf` and the other configured checks.
   *
   * @throws {@link InvalidTokenError} (401) when the token is bad in any way.
   * @throws {@link KeySetUnavailableError} (503) when no keys can be obtained.
   */
  verify(token: string): Promise<VerifiedAccessToken>
  /**
   * Finds the bearer token in a request (RFC 6750 §2) and verifies it.
   *
   * @throws {@link MissingCredentialsError} (401, no `error`) when no bearer token was sent.
   * @throws {@link InvalidRequestError} (400) for a malformed header or more than one method.
   * @throws Everything {@link AccessTokenValidator.verify} throws.
   */
  verifyRequest(request: BearerRequest): Promise<VerifiedAccessToken>
  /**
   * {@link AccessTokenValidator.verifyRequest} in callback form, for framework adapters: saves the
   * promise and the microtask per request. `callback` is called exactly once — **synchronously**,
   * before this returns, whenever the answer is known without waiting (a cached token, a token
   * verified with keys already loaded, a refused request), and later only while keys are being
   * fetched. It receives the same errors the promise form rejects with. A `callback` that throws
   * is a bug: on the synchronous path the throw propagates to the caller, on the later path it
   * becomes an unhandled rejection.
   */
  verifyRequest(request: BearerRequest, callback: VerifyCallback): void
  /**
   * Loads discovery and keys now instead of on the first request, e.g. for a readiness probe.
   * Rejects with {@link KeySetUnavailableError} when they cannot be obtained; the validator stays
   * usable and tries again on the next request.
   */
  ready(): Promise<void>
  /** The realm used in this validator's challenges. */
  readonly realm: string
  /**
   * Whether tokens are read from form bodies (`allowFormBody`): an adapter that verifies before
   * the body is parsed must then verify later.
   */
  readonly allowFormBody: boolean
}

/**
 * Where a validator keeps the listeners of `onKeySetFailure` (adapter subpath). A global symbol, so
 * an adapter and an application with two installed copies of core still meet.
 * @internal
 */
export const KEYSET_FAILURE_LISTENERS = Symbol.for('bearer-guard.keyset-failure-listeners')

/** `typ` values of access tokens (RFC 9068 §2.1), compared case-insensitively. */
const ACCESS_TOKEN_TYPES = new Set(['at+jwt', 'application/at+jwt', 'jwt', 'application/jwt'])
const STRICT_TYPES = new Set(['at+jwt', 'application/at+jwt'])

/**
 * Creates a validator for the access tokens of one issuer and API. Options are checked here,
 * once; nothing is fetched until the first token (or {@link AccessTokenValidator.ready}), so the
 * process starts even when the authorization server is down.
 *
 * @throws `TypeError` for a missing issuer or audience, an insecure URL, or any invalid option.
 *
 * @example
 * ```ts
 * const validator = createAccessTokenValidator({
 *   issuer: 'https://auth.example.com/',
 *   audience: 'https://api.example.com',
 * })
 * const auth = await validator.verify(token)
 * auth.claims.sub // verified subject
 * auth.scopes.has('orders:read')
 * ```
 */
export function createAccessTokenValidator(
  options: AccessTokenValidatorOptions,
): AccessTokenValidator {
  const o = resolveOptions(options)
  const { realm, clock } = o
  const failureListeners = new Set<(failure: KeySetFailure) => void>()
  const keySet =
    o.secret === undefined
      ? new RemoteKeySet({
          issuer: o.issuer,
          jwksUri: o.jwksUri,
          limits: { fetch: o.fetch, timeout: o.fetchTimeout, maxBytes: o.maxResponseSize },
          allowInsecureHttp: o.allowInsecureHttp,
          maxAge: o.keySetMaxAge * 1000,
          minAge: Math.min(o.keySetMinAge, o.keySetMaxAge) * 1000,
          staleIfError: o.staleIfError * 1000,
          unknownKeyCooldown: o.unknownKeyCooldown * 1000,
          retryAfter: o.retryAfter * 1000,
          realm,
          clock,
          onFailure: (failure) => {
            for (const listener of failureListeners) listener(failure)
          },
        })
      : undefined
  const secretKeys: readonly KeyObject[] = o.secret === undefined ? [] : [o.secret]
  const cache = o.tokenCacheSize > 0 ? new TokenCache(o.tokenCacheSize) : undefined

  function invalid(code: ConstructorParameters<typeof InvalidTokenError>[0], text: string) {
    return new InvalidTokenError(code, text, { realm })
  }

  /** Everything that can be checked before a key is needed. */
  function decode(token: string): {
    jws: DecodedJws
    spec: AlgorithmSpec
    kid: string | undefined
  } {
    if (typeof token !== 'string' || token === '') {
      throw invalid('ERR_TOKEN_MALFORMED', 'The access token is missing')
    }
    if (token.length > o.maxTokenLength) {
      throw invalid('ERR_TOKEN_TOO_LARGE', 'The access token is larger than accepted')
    }
    const jws = decodeJws(token, realm)
    const { alg, kid, typ, crit, b64 } = jws.header
    const spec = typeof alg === 'string' && o.algorithms.has(alg) ? algorithmSpec(alg) : undefined
    if (spec === undefined) {
      throw invalid(
        'ERR_TOKEN_ALG_NOT_ALLOWED',
        'The access token is signed with an algorithm that is not accepted',
      )
    }
    if (jws.signature.length === 0) {
      throw invalid('ERR_TOKEN_MALFORMED', 'The access token is not a signed JWT')
    }
    if (crit !== undefined) {
      throw invalid(
        'ERR_TOKEN_CRIT_UNSUPPORTED',
        'The access token has critical header parameters that are not supported',
      )
    }
    if (b64 !== undefined && b64 !== true) {
      throw invalid('ERR_TOKEN_MALFORMED', 'Unencoded-payload tokens are not accepted')
    }
    if (kid !== undefined && typeof kid !== 'string') {
      throw invalid('ERR_TOKEN_MALFORMED', "The 'kid' header parameter is not a string")
    }
    if (typ !== undefined) {
      const allowed = o.strict ? STRICT_TYPES : ACCESS_TOKEN_TYPES
      if (typeof typ !== 'string' || !allowed.has(typ.toLowerCase())) {
        throw invalid('ERR_TOKEN_TYPE_INVALID', 'The token is not an access token (typ)')
      }
    } else if (o.strict) {
      throw invalid(
        'ERR_TOKEN_TYPE_INVALID',
        'The token is not an RFC 9068 access token (typ at+jwt required)',
      )
    }
    return { jws, spec, kid }
  }

  /** Signature, then claims; synchronous once the candidate keys are known. */
  function finish(
    token: string,
    id: string | undefined,
    jws: DecodedJws,
    spec: AlgorithmSpec,
    keys: readonly KeyObject[],
  ): VerifiedAccessToken {
    if (keys.length === 0) {
      throw invalid(
        'ERR_TOKEN_KEY_NOT_FOUND',
        'No signing key of the issuer matches the access token',
      )
    }
    let signer: KeyObject | undefined
    for (const key of keys) {
      // Candidates already fit `spec`: the key set selects them so, and a secret is checked below.
      if (verifySignature(spec, key, jws.signingInput, jws.signature)) {
        signer = key
        break
      }
    }
    if (signer === undefined) {
      throw invalid('ERR_TOKEN_SIGNATURE_INVALID', 'The access token signature is invalid')
    }
    const now = clock()
    const claims = Object.freeze(checkClaims(jws.payload, o, now))
    const scopes = readScopes(jws.payload, o.scopeClaims, realm)
    const header = Object.freeze(jws.header) as AccessTokenHeader
    const result = createResult(claims, header, scopes, token, realm)
    if (id !== undefined && cache !== undefined) {
      cache.set(id, result, signer, validityWindow(claims), now)
    }
    return result
  }

  /** The time claims as instants, so a cache hit compares numbers instead of re-checking claims. */
  function validityWindow({ exp, nbf, iat }: AccessTokenClaims): ValidityWindow {
    // The same bounds checkClaims applies, as instants: nbf and iat (never in the future beyond
    // the tolerance), exp, and iat + maxTokenAge.
    const tolerance = o.clockTolerance
    const notBefore = nbf === undefined ? -Infinity : (nbf - tolerance) * 1000
    const issued = iat === undefined ? -Infinity : (iat - tolerance) * 1000
    const maxAge = o.maxTokenAge
    return {
      from: Math.max(notBefore, issued),
      before: (exp + tolerance) * 1000,
      until:
        maxAge === undefined || iat === undefined ? Infinity : (iat + maxAge + tolerance) * 1000,
    }
  }

  /**
   * A cached result, if the token was verified before, its key is still published and its time
   * claims still hold now. Anything else falls through to a full verification.
   */
  function cached(id: string): VerifiedAccessToken | undefined {
    const entry = cache?.get(id)
    if (entry === undefined) return undefined
    const now = clock()
    if (
      now >= entry.from &&
      now < entry.before &&
      now <= entry.until &&
      (keySet === undefined || keySet.holds(entry.key))
    ) {
      return entry.result
    }
    // Expired, not yet valid, or its key is gone: the full path below produces the error.
    cache?.delete(id)
    return undefined
  }

  /** Everything after the cache: decode, keys, signature, claims. Synchronous once keys are cached. */
  function verifyFresh(
    token: string,
    id: string | undefined,
  ): VerifiedAccessToken | Promise<VerifiedAccessToken> {
    const { jws, spec, kid } = decode(token)
    const keys = keySet === undefined ? secretKeys : keySet.candidates(spec, kid)
    if (Array.isArray(keys)) return finish(token, id, jws, spec, keys as readonly KeyObject[])
    return (keys as Promise<readonly KeyObject[]>).then((loaded) =>
      finish(token, id, jws, spec, loaded),
    )
  }

  function publish(outcome: VerifyEvent['outcome'], isCached: boolean): void {
    verifyChannel.publish({ issuer: o.issuer, outcome, cached: isCached } satisfies VerifyEvent)
  }

  function publishFailure(error: unknown): void {
    if (verifyChannel.hasSubscribers && isBearerGuardError(error)) publish(error.code, false)
  }

  /**
   * Verifies a token: the cached result when there is one, else the full path. Synchronous (and
   * throwing) whenever nothing has to be fetched; a promise only while keys are being loaded.
   * `inRequest`: the token came from a request, so its token68 syntax is checked here, after the
   * cache: a cached token was verified, so it is base64url JWS, and token68, already.
   */
  function attempt(
    token: string,
    inRequest: boolean,
  ): VerifiedAccessToken | Promise<VerifiedAccessToken> {
    let id: string | undefined
    if (cache !== undefined && typeof token === 'string' && token.length <= o.maxTokenLength) {
      id = TokenCache.id(token)
      const hit = cached(id)
      if (hit !== undefined) {
        if (verifyChannel.hasSubscribers) publish('ok', true)
        return hit
      }
    }
    if (!verifyChannel.hasSubscribers) {
      if (inRequest) checkSyntax(token, realm)
      return verifyFresh(token, id)
    }
    let outcome: VerifiedAccessToken | Promise<VerifiedAccessToken>
    try {
      if (inRequest) checkSyntax(token, realm)
      outcome = verifyFresh(token, id)
    } catch (error) {
      publishFailure(error)
      throw error
    }
    if (!(outcome instanceof Promise)) {
      publish('ok', false)
      return outcome
    }
    return outcome.then(
      (result) => {
        publish('ok', false)
        return result
      },
      (error: unknown) => {
        publishFailure(error)
        throw error
      },
    )
  }

  function fromRequest(request: BearerRequest): VerifiedAccessToken | Promise<VerifiedAccessToken> {
    let token: string
    try {
      token = extractToken(request, o)
    } catch (error) {
      publishFailure(error)
      throw error
    }
    return attempt(token, true)
  }

  // `async` without `await`: a sync throw becomes a rejection, and a cached result resolves at once.
  async function verify(token: string): Promise<VerifiedAccessToken> {
    return attempt(token, false)
  }

  async function verifyRequestAsync(request: BearerRequest): Promise<VerifiedAccessToken> {
    return fromRequest(request)
  }

  function verifyRequest(request: BearerRequest): Promise<VerifiedAccessToken>
  function verifyRequest(request: BearerRequest, callback: VerifyCallback): void
  function verifyRequest(
    request: BearerRequest,
    callback?: VerifyCallback,
  ): Promise<VerifiedAccessToken> | undefined {
    if (callback === undefined) return verifyRequestAsync(request)
    let outcome: VerifiedAccessToken | Promise<VerifiedAccessToken>
    try {
      outcome = fromRequest(request)
    } catch (error) {
      callback(error, undefined)
      return undefined
    }
    if (outcome instanceof Promise) {
      outcome.then(
        (auth) => {
          callback(null, auth)
        },
        (error: unknown) => {
          callback(error, undefined)
        },
      )
    } else {
      callback(null, outcome)
    }
    return undefined
  }

  return Object.freeze({
    [KEYSET_FAILURE_LISTENERS]: failureListeners,
    realm,
    allowFormBody: o.allowFormBody,
    verify,
    verifyRequest,
    async ready(): Promise<void> {
      await keySet?.load()
    },
  })
}

export type { AccessTokenValidatorOptions }
