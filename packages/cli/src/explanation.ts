import type { BearerGuardErrorCode } from '@bearer-guard/core'
import type { TokenFingerprint } from './token.js'

/**
 * The checks of an explanation, in the order core runs them. `issuer-selection` appears only with
 * several issuers (the unverified `iss` picks whose keys verify the token), `key-issuer` only when
 * the signing key is bound to an issuer (Entra). `route` is skipped when no route needs are given.
 */
export type StepId =
  | 'format'
  | 'issuer-selection'
  | 'header'
  | 'key'
  | 'signature'
  | 'time'
  | 'issuer'
  | 'audience'
  | 'token-type'
  | 'claims'
  | 'key-issuer'
  | 'scopes'
  | 'binding'
  | 'route'

/** `pass`, `fail`, or `skip` (cannot be evaluated: an earlier step left nothing to check). */
export type StepStatus = 'pass' | 'fail' | 'skip'

/** One check, explained. */
export interface ExplainStep {
  readonly id: StepId
  /** What explain finds, from the token and the settings. */
  readonly status: StepStatus
  /**
   * Whether the API gets this far: core stops at the first failure, so later steps only say what
   * it would find next (after fixing the first problem).
   */
  readonly reached: boolean
  /** The stable error code this failure causes in core; `undefined` unless `status` is `fail`. */
  readonly code: BearerGuardErrorCode | undefined
  /** One line, in plain words. Token values are quoted; the token itself never appears. */
  readonly summary: string
  /** Further lines: values compared, durations, hints. */
  readonly details: readonly string[]
}

/** Core's verdict: what the API answers, exactly. */
export interface Verdict {
  /** `accepted` (200), `refused` (400, 401, 403) or `unavailable` (503: keys cannot be obtained). */
  readonly outcome: 'accepted' | 'refused' | 'unavailable'
  readonly status: 200 | 400 | 401 | 403 | 503
  /** The stable error code, when refused or unavailable. */
  readonly code: BearerGuardErrorCode | undefined
  /** The RFC 6750 (or RFC 9449) `error`, when there is one. */
  readonly error: string | undefined
  /** The `error_description` (never holds token content). */
  readonly description: string | undefined
  /** The response headers of the refusal: `WWW-Authenticate`, and `Retry-After` with a 503. */
  readonly headers: Readonly<Record<string, string>>
  /** Why keys could not be obtained (discovery, JWKS), with expected and actual values. */
  readonly causes: readonly string[]
}

/** One request core made for keys. */
export interface KeyFetch {
  readonly url: string
  /** `discovery` or `jwks`. */
  readonly kind: 'discovery' | 'jwks'
  readonly status: number | undefined
  /** Why no response arrived. */
  readonly error: string | undefined
}

/** A key of the key set, described (public information only). */
export interface KeyDescription {
  readonly kid: string | undefined
  readonly kty: string
  readonly crv: string | undefined
  readonly alg: string | undefined
  readonly use: string | undefined
  /** RSA modulus length, in bits. */
  readonly bits: number | undefined
  /** False for an entry core skips; `note` says why. */
  readonly usable: boolean
  readonly note: string | undefined
}

/** The full explanation of one token against one API's settings. */
export interface Explanation {
  /** The token's length and SHA-256 prefix; the token itself is never part of an explanation. */
  readonly token: TokenFingerprint
  /** The decoded JOSE header, when it decodes (unverified unless the signature step passes). */
  readonly header: Readonly<Record<string, unknown>> | undefined
  /** The decoded claims, when they decode (unverified unless the signature step passes). */
  readonly claims: Readonly<Record<string, unknown>> | undefined
  /** The instant the token was evaluated at, in milliseconds since the epoch. */
  readonly at: number
  /** The settings compared with, as resolved. */
  readonly settings: {
    readonly issuers: readonly string[]
    readonly audiences: readonly string[]
    /** When the audience is read from another claim than `aud` (Cognito: `client_id`). */
    readonly audienceClaim: string
    /** Seconds. */
    readonly clockTolerance: number
    /** The route's needs (`allOf`, `anyOf`), when given. */
    readonly route: { readonly allOf?: readonly string[]; readonly anyOf?: readonly string[] }
  }
  /** Where the keys of the token's issuer came from, and what they are. */
  readonly keys: {
    readonly source: 'discovery' | 'jwksUri' | 'static' | 'secret' | 'none'
    readonly fetches: readonly KeyFetch[]
    readonly keys: readonly KeyDescription[]
  }
  /** Every check, in core's order. */
  readonly steps: readonly ExplainStep[]
  /** Core's verdict. */
  readonly verdict: Verdict
  /**
   * True when the first step explain finds failing carries the code core refused with (or none
   * fails and core accepted). False would be a bug in explain: the verdict is core's regardless.
   */
  readonly agrees: boolean
}
