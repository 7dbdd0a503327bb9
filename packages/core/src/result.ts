import type { AccessTokenClaims, AccessTokenHeader, VerifiedAccessToken } from './types.js'

const realms = new WeakMap<object, string>()

/** Builds the verified result and remembers which realm it belongs to, for policy errors. */
export function createResult(
  claims: AccessTokenClaims,
  header: AccessTokenHeader,
  scopes: ReadonlySet<string>,
  token: string,
  realm: string,
): VerifiedAccessToken {
  const result: VerifiedAccessToken = { claims, header, scopes, token }
  realms.set(result, realm)
  return result
}

/** The realm of the validator that produced `auth`, if it came from one. */
export function realmOf(auth: object): string | undefined {
  return realms.get(auth)
}
