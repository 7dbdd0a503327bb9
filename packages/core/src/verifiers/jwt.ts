import type { KeyObject } from 'node:crypto'
import { InvalidTokenError } from '../challenge/errors.js'
import type { ChallengeContext } from '../challenge/www-authenticate.js'
import { TENANT_PLACEHOLDER, type IssuerMatch } from '../claims/issuer.js'
import { checkClaims, type ClaimRules } from '../claims/rules.js'
import {
  readScopes,
  type ResolvedScopeClaim,
  type ResolvedScopeHierarchy,
  type ScopeInfo,
} from '../claims/scopes.js'
import { checkWithin, validityWindow, type TimeRules, type ValidityWindow } from '../claims/time.js'
import { verifySignature, type AlgorithmSpec } from '../jws/algorithms.js'
import { signingInput, type DecodedJws } from '../jws/decode.js'
import { allowedAlgorithm, checkHeader } from '../jws/header.js'
import type { KeySource } from '../keys/key-source.js'
import { createResult } from '../result.js'
import type { AccessTokenClaims, AccessTokenHeader, VerifiedAccessToken } from '../types.js'

/** Everything one issuer's tokens are verified with, resolved once. */
export interface JwtIssuerSettings {
  readonly match: IssuerMatch
  readonly algorithms: ReadonlySet<string>
  readonly strict: boolean
  readonly keys: KeySource
  readonly claims: ClaimRules
  readonly time: TimeRules
  readonly scopeClaims: readonly ResolvedScopeClaim[]
  readonly scopeHierarchy: ResolvedScopeHierarchy | undefined
  readonly clock: () => number
  readonly context: ChallengeContext
}

/** A verification's outcome with what the token cache needs to serve it again. */
export interface Verified {
  readonly result: VerifiedAccessToken
  /** The key that verified the signature: a cached result dies with it. */
  readonly key: KeyObject
  readonly keys: KeySource
  readonly window: ValidityWindow
}

/**
 * Verifies JWT access tokens of one issuer (RFC 9068): header rules, the issuer's keys, the
 * signature, the time window and the claims. Synchronous once the issuer's keys are known.
 */
export class JwtVerifier {
  readonly #s: JwtIssuerSettings

  readonly #scopeInfo: ScopeInfo | undefined

  constructor(settings: JwtIssuerSettings) {
    this.#s = settings
    const names = settings.scopeClaims.map((c) => c.name).join(', ')
    const sources = names === 'scope, scp' ? undefined : names
    const hierarchy = settings.scopeHierarchy
    this.#scopeInfo =
      sources === undefined && hierarchy === undefined ? undefined : { sources, hierarchy }
  }

  /** The issuer as configured (a template for multi-tenant issuers). */
  get issuer(): string {
    return this.#s.match.issuer
  }

  get match(): IssuerMatch {
    return this.#s.match
  }

  get keys(): KeySource {
    return this.#s.keys
  }

  verify(token: string, jws: DecodedJws): Verified | Promise<Verified> {
    const s = this.#s
    const spec = allowedAlgorithm(jws, s.algorithms)
    const kid = checkHeader(jws, s.strict)
    const candidates = s.keys.candidates(spec, kid)
    if (Array.isArray(candidates))
      return this.#finish(token, jws, spec, candidates as readonly KeyObject[])
    return (candidates as Promise<readonly KeyObject[]>).then((loaded) =>
      this.#finish(token, jws, spec, loaded),
    )
  }

  #finish(
    token: string,
    jws: DecodedJws,
    spec: AlgorithmSpec,
    candidates: readonly KeyObject[],
  ): Verified {
    const s = this.#s
    if (candidates.length === 0) {
      throw new InvalidTokenError(
        'ERR_TOKEN_KEY_NOT_FOUND',
        'No signing key of the issuer matches the access token',
      )
    }
    let signer: KeyObject | undefined
    const data = signingInput(jws)
    for (const key of candidates) {
      if (verifySignature(spec, key, data, jws.signature)) {
        signer = key
        break
      }
    }
    if (signer === undefined) {
      throw new InvalidTokenError(
        'ERR_TOKEN_SIGNATURE_INVALID',
        'The access token signature is invalid',
      )
    }
    const { payload } = jws
    const window = validityWindow(payload, s.time)
    checkWithin(window, s.clock())
    checkClaims(payload, s.claims)
    const bound = s.keys.issuerOf(signer)
    if (bound !== undefined && !boundIssuerMatches(bound, payload)) {
      throw new InvalidTokenError(
        'ERR_TOKEN_ISSUER_INVALID',
        'The access token was signed by a key of another issuer',
      )
    }
    const scopes = readScopes(payload, s.scopeClaims, s.scopeHierarchy)
    const result = createResult(
      Object.freeze(payload) as AccessTokenClaims,
      Object.freeze(jws.header) as AccessTokenHeader,
      scopes,
      token,
      s.context,
      this.#scopeInfo,
      s.clock,
    )
    return { result, key: signer, keys: s.keys, window }
  }
}

/**
 * A key bound to an issuer verifies only that issuer's tokens; `{tenantid}` in the bound issuer
 * stands for the token's own `tid` (Microsoft Entra's common key set).
 */
function boundIssuerMatches(bound: string, payload: Record<string, unknown>): boolean {
  const { iss, tid } = payload
  if (!bound.includes(TENANT_PLACEHOLDER)) return iss === bound
  return typeof tid === 'string' && iss === bound.replace(TENANT_PLACEHOLDER, tid)
}
