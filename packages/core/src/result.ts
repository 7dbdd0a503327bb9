import type { ChallengeContext } from './challenge/www-authenticate.js'
import type { AccessTokenClaims, AccessTokenHeader, VerifiedAccessToken } from './types.js'

/**
 * The verified result. A class rather than a plain object so the challenge context of the
 * validator that produced it travels along in a private field (for policy errors) at no cost per
 * request.
 */
class VerifiedToken implements VerifiedAccessToken {
  readonly #context: ChallengeContext
  readonly #scopeSources: string | undefined
  readonly #clock: () => number
  constructor(
    readonly claims: AccessTokenClaims,
    readonly header: AccessTokenHeader,
    readonly scopes: ReadonlySet<string>,
    readonly token: string,
    context: ChallengeContext,
    scopeSources: string | undefined,
    clock: () => number,
  ) {
    this.#context = context
    this.#scopeSources = scopeSources
    this.#clock = clock
  }

  static clockOf(value: object): (() => number) | undefined {
    return #clock in value ? value.#clock : undefined
  }

  static contextOf(value: object): ChallengeContext | undefined {
    return #context in value ? value.#context : undefined
  }

  static scopeSourcesOf(value: object): string | undefined {
    return #scopeSources in value ? value.#scopeSources : undefined
  }
}

/** Builds the verified result, frozen: cached results are shared by every request. */
export function createResult(
  claims: AccessTokenClaims,
  header: AccessTokenHeader,
  scopes: ReadonlySet<string>,
  token: string,
  context: ChallengeContext,
  scopeSources?: string,
  clock: () => number = Date.now,
): VerifiedAccessToken {
  return Object.freeze(
    new VerifiedToken(claims, header, scopes, token, context, scopeSources, clock),
  )
}

/** The challenge context of the validator that produced `auth`, if it came from one. */
export function challengeContextOf(auth: object): ChallengeContext | undefined {
  return VerifiedToken.contextOf(auth)
}

/**
 * Where the validator read granted scopes, when not the default `scope`/`scp`: named in 403
 * descriptions so a Keycloak user sees that roles came from `realm_access.roles`.
 */
export function scopeSourcesOf(auth: object): string | undefined {
  return VerifiedToken.scopeSourcesOf(auth)
}

/** The clock of the validator that produced `auth` (policies compare `auth_time` with it). */
export function clockOf(auth: object): () => number {
  return VerifiedToken.clockOf(auth) ?? Date.now
}
