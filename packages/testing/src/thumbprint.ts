import { createHash } from 'node:crypto'
import type { JWK } from 'jose'

// RFC 7638 §3.2: the required members of each key type, which alone enter the thumbprint (EC and
// RSA from RFC 7518 §6.2.1 and §6.3.1; OKP from RFC 8037 §2).
const REQUIRED_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  RSA: ['e', 'kty', 'n'],
  OKP: ['crv', 'kty', 'x'],
}

/** base64url (no padding) of the SHA-256 of `input` (strings are UTF-8). */
export function sha256Base64url(input: string | Uint8Array): string {
  return createHash('sha256').update(input).digest('base64url')
}

/**
 * The RFC 7638 JWK SHA-256 thumbprint of a public key: the required members only, in
 * lexicographic order, without whitespace, hashed with SHA-256 and base64url-encoded. It is
 * written here rather than taken from jose so that the tests compare two implementations.
 */
export function jwkThumbprint(jwk: JWK): string {
  const members = REQUIRED_MEMBERS[jwk.kty ?? '']
  if (members === undefined) throw new TypeError(`unsupported JWK key type "${String(jwk.kty)}"`)
  const canonical = members.map((name) => {
    const value = (jwk as Record<string, unknown>)[name]
    if (typeof value !== 'string') throw new TypeError(`the JWK lacks its "${name}" member`)
    // Every required member is a base64url or ASCII name, so JSON.stringify needs no escaping
    // choices that could differ between implementations.
    return `${JSON.stringify(name)}:${JSON.stringify(value)}`
  })
  return sha256Base64url(`{${canonical.join(',')}}`)
}
