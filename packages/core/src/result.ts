import type { ChallengeContext } from './challenge/www-authenticate.js'
import type { ScopeInfo } from './claims/scopes.js'
import type { AccessTokenClaims, AccessTokenHeader, VerifiedAccessToken } from './types.js'

/**
 * The verified result. A class rather than a plain object so the challenge context of the
 * validator that produced it travels along in a private field (for policy errors) at no cost per
 * request.
 */
class VerifiedToken implements VerifiedAccessToken {
  readonly #context: ChallengeContext
  readonly #scopeInfo: ScopeInfo | undefined
  readonly #clock: () => number
  constructor(
    readonly claims: AccessTokenClaims,
    readonly header: AccessTokenHeader,
    readonly scopes: ReadonlySet<string>,
    readonly token: string,
    context: ChallengeContext,
    scopeInfo: ScopeInfo | undefined,
    clock: () => number,
  ) {
    this.#context = context
    this.#scopeInfo = scopeInfo
    this.#clock = clock
  }

  static clockOf(value: object): (() => number) | undefined {
    return #clock in value ? value.#clock : undefined
  }

  static contextOf(value: object): ChallengeContext | undefined {
    return #context in value ? value.#context : undefined
  }

  static scopeInfoOf(value: object): ScopeInfo | undefined {
    return #scopeInfo in value ? value.#scopeInfo : undefined
  }
}

/** Builds the verified result, frozen: cached results are shared by every request. */
export function createResult(
  claims: AccessTokenClaims,
  header: AccessTokenHeader,
  scopes: ReadonlySet<string>,
  token: string,
  context: ChallengeContext,
  scopeInfo?: ScopeInfo,
  clock: () => number = Date.now,
): VerifiedAccessToken {
  return Object.freeze(new VerifiedToken(claims, header, scopes, token, context, scopeInfo, clock))
}

/** The challenge context of the validator that produced `auth`, if it came from one. */
export function challengeContextOf(auth: object): ChallengeContext | undefined {
  return VerifiedToken.contextOf(auth)
}

/**
 * Where the validator read granted scopes (when not the default `scope`/`scp`: named in 403
 * descriptions so a Keycloak user sees that roles came from `realm_access.roles`), and its scope
 * hierarchy (403 descriptions name the broader scopes that would also do).
 */
export function scopeInfoOf(auth: object): ScopeInfo | undefined {
  return VerifiedToken.scopeInfoOf(auth)
}

/** The clock of the validator that produced `auth` (policies compare `auth_time` with it). */
export function clockOf(auth: object): () => number {
  return VerifiedToken.clockOf(auth) ?? Date.now
}
