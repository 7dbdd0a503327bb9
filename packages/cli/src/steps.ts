/**
 * What the explanation's steps share: how a step is built, and what each step is given.
 */
import type { BearerGuardErrorCode } from '@bearer-guard/core'
import type { ExplainStep, StepId } from './explanation.js'
import type { KeyInfo } from './keys.js'
import type { IssuerRules, ValidatorRules } from './rules.js'
import type { DecodedToken } from './token.js'

/** A step before it is known whether core reaches it. */
export type Found = Omit<ExplainStep, 'reached'>

export function pass(id: StepId, summary: string, details: readonly string[] = []): Found {
  return { id, status: 'pass', code: undefined, summary, details }
}

export function fail(
  id: StepId,
  code: BearerGuardErrorCode,
  summary: string,
  details: readonly string[] = [],
): Found {
  return { id, status: 'fail', code, summary, details }
}

export function skip(id: StepId, summary: string): Found {
  return { id, status: 'skip', code: undefined, summary, details: [] }
}

/** The keys of the token's issuer, as core held them when it verified. */
export type KeyState =
  | {
      readonly kind: 'static' | 'remote'
      /** Whether core could obtain them (static keys always). */
      readonly available: boolean
      readonly keys: readonly KeyInfo[]
      /** Why they could not be obtained. */
      readonly problem: string | undefined
      /** Core fetched the key set again for an unknown `kid`. */
      readonly refetched: boolean
    }
  | { readonly kind: 'secret'; readonly secret: string | Uint8Array }

/** The route's needs, as given to `authorize`. */
export interface RouteNeeds {
  readonly allOf?: readonly string[]
  readonly anyOf?: readonly string[]
}

/** Everything the steps read. */
export interface Context {
  readonly token: string
  readonly decoded: DecodedToken
  readonly rules: ValidatorRules
  /** The instant of evaluation, in milliseconds. */
  readonly at: number
  readonly keysOf: (issuer: IssuerRules) => KeyState
  readonly route: RouteNeeds | undefined
}

/** A payload or header member, own members only (never `Object.prototype`'s). */
export function own(object: Readonly<Record<string, unknown>>, name: string): unknown {
  return Object.hasOwn(object, name) ? object[name] : undefined
}
