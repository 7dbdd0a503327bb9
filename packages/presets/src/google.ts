// Sources: developers.google.com/identity/openid-connect/openid-connect#validatinganidtoken ("The
// value of iss in the ID token is equal to https://accounts.google.com or accounts.google.com";
// keys at https://www.googleapis.com/oauth2/v3/certs); cloud.google.com/docs/authentication/token-types
// and .../get-id-token (Google-signed ID tokens for a target service: `aud` the service, `email`
// and `email_verified` of the calling account).
import type { IssuerOptions } from '@bearer-guard/core'
import { fail, frozen, presetOptions, requiredList } from './options.js'

/** Options of {@link google}. */
export interface GoogleOptions {
  /**
   * What callers put in `aud`: this service's URL for service-to-service calls (Cloud Run, Cloud
   * Functions, the `audience` of the metadata server's identity endpoint), or several. Required.
   */
  readonly audience: string | readonly string[]
  /**
   * The accounts allowed to call: a token's `email` (with `email_verified: true`) must be one of
   * them, e.g. `['invoker@example-project.iam.gserviceaccount.com']`; or `'any'` to accept every
   * Google account and authorize by `email` or `sub` in your own policies. Required.
   *
   * @remarks Security: any Google account can obtain a Google-signed token for any audience it
   * chooses (a service account's `generateIdToken`, the metadata server), so the audience alone
   * does not say who called. `'any'` is a conscious choice.
   */
  readonly emails: readonly string[] | 'any'
}

const OPTIONS: Readonly<Record<keyof GoogleOptions, true>> = {
  audience: true,
  emails: true,
}

/** Google's signing keys, for both issuer spellings. */
const JWKS_URI = 'https://www.googleapis.com/oauth2/v3/certs'

/**
 * The issuers of Google-signed OpenID Connect tokens, as workloads present them to a service.
 *
 * @remarks
 * Google's own OAuth access tokens are opaque; what a service verifies locally is a Google-signed
 * ID token minted for it. Checks: `iss` is `https://accounts.google.com` or `accounts.google.com`
 * (Google uses both), verified with the keys of `https://www.googleapis.com/oauth2/v3/certs`; `aud`
 * contains `audience`; `email_verified` is `true` and, unless `emails: 'any'`, `email` is one of
 * `emails`. The token must carry the caller's email: ask the metadata server with `format=full`,
 * or IAM `generateIdToken` with `includeEmail: true`. No scopes are read (these tokens carry
 * none).
 *
 * A Google sign-in ID token for your web client is refused: its `aud` is the OAuth client ID
 * (`ERR_TOKEN_AUDIENCE_INVALID`), and one from the code flow carries `at_hash`
 * (`ERR_TOKEN_TYPE_INVALID`).
 *
 * @param options - See {@link GoogleOptions}.
 * @returns Two issuer entries (`https://accounts.google.com`, `accounts.google.com`), frozen.
 * @throws TypeError for an unknown, missing or malformed option.
 * @example
 * ```ts
 * import { createAccessTokenValidator } from '@bearer-guard/core'
 * import { google } from '@bearer-guard/presets'
 *
 * const validator = createAccessTokenValidator({
 *   issuer: google({
 *     audience: 'https://orders-abc123xyz-ew.a.run.app',
 *     emails: ['invoker@example-project.iam.gserviceaccount.com'],
 *   }),
 * })
 * ```
 */
export function google(options: GoogleOptions): readonly IssuerOptions[] {
  const where = 'google()'
  const given = presetOptions<GoogleOptions>(options, OPTIONS, where)
  const audience = requiredList(where, 'audience', given.audience)
  // Checked as `unknown`: options come from JavaScript too.
  if ((given.emails as unknown) === undefined) {
    fail(where, `"emails" is required: the accounts allowed to call, or 'any'`)
  }
  const emails = given.emails === 'any' ? undefined : requiredList(where, 'emails', given.emails)
  const requiredClaimValues = {
    email_verified: true,
    ...(emails === undefined ? {} : { email: emails }),
  }
  return frozen(
    ['https://accounts.google.com', 'accounts.google.com'].map((issuer) => ({
      issuer,
      jwksUri: JWKS_URI,
      audience,
      requiredClaimValues,
      scopeClaims: [],
    })),
  )
}
