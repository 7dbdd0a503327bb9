import type { AccessTokenClaims, AccessTokenHeader, VerifiedAccessToken } from './types.js'

/**
 * The verified result. A class rather than a plain object so the realm of the validator that
 * produced it travels along in a private field (for policy errors) at no cost per request.
 */
class VerifiedToken implements VerifiedAccessToken {
  readonly #realm: string
  constructor(
    readonly claims: AccessTokenClaims,
    readonly header: AccessTokenHeader,
    readonly scopes: ReadonlySet<string>,
    readonly token: string,
    realm: string,
  ) {
    this.#realm = realm
  }

  static realmOf(value: object): string | undefined {
    return #realm in value ? value.#realm : undefined
  }
}

/** Builds the verified result, frozen: cached results are shared by every request. */
export function createResult(
  claims: AccessTokenClaims,
  header: AccessTokenHeader,
  scopes: ReadonlySet<string>,
  token: string,
  realm: string,
): VerifiedAccessToken {
  return Object.freeze(new VerifiedToken(claims, header, scopes, token, realm))
}

/** The realm of the validator that produced `auth`, if it came from one. */
export function realmOf(auth: object): string | undefined {
  return VerifiedToken.realmOf(auth)
}
