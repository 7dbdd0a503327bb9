/**
 * Opaque access tokens (and, where configured, an issuer's JWTs), verified by asking their issuer
 * (RFC 7662). The answer's members go through the same claim checks, scopes and (after this
 * stage, in the binding stage) `cnf` binding as a JWT's claims. Active answers are cached under a
 * hash of issuer, client and token, never past the token's `exp` nor `cacheMaxAge`, and concurrent
 * requests with one token share one call (single flight).
 */
import { createSecretKey, hash, type KeyObject } from 'node:crypto'
import { InvalidTokenError } from '../challenge/errors.js'
import type { ChallengeContext } from '../challenge/www-authenticate.js'
import type { IssuerMatch } from '../claims/issuer.js'
import { checkClaims } from '../claims/rules.js'
import { readScopes, type ScopeInfo } from '../claims/scopes.js'
import { checkWithin, type TimeRules, type ValidityWindow } from '../claims/time.js'
import { decodeJws, type DecodedJws } from '../jws/decode.js'
import type { KeySource } from '../keys/key-source.js'
import type { KeySetFailure } from '../keys/remote.js'
import type { FetchLimits } from '../keys/fetch-json.js'
import type { ResolvedIntrospection } from '../options/introspection.js'
import type { IssuerSpec } from '../options/resolve.js'
import type { MaybePromise } from '../options/validator-options.js'
import { createResult } from '../result.js'
import type { AccessTokenClaims, AccessTokenHeader } from '../types.js'
import { IntrospectionEndpoint } from './introspection-endpoint.js'
import type { Verified } from './jwt.js'

/** What an introspection verifier is built from. */
export interface IntrospectionVerifierSettings {
  /** The issuer's rules: match, algorithms, claims, time, scopes. */
  readonly spec: IssuerSpec
  readonly introspection: ResolvedIntrospection
  /** The issuer's key source (verifies RFC 9701 signed answers). */
  readonly keys: KeySource
  readonly limits: FetchLimits
  readonly allowInsecureHttp: boolean
  /** Milliseconds. */
  readonly retryAfter: number
  readonly clock: () => number
  readonly context: ChallengeContext
  readonly onFailure: ((failure: KeySetFailure) => void) | undefined
}

/**
 * The `header` of an opaque token's result. An opaque token has no JOSE header and no signature
 * was checked here: its issuer vouched for it. `alg` says so, outside the JWS algorithm registry.
 */
const OPAQUE_HEADER: AccessTokenHeader = Object.freeze({ alg: 'introspection' })

/**
 * What the verified-token cache keeps with an introspected result in place of the key that
 * verified a signature: nothing to lose. The entry's window (at most `cacheMaxAge` after the
 * answer, never past `exp`) is what ends it.
 */
const ANSWER_KEY: KeyObject = createSecretKey(Buffer.alloc(32))
const ANSWERS: KeySource = Object.freeze({
  candidates: () => [],
  holds: (key: KeyObject) => key === ANSWER_KEY,
  load: () => Promise.resolve(),
  issuerOf: () => undefined,
})

const { hasOwn } = Object

/** A cached answer, as stored: when it was obtained (ms) and its members. */
interface StoredAnswer {
  readonly at: number
  readonly members: Record<string, unknown>
}

/**
 * The decoded JWS of a token, or `undefined` for a token that is not a JWT (RFC 7519 §7.2: three
 * base64url parts, a JSON header and payload): such a token is opaque, for introspection.
 */
export function jwsOrOpaque(token: string): DecodedJws | undefined {
  try {
    return decodeJws(token)
  } catch (error) {
    if (error instanceof InvalidTokenError && error.code === 'ERR_TOKEN_MALFORMED') return undefined
    throw error
  }
}

function claimInvalid(description: string): InvalidTokenError {
  return new InvalidTokenError('ERR_TOKEN_CLAIM_INVALID', description)
}

/**
 * The validity window of an answer (RFC 7662 §2.2: `exp`, `nbf`, `iat` are optional NumericDates,
 * RFC 7519 §2), with the tolerance and `maxTokenAge` of a JWT of the issuer. Without `exp`, the
 * authorization server's `active` is the only end (and `cacheMaxAge` bounds its reuse).
 */
function answerWindow(members: Record<string, unknown>, rules: TimeRules): ValidityWindow {
  const times: Record<'exp' | 'nbf' | 'iat', number | undefined> = {
    exp: undefined,
    nbf: undefined,
    iat: undefined,
  }
  for (const name of ['exp', 'nbf', 'iat'] as const) {
    const value = hasOwn(members, name) ? members[name] : undefined
    if (value === undefined || value === null) continue
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw claimInvalid(`The '${name}' member of the introspection answer is not a number`)
    }
    times[name] = value
  }
  const { exp, nbf, iat } = times
  const { clockTolerance: tolerance, maxTokenAge } = rules
  if (maxTokenAge !== undefined && iat === undefined) {
    throw claimInvalid("The 'iat' claim is required")
  }
  return {
    from: Math.max(
      nbf === undefined ? -Infinity : (nbf - tolerance) * 1000,
      iat === undefined ? -Infinity : (iat - tolerance) * 1000,
    ),
    before: exp === undefined ? Infinity : (exp + tolerance) * 1000,
    until:
      maxTokenAge === undefined || iat === undefined
        ? Infinity
        : (iat + maxTokenAge + tolerance) * 1000,
  }
}

/** The instant after which an answer obtained `at` may no longer be reused (RFC 7662 §4). */
function reuseEnd(members: Record<string, unknown>, at: number, maxAge: number): number {
  const { exp } = members
  return Math.min(typeof exp === 'number' ? exp * 1000 : Infinity, at + maxAge)
}

/**
 * Verifies tokens of one issuer by introspection. Implements what issuer selection needs of a
 * verifier (`issuer`, `match`, `keys`, `verify`), for the issuer's JWTs with `tokens: 'jwt'`.
 */
export class IntrospectionVerifier {
  readonly #s: IntrospectionVerifierSettings
  readonly #endpoint: IntrospectionEndpoint
  readonly #inflight = new Map<string, Promise<Verified>>()
  /** `<issuer length>:<issuer><client length>:<client>`: what the cache key hashes before the token. */
  readonly #keyPrefix: string
  readonly #scopeInfo: ScopeInfo | undefined

  constructor(settings: IntrospectionVerifierSettings) {
    this.#s = settings
    const { spec, introspection, keys } = settings
    const issuer = spec.match.issuer
    const { clientId } = introspection.credentials
    this.#keyPrefix = `${issuer.length}:${issuer}${clientId.length}:${clientId}`
    this.#endpoint = new IntrospectionEndpoint({
      issuer,
      endpoint: introspection.endpoint,
      credentials: introspection.credentials,
      limits: settings.limits,
      allowInsecureHttp: settings.allowInsecureHttp,
      requireSigned: introspection.requireSignedResponse,
      keys,
      algorithms: spec.algorithms,
      audiences: [clientId, ...spec.claims.audience.values],
      clockTolerance: spec.time.clockTolerance,
      retryAfter: settings.retryAfter,
      clock: settings.clock,
      onFailure: settings.onFailure,
    })
    const names = spec.scopeClaims.map((c) => c.name).join(', ')
    const sources = names === 'scope, scp' ? undefined : names
    const hierarchy = spec.scopeHierarchy
    this.#scopeInfo =
      sources === undefined && hierarchy === undefined ? undefined : { sources, hierarchy }
  }

  /** The issuer as configured. */
  get issuer(): string {
    return this.#s.spec.match.issuer
  }

  get match(): IssuerMatch {
    return this.#s.spec.match
  }

  /** The issuer's key source (for readiness, and RFC 9701 signed answers). */
  get keys(): KeySource {
    return this.#s.keys
  }

  /** True when tokens that are not JWTs are introspected here. */
  get opaque(): boolean {
    return this.#s.introspection.opaque
  }

  /** Finds the introspection endpoint now (discovery), for readiness. */
  load(): Promise<void> {
    return this.#endpoint.load()
  }

  /**
   * The verified result of `token` (with its JWS, for a JWT of the issuer): a cached answer when
   * there is one, else the authorization server's, one call per token at a time.
   */
  verify(token: string, jws?: DecodedJws): MaybePromise<Verified> {
    // RFC 7662 §4 and the advisory that made Duende key its cache by authority too: an answer is
    // cached under the issuer and the client it was given to, never under the token alone.
    const key = `introspection:${hash('sha256', this.#keyPrefix + token, 'base64url')}`
    const pending = this.#inflight.get(key)
    if (pending !== undefined) return pending
    const stored = this.#read(key)
    if (!(stored instanceof Promise)) {
      if (stored !== undefined) return this.#accept(stored.members, stored.at, token, jws)
      return this.#flight(key, this.#ask(key, token, jws))
    }
    return this.#flight(
      key,
      stored.then((found) =>
        found === undefined
          ? this.#ask(key, token, jws)
          : this.#accept(found.members, found.at, token, jws),
      ),
    )
  }

  #flight(key: string, work: Promise<Verified>): Promise<Verified> {
    const shared = work.finally(() => this.#inflight.delete(key))
    this.#inflight.set(key, shared)
    return shared
  }

  async #ask(key: string, token: string, jws: DecodedJws | undefined): Promise<Verified> {
    const members = await this.#endpoint.introspect(token)
    const at = this.#s.clock()
    if (members.active !== true) {
      // RFC 7662 §2.2: revoked, expired, unknown, or not for this client. Never cached.
      throw new InvalidTokenError(
        'ERR_TOKEN_INACTIVE',
        'The access token is not active (its issuer says so)',
      )
    }
    const verified = this.#accept(members, at, token, jws)
    this.#write(key, members, at)
    return verified
  }

  /** A stored answer still fit for reuse; a store that fails or holds garbage is a miss. */
  #read(key: string): MaybePromise<StoredAnswer | undefined> {
    const cache = this.#s.introspection.cache
    if (cache === undefined) return undefined
    let value: MaybePromise<string | undefined>
    try {
      value = cache.get(key)
    } catch {
      return undefined
    }
    if (!(value instanceof Promise)) return this.#parse(value)
    return value.then(
      (text) => this.#parse(text),
      () => undefined,
    )
  }

  #parse(text: string | undefined): StoredAnswer | undefined {
    if (typeof text !== 'string') return undefined
    let stored: unknown
    try {
      stored = JSON.parse(text)
    } catch {
      return undefined
    }
    if (typeof stored !== 'object' || stored === null) return undefined
    const { at, members } = stored as { at?: unknown; members?: unknown }
    if (typeof at !== 'number' || typeof members !== 'object' || members === null) return undefined
    const answer = members as Record<string, unknown>
    if (answer.active !== true) return undefined
    const now = this.#s.clock()
    // Another instance's clock or settings never stretch an answer's reuse.
    if (at > now || reuseEnd(answer, at, this.#s.introspection.cacheMaxAge) <= now) {
      return undefined
    }
    return { at, members: answer }
  }

  #write(key: string, members: Record<string, unknown>, at: number): void {
    const { cache, cacheMaxAge } = this.#s.introspection
    const expiresAt = reuseEnd(members, at, cacheMaxAge)
    if (cache === undefined || expiresAt <= this.#s.clock()) return
    try {
      const done = cache.set(key, JSON.stringify({ at, members }), expiresAt)
      if (done instanceof Promise) done.catch(() => undefined)
    } catch {
      // A store that cannot keep the answer costs a later miss, nothing else.
    }
  }

  /**
   * Checks an active answer like a JWT's claims (RFC 7662 §2.2 members; RFC 9068 §4 rules) and
   * builds the result. `iss`, when absent, is this issuer's: the answer is its own word.
   */
  #accept(
    members: Record<string, unknown>,
    at: number,
    token: string,
    jws: DecodedJws | undefined,
  ): Verified {
    const { spec, introspection, clock, context } = this.#s
    const claims: Record<string, unknown> = { ...members }
    if (claims.iss === undefined || claims.iss === null) claims.iss = spec.match.issuer
    const window = answerWindow(claims, spec.time)
    checkWithin(window, clock())
    const audience = spec.claims.audience
    const named = claims[audience.claim]
    if (named === undefined || named === null) {
      if (introspection.requireAudience) {
        throw new InvalidTokenError(
          'ERR_TOKEN_AUDIENCE_INVALID',
          'The introspection answer names no audience, and this API requires one',
        )
      }
      // RFC 7662 makes `aud` optional: an absent one is not checked, a present one must fit.
      checkClaims({ ...claims, [audience.claim]: audience.values[0] }, spec.claims)
    } else {
      checkClaims(claims, spec.claims)
    }
    const scopes = readScopes(claims, spec.scopeClaims, spec.scopeHierarchy)
    const result = createResult(
      Object.freeze(claims) as AccessTokenClaims,
      jws === undefined ? OPAQUE_HEADER : (Object.freeze(jws.header) as AccessTokenHeader),
      scopes,
      token,
      context,
      this.#scopeInfo,
      clock,
    )
    const cached = {
      from: window.from,
      before: reuseEnd(claims, at, introspection.cacheMaxAge),
      until: window.until,
    }
    return { result, key: ANSWER_KEY, keys: ANSWERS, window: cached }
  }
}
