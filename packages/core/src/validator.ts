import { TokenCache } from './cache/token-cache.js'
import {
  InvalidTokenError,
  MissingCredentialsError,
  inScheme,
  isBearerGuardError,
  withChallengeContext,
} from './challenge/errors.js'
import { within } from './claims/time.js'
import { verifyChannel, type VerifyEvent } from './diagnostics.js'
import { decodeJws } from './jws/decode.js'
import type { KeySource } from './keys/key-source.js'
import { RemoteKeySet, type KeySetFailure } from './keys/remote.js'
import { resolveValidatorOptions, type IssuerSpec } from './options/resolve.js'
import type { AccessTokenValidatorOptions, MaybePromise } from './options/validator-options.js'
import type { ResourceMetadataInfo } from './metadata/resource.js'
import type { BearerRequest } from './request.js'
import { bindingStage } from './binding/stage.js'
import { checkSyntax, extractToken, schemeOf } from './transport/extract.js'
import type { VerifiedAccessToken } from './types.js'
import { IntrospectionVerifier, jwsOrOpaque } from './verifiers/introspection.js'
import { manyIssuers, singleIssuer, type IssuerVerifier } from './verifiers/issuers.js'
import { JwtVerifier, type Verified } from './verifiers/jwt.js'

/** A configured validator. Create one per API, at start-up, and share it. */
export interface AccessTokenValidator {
  /**
   * Verifies a compact JWT access token: signature with its issuer's keys, `alg`, `typ`, `iss`,
   * `aud`, `exp`, `nbf`, `iat` and the other configured checks.
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
   * With `optional: true`, a request without credentials (no token, or another scheme) resolves
   * to `undefined` instead of being refused: for routes that serve anonymous callers too. A token
   * that is sent must still be valid, and is refused as usual otherwise.
   */
  verifyRequest(
    request: BearerRequest,
    options: VerifyRequestOptions,
  ): Promise<VerifiedAccessToken | undefined>
  /**
   * Loads discovery and keys of every configured issuer now instead of on the first request, e.g.
   * for a readiness probe. Rejects with {@link KeySetUnavailableError} when they cannot be
   * obtained; the validator stays usable and tries again on the next request.
   */
  ready(): Promise<void>
  /** The realm used in this validator's challenges. */
  readonly realm: string | undefined
  /**
   * Whether tokens are read from form bodies (`allowFormBody`): an adapter that verifies before
   * the body is parsed must then verify later.
   */
  readonly allowFormBody: boolean
}

/** Options of {@link AccessTokenValidator.verifyRequest}. */
export interface VerifyRequestOptions {
  /** Let a request without credentials through as anonymous (`undefined`). Default: `false`. */
  readonly optional?: boolean
}

/** @internal What RFC 9728 metadata says of this validator (see the adapter subpath). */
export const RESOURCE_METADATA = Symbol.for('bearer-guard.resource-metadata')

/** @internal The maybe-synchronous `verifyRequest` adapters use (see the adapter subpath). */
export const VERIFY_NOW = Symbol.for('bearer-guard.verify-now')
/**
 * @internal Where a validator keeps the listeners of `onKeySetFailure` (adapter subpath). Global
 * symbols, so an adapter and an application with two installed copies of core still meet.
 */
export const KEYSET_FAILURE_LISTENERS = Symbol.for('bearer-guard.keyset-failure-listeners')

/**
 * Creates a validator for the access tokens of one or several issuers and an API. Options are
 * checked here, once; nothing is fetched until the first token (or
 * {@link AccessTokenValidator.ready}), so the process starts even when an issuer is down.
 *
 * The stages, in order: extract the token from the request; serve it from the verified-token
 * cache, or decode it, select its issuer's verifier by the unverified `iss` among the accepted
 * issuers, and verify header, signature (with that issuer's keys only), time window and claims.
 *
 * @throws `TypeError` for a missing issuer or audience, an insecure URL, an unknown option, or
 * any invalid option.
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
  const o = resolveValidatorOptions(options)
  const { context, clock, maxTokenLength, extract } = o
  const failureListeners = new Set<(failure: KeySetFailure) => void>()
  function reportFailure(failure: KeySetFailure): void {
    for (const listener of failureListeners) listener(failure)
  }

  function keySource(spec: IssuerSpec): KeySource {
    if (spec.keys.kind === 'static') return spec.keys.source
    const r = o.remote
    return new RemoteKeySet({
      issuer: spec.match.issuer,
      jwksUri: spec.keys.jwksUri,
      limits: { fetch: r.fetch, timeout: r.timeout, maxBytes: r.maxBytes },
      allowInsecureHttp: r.allowInsecureHttp,
      maxAge: r.maxAge,
      minAge: Math.min(r.minAge, r.maxAge),
      defaultAge: Math.min(r.defaultAge, r.maxAge),
      staleIfError: r.staleIfError,
      unknownKeyCooldown: r.unknownKeyCooldown,
      coordinator: r.coordinator,
      retryAfter: r.retryAfter,
      clock,
      onFailure: reportFailure,
    })
  }
  // Introspecting verifiers (RFC 7662) of the configured issuers: for readiness, and the one that
  // takes opaque tokens.
  const introspectors: IntrospectionVerifier[] = []
  function verifier(spec: IssuerSpec): IssuerVerifier {
    const keys = keySource(spec)
    const jwt = new JwtVerifier({ ...spec, keys, clock, context })
    if (spec.introspection === undefined) return jwt
    const r = o.remote
    const introspector = new IntrospectionVerifier({
      spec,
      introspection: spec.introspection,
      keys,
      limits: { fetch: r.fetch, timeout: r.timeout, maxBytes: r.maxBytes },
      allowInsecureHttp: r.allowInsecureHttp,
      retryAfter: r.retryAfter,
      clock,
      context,
      onFailure: reportFailure,
    })
    introspectors.push(introspector)
    return spec.introspection.jwt ? introspector : jwt
  }

  const configured = o.issuers.map(verifier)
  const ready = [...introspectors]
  // Tokens that are not JWTs go to this issuer's introspection endpoint; without it, they are
  // malformed JWTs (and the JWT path stays exactly as it was).
  const opaque = introspectors.find((introspector) => introspector.opaque)
  const issuers =
    configured.length === 1 && o.resolver === undefined
      ? singleIssuer(configured[0] as IssuerVerifier)
      : manyIssuers(configured, o.resolver, (entry) => verifier(o.resolveIssuer(entry)))
  const cache = o.tokenCacheSize > 0 ? new TokenCache(o.tokenCacheSize) : undefined
  const bind = bindingStage({ ...o.binding, clock })
  const dpopEnabled = o.binding.dpop !== undefined

  function store(id: string | undefined, verified: Verified): VerifiedAccessToken {
    if (id !== undefined && cache !== undefined) {
      cache.set(id, verified.result, verified.key, verified.keys, verified.window, clock())
    }
    return verified.result
  }

  /** Everything after the cache: decode, select the issuer, verify. Synchronous once keys are cached. */
  function verifyFresh(token: string, id: string | undefined): MaybePromise<VerifiedAccessToken> {
    if (typeof token !== 'string' || token === '') {
      throw new InvalidTokenError('ERR_TOKEN_MALFORMED', 'The access token is missing')
    }
    if (token.length > maxTokenLength) {
      throw new InvalidTokenError('ERR_TOKEN_TOO_LARGE', 'The access token is larger than accepted')
    }
    const jws = opaque === undefined ? decodeJws(token) : jwsOrOpaque(token)
    let verified: MaybePromise<Verified>
    if (jws === undefined) {
      verified = (opaque as IntrospectionVerifier).verify(token)
    } else {
      const selected = issuers.select(jws)
      verified =
        selected instanceof Promise
          ? selected.then((v) => v.verify(token, jws))
          : selected.verify(token, jws)
    }
    if (!(verified instanceof Promise)) return store(id, verified)
    return verified.then((v) => store(id, v))
  }

  /**
   * A cached result, if the token was verified before, its time window holds now and its key is
   * still published. Anything else falls through to a full verification.
   */
  // Whether the last synchronous `attempt` was a cache hit, read right after it (single-threaded).
  let servedFromCache = false

  function cached(id: string): VerifiedAccessToken | undefined {
    const entry = cache?.get(id)
    if (entry === undefined) return undefined
    if (within(entry, clock()) && entry.keys.holds(entry.key)) return entry.result
    // Expired, not yet valid, or its key is gone: the full path produces the error.
    cache?.delete(id)
    return undefined
  }

  function publish(outcome: VerifyEvent['outcome'], isCached: boolean, issuer?: string): void {
    verifyChannel.publish({ issuer, outcome, cached: isCached } satisfies VerifyEvent)
  }

  /**
   * Verifies a token: the cached result when there is one, else the full path. Synchronous (and
   * throwing) whenever nothing has to be fetched; a promise only while keys are being loaded.
   * `inRequest`: the token came from a request, so its token68 syntax is checked here, after the
   * cache: a cached token was verified, so it is base64url JWS, and token68, already.
   */
  function attempt(token: string, inRequest: boolean): MaybePromise<VerifiedAccessToken> {
    let id: string | undefined
    if (cache !== undefined && typeof token === 'string' && token.length <= maxTokenLength) {
      id = TokenCache.id(token)
      const hit = cached(id)
      if (hit !== undefined) {
        servedFromCache = true
        return hit
      }
    }
    servedFromCache = false
    if (inRequest) checkSyntax(token)
    return verifyFresh(token, id)
  }

  /** The boundary: every error leaving here carries this validator's challenge context. */
  function settle(outcome: MaybePromise<VerifiedAccessToken>): MaybePromise<VerifiedAccessToken> {
    if (!(outcome instanceof Promise)) {
      if (verifyChannel.hasSubscribers) publish('ok', servedFromCache, outcome.claims.iss)
      return outcome
    }
    return outcome.then(
      (result) => {
        if (verifyChannel.hasSubscribers) publish('ok', false, result.claims.iss)
        return result
      },
      (error: unknown) => {
        throw failed(error)
      },
    )
  }

  function failed(error: unknown): unknown {
    withChallengeContext(error, context)
    if (verifyChannel.hasSubscribers && isBearerGuardError(error)) publish(error.code, false)
    return error
  }

  // No closure per request: the hot path allocates nothing here.
  function verifyNow(
    request: BearerRequest,
    optional = false,
  ): MaybePromise<VerifiedAccessToken | undefined> {
    let token: string
    try {
      token = extractToken(request, extract)
    } catch (error) {
      // RFC 6750 §3.1: no credentials is not an error of the request; an optional route serves it.
      if (optional && error instanceof MissingCredentialsError) return undefined
      throw failed(error)
    }
    let outcome: MaybePromise<VerifiedAccessToken>
    // The binding stage runs after the cache: a cached token still needs its proof, its
    // certificate, and not to be revoked, on every request.
    const scheme = dpopEnabled ? schemeOf(request.headers.authorization) : 'Bearer'
    try {
      const verified = attempt(token, true)
      outcome =
        verified instanceof Promise
          ? verified.then((auth) => bind(auth, request, token, scheme))
          : bind(verified, request, token, scheme)
    } catch (error) {
      throw failed(inScheme(error, scheme))
    }
    if (scheme === 'DPoP' && outcome instanceof Promise) {
      outcome = outcome.catch((error: unknown) => {
        throw inScheme(error, scheme)
      })
    }
    return settle(outcome)
  }

  function verifyToken(token: string): MaybePromise<VerifiedAccessToken> {
    let outcome: MaybePromise<VerifiedAccessToken>
    try {
      outcome = attempt(token, false)
    } catch (error) {
      throw failed(error)
    }
    return settle(outcome)
  }

  function verifyRequest(request: BearerRequest): Promise<VerifiedAccessToken>
  function verifyRequest(
    request: BearerRequest,
    options: VerifyRequestOptions,
  ): Promise<VerifiedAccessToken | undefined>
  // `async` without `await`: a sync throw becomes a rejection, a cached result resolves at once.
  async function verifyRequest(
    request: BearerRequest,
    options?: VerifyRequestOptions,
  ): Promise<VerifiedAccessToken | undefined> {
    return verifyNow(request, options?.optional === true)
  }

  const resourceInfo: ResourceMetadataInfo | undefined =
    o.resource === undefined
      ? undefined
      : Object.freeze({
          resource: o.resource.identifier,
          metadataUrl: o.resource.metadataUrl,
          authorizationServers: o.issuers
            .map((spec) => spec.match)
            .filter((match) => match.kind === 'exact' && match.issuer.includes('://'))
            .map((match) => match.issuer),
          bearerMethods: [
            'header',
            ...(extract.allowFormBody ? ['body'] : []),
            ...(extract.allowQuery ? ['query'] : []),
          ],
          dpopAlgs: o.binding.dpop?.rules.algs,
          dpopRequired: o.binding.dpop?.required === true,
          certificateBound: o.binding.certificates.header !== undefined,
        })

  return Object.freeze({
    [RESOURCE_METADATA]: resourceInfo,
    [KEYSET_FAILURE_LISTENERS]: failureListeners,
    [VERIFY_NOW]: verifyNow,
    realm: context.realm,
    allowFormBody: extract.allowFormBody,
    // `async` without `await`: a sync throw becomes a rejection, a cached result resolves at once.
    async verify(token: string): Promise<VerifiedAccessToken> {
      return verifyToken(token)
    },
    verifyRequest,
    async ready(): Promise<void> {
      await Promise.all([
        ...issuers.configured.map((v) => v.keys.load()),
        ...ready.map((introspector) => introspector.load()),
      ])
    },
  })
}

export type { AccessTokenValidatorOptions }
