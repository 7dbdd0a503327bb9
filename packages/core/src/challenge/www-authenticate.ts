/**
 * Renders `WWW-Authenticate` from what an error carries and the context of the validator it left
 * through: the one place challenge parameters are written, so new ones (`resource_metadata`,
 * `acr_values`, a DPoP challenge) are added here and nowhere else.
 */

/** The authentication schemes bearer-guard answers for: RFC 6750 `Bearer`, RFC 9449 `DPoP`. */
export type AuthScheme = 'Bearer' | 'DPoP'

/** What a validator adds to every challenge it sends. */
export interface ChallengeContext {
  /**
   * RFC 9449 §7.1 `algs`, when the API accepts DPoP: a 401 in the `Bearer` scheme then carries a
   * second challenge, `DPoP algs="…"`, and a `DPoP` challenge carries `algs`.
   */
  readonly dpopAlgs?: string | undefined
  /** RFC 9728 §5.1 `resource_metadata`: the URL of the API's metadata, on every 401 and 403. */
  readonly resourceMetadata?: string | undefined
  /** RFC 6750 §3 `realm`. */
  readonly realm?: string | undefined
}

/** What an error contributes to its challenge. */
export interface ChallengeSource {
  /** The HTTP status the challenge is sent with. */
  readonly status?: number
  /** The scheme of the challenge; `Bearer` when absent. */
  readonly scheme?: AuthScheme | undefined
  /** RFC 6750 §3.1 error code; `undefined` when no credentials were sent (no error attributes). */
  readonly error: string | undefined
  /** The description, already within RFC 6750 §3's characters. */
  readonly message: string
  /** Further attributes of the error (e.g. `scope`, RFC 9449 §7.1 `algs`). */
  readonly params: Readonly<Record<string, string>>
}

/**
 * Quotes a challenge parameter value (RFC 9110 §11.2 `auth-param`, `quoted-string` form).
 * `error_description` and `scope` never hold `"` or `\` (see `toRfc6750Text`); the realm is the
 * application's and may, so the quoted-string escapes are applied; anything outside visible
 * ASCII and space is replaced.
 */
export function quote(value: string): string {
  let out = ''
  for (const ch of value) {
    const c = ch.codePointAt(0) ?? 0
    if (ch === '"' || ch === '\\') out += '\\' + ch
    else if (c >= 0x20 && c <= 0x7e) out += ch
    else out += '?'
  }
  return `"${out}"`
}

/**
 * The challenge of the error's scheme, `Bearer` (RFC 6750 §3) or `DPoP` (RFC 9449 §7.1, same
 * parameters plus `algs`): `realm`, then `error`, `error_description` and the error's own
 * attributes when the request carried credentials (§3.1: none otherwise).
 */
export function renderChallenge(
  source: ChallengeSource,
  context: ChallengeContext | undefined,
): string {
  const params: string[] = []
  if (context?.realm !== undefined) params.push(`realm=${quote(context.realm)}`)
  if (source.error !== undefined) {
    params.push(`error=${quote(source.error)}`)
    params.push(`error_description=${quote(source.message)}`)
    for (const [name, value] of Object.entries(source.params)) {
      params.push(`${name}=${quote(value)}`)
    }
  }
  const metadata = context?.resourceMetadata
  if (metadata !== undefined && (source.status === 401 || source.status === 403)) {
    params.push(`resource_metadata=${quote(metadata)}`)
  }
  const scheme = source.scheme ?? 'Bearer'
  const algs = context?.dpopAlgs
  if (scheme === 'DPoP' && algs !== undefined && source.params.algs === undefined) {
    params.push(`algs=${quote(algs)}`)
  }
  const challenge = params.length === 0 ? scheme : `${scheme} ${params.join(', ')}`
  // RFC 9449 §7.1: offer DPoP beside Bearer on a 401, so a client knows it may use it.
  return scheme === 'Bearer' && algs !== undefined && source.status === 401
    ? `${challenge}, DPoP algs=${quote(algs)}`
    : challenge
}
