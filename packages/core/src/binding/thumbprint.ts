/**
 * Hashes that bind a token to a key or a certificate: the RFC 7638 JWK thumbprint (DPoP
 * `cnf.jkt`, RFC 9449 §6.1), the RFC 8705 certificate thumbprint (`cnf["x5t#S256"]`, §3.1) and
 * the RFC 9449 `ath` access-token hash.
 */
import { hash } from 'node:crypto'

/**
 * The members of a public key that its thumbprint covers, already in lexicographic order
 * (RFC 7638 §3.2; RFC 8037 §2 for `OKP`).
 */
export const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  EC: Object.freeze(['crv', 'kty', 'x', 'y']),
  OKP: Object.freeze(['crv', 'kty', 'x']),
  RSA: Object.freeze(['e', 'kty', 'n']),
})

/**
 * The RFC 7638 SHA-256 thumbprint of a public JWK, base64url: SHA-256 of the UTF-8 JSON object
 * holding only the required members, in lexicographic order, without whitespace (§3, §3.3).
 *
 * @param jwk a JWK whose required members (see {@link THUMBPRINT_MEMBERS}) are strings.
 * @throws `TypeError` for a key type without a thumbprint definition or a member that is not a
 * string.
 */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string {
  const kty = String(jwk.kty)
  const names = Object.hasOwn(THUMBPRINT_MEMBERS, kty) ? THUMBPRINT_MEMBERS[kty] : undefined
  if (names === undefined) throw new TypeError('bearer-guard: unsupported JWK key type')
  let json = '{'
  for (const name of names) {
    const value = jwk[name]
    if (typeof value !== 'string') throw new TypeError('bearer-guard: JWK member is not a string')
    // JSON.stringify escapes exactly what RFC 8259 requires (§3.3: no other escaping).
    json += `${json === '{' ? '' : ','}"${name}":${JSON.stringify(value)}`
  }
  return hash('sha256', `${json}}`, 'base64url')
}

/** RFC 9449 §4.2 `ath`: base64url of the SHA-256 of the access token's ASCII bytes. */
export function accessTokenHash(accessToken: string): string {
  return hash('sha256', accessToken, 'base64url')
}

/**
 * RFC 8705 §3.1 `x5t#S256`: base64url (unpadded) of the SHA-256 of the certificate's DER bytes.
 */
export function certificateThumbprint(der: Uint8Array): string {
  return hash('sha256', der, 'base64url')
}

/**
 * Compares two thumbprints (or any two strings) in time that does not depend on where they
 * differ: every character is compared, the differences gathered in one value. Lengths are compared
 * first: a thumbprint's length is public. (No buffers: a DPoP request calls this on its path.)
 */
export function sameThumbprint(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let difference = 0
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return difference === 0
}
