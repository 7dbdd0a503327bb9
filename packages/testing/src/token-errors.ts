import { json, NO_STORE } from './server.js'
import type { Reply } from './server.js'

/**
 * The `error` codes the token endpoint answers with: RFC 6749 §5.2 and RFC 8707 §2
 * (`invalid_target`). `invalid_grant` never occurs with `client_credentials`: the client's
 * credentials are the grant, and wrong ones are `invalid_client`.
 */
export type TokenErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'

/**
 * `value` made fit for an `error_description` or a quoted header parameter: RFC 6749 §5.2 allows
 * only `%x20-21 / %x23-5B / %x5D-7E` (no `"`, no `\\`, ASCII only); other characters become `?`.
 */
export function sanitize(value: string): string {
  return value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '?')
}

/** A request value named in an `error_description`: sanitized, cut to 64 characters, quoted. */
export function quote(value: string): string {
  const clean = sanitize(value)
  return `'${clean.length > 64 ? `${clean.slice(0, 61)}...` : clean}'`
}

/** A refused token request; thrown while the request is checked, answered as §5.2 says. */
export class TokenRequestError extends Error {
  constructor(
    readonly code: TokenErrorCode,
    readonly description: string,
    readonly status = 400,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(`${code}: ${description}`)
    this.name = 'TokenRequestError'
  }

  /** The JSON error response (RFC 6749 §5.2). */
  reply(): Reply {
    return json(
      this.status,
      { error: this.code, error_description: this.description },
      { ...NO_STORE, ...this.headers },
    )
  }
}
