import { channel } from 'node:diagnostics_channel'
import type { BearerGuardErrorCode } from './challenge/errors.js'

/**
 * Names of the `node:diagnostics_channel` channels bearer-guard publishes on. Subscribing costs
 * nothing when nobody listens: messages are only built when a channel has subscribers.
 * No message ever holds a token, a `kid` or any other unverified value.
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel'
 * import { channels, type VerifyEvent } from '@bearer-guard/core'
 *
 * subscribe(channels.verify, (message) => {
 *   const event = message as VerifyEvent
 *   counter.inc({ outcome: event.outcome, cached: String(event.cached) })
 * })
 * ```
 */
export const channels = Object.freeze({
  /** Every verification: {@link VerifyEvent}. */
  verify: 'bearer-guard:verify',
  /** A discovery or JWKS fetch starts: {@link KeySetFetchStartEvent}. */
  keySetFetchStart: 'bearer-guard:keyset:fetch:start',
  /** A discovery or JWKS fetch succeeded: {@link KeySetFetchEndEvent}. */
  keySetFetchEnd: 'bearer-guard:keyset:fetch:end',
  /** A discovery or JWKS fetch failed: {@link KeySetFetchErrorEvent}. */
  keySetFetchError: 'bearer-guard:keyset:fetch:error',
  /** Keys past their maximum age were served while a refresh runs or fails: {@link KeySetStaleEvent}. */
  keySetStale: 'bearer-guard:keyset:stale',
})

/** Published on {@link channels}.verify after every verification. */
export interface VerifyEvent {
  /** The verified token's issuer; `undefined` when the token was refused. */
  readonly issuer: string | undefined
  /** `'ok'`, or the stable code of the refusal. */
  readonly outcome: 'ok' | BearerGuardErrorCode
  /** True when the result came from the verified-token cache. */
  readonly cached: boolean
}

/** Why a key-set fetch was started. */
export type KeySetFetchReason = 'initial' | 'refresh' | 'unknown-kid'

/** Published on {@link channels}.keySetFetchStart. */
export interface KeySetFetchStartEvent {
  readonly issuer: string
  readonly reason: KeySetFetchReason
}

/** Published on {@link channels}.keySetFetchEnd. */
export interface KeySetFetchEndEvent {
  readonly issuer: string
  readonly reason: KeySetFetchReason
  /** Duration of discovery (if needed) and the JWKS request, in milliseconds. */
  readonly durationMs: number
  /** Usable keys in the new set. */
  readonly keys: number
}

/** Published on {@link channels}.keySetFetchError. */
export interface KeySetFetchErrorEvent {
  readonly issuer: string
  readonly reason: KeySetFetchReason
  readonly durationMs: number
  /** The failure (a network error, a status, a size or JSON problem); never token content. */
  readonly error: unknown
}

/** Published on {@link channels}.keySetStale. */
export interface KeySetStaleEvent {
  readonly issuer: string
  /** Age of the served key set, in milliseconds. */
  readonly ageMs: number
}

/** @internal */
export const verifyChannel = channel(channels.verify)
/** @internal */
export const fetchStartChannel = channel(channels.keySetFetchStart)
/** @internal */
export const fetchEndChannel = channel(channels.keySetFetchEnd)
/** @internal */
export const fetchErrorChannel = channel(channels.keySetFetchError)
/** @internal */
export const staleChannel = channel(channels.keySetStale)
