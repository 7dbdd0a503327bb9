/**
 * `@bearer-guard/core/adapter`: what framework adapters (ours, or one you write) need beyond the
 * public API: the synchronous-when-possible verification, turning options into a validator,
 * reporting key-set failures through the framework's logger, recognising CORS preflights, and the
 * headers a verified request's response carries. Applications do not need this subpath.
 *
 * @packageDocumentation
 */
import { nonceToSend } from './binding/stage.js'
import type { KeySetFailure } from './keys/remote.js'
import type { MaybePromise } from './options/validator-options.js'
import type { BearerRequest } from './request.js'
import type { VerifiedAccessToken } from './types.js'
import {
  metadataPath,
  resourceMetadataDocument,
  type ResourceMetadataInfo,
} from './metadata/resource.js'
import {
  KEYSET_FAILURE_LISTENERS,
  RESOURCE_METADATA,
  VERIFY_NOW,
  type AccessTokenValidator,
} from './validator.js'

export { resolveValidator } from './resolve-validator.js'
export { checkLogger, reportKeySetFailures, warn } from './adapter-logger.js'
export type { BearerGuardLogger } from './adapter-logger.js'
export type { AdapterOptionNames, ValidatorSource } from './resolve-validator.js'
export { VALIDATOR_OPTION_NAMES } from './options/validator-options.js'
export { assertKnownOptions } from './options/names.js'
export { watchExpiry } from './watch-expiry.js'
export type { KeySetFailure } from './keys/remote.js'
export type { MaybePromise } from './options/validator-options.js'

/**
 * Receives the outcome of {@link verifyRequestCallback}: an error (anything `verifyRequest` rejects
 * with) or the verified token.
 */
export type VerifyCallback = (error: unknown, auth: VerifiedAccessToken | undefined) => void

/**
 * `validator.verifyRequest` in callback form, for framework adapters: `callback` is called exactly
 * once, **synchronously** (before this returns) whenever the answer is known without waiting (a
 * cached token, a token verified with keys already loaded, a refusal), and later only while keys
 * are fetched. A cached request so costs no promise and no microtask. A `callback` that throws is
 * a bug: on the synchronous path the throw propagates to the caller, on the later path it becomes
 * an unhandled rejection. With `optional`, a request without credentials answers `(null,
 * undefined)`: anonymous, where a sent token must still be valid.
 */
export function verifyRequestCallback(
  validator: AccessTokenValidator,
  request: BearerRequest,
  callback: VerifyCallback,
  optional = false,
): void {
  const now = (validator as unknown as Record<symbol, unknown>)[VERIFY_NOW] as
    | ((request: BearerRequest, optional: boolean) => MaybePromise<VerifiedAccessToken | undefined>)
    | undefined
  let outcome: MaybePromise<VerifiedAccessToken | undefined>
  try {
    outcome =
      now === undefined ? validator.verifyRequest(request, { optional }) : now(request, optional)
  } catch (error) {
    callback(error, undefined)
    return
  }
  if (outcome instanceof Promise) {
    outcome.then(
      (auth) => {
        callback(null, auth)
      },
      (error: unknown) => {
        callback(error, undefined)
      },
    )
  } else callback(null, outcome)
}

/**
 * Calls `listener` once per key-set failure episode of `validator` (the first failed discovery or
 * JWKS load since start-up or since the last success), so an adapter can log it through its
 * framework's logger. Nothing is reported for a validator that uses static keys or a secret.
 *
 * @returns A function that removes the listener.
 */
export function onKeySetFailure(
  validator: AccessTokenValidator,
  listener: (failure: KeySetFailure) => void,
): () => void {
  const listeners = (validator as unknown as Record<symbol, unknown>)[KEYSET_FAILURE_LISTENERS]
  if (!(listeners instanceof Set)) return () => undefined
  const set = listeners as Set<(failure: KeySetFailure) => void>
  set.add(listener)
  return () => {
    set.delete(listener)
  }
}

/** Request headers as Node and the frameworks keep them (lower-case names). */
type Headers = Readonly<Record<string, string | readonly string[] | undefined>>

/**
 * True for a CORS preflight request: `OPTIONS` with `Origin` and `Access-Control-Request-Method`
 * (Fetch standard, "CORS-preflight request"), and no `Authorization`: browsers never send
 * credentials on a preflight, so a guard must let it through to the CORS handler instead of
 * answering 401. An `OPTIONS` request that does carry credentials is verified as usual.
 */
export function isCorsPreflight(method: string | undefined, headers: Headers): boolean {
  return (
    method === 'OPTIONS' &&
    headers.origin !== undefined &&
    headers['access-control-request-method'] !== undefined &&
    headers.authorization === undefined
  )
}

/**
 * The headers to set on the response to a request core verified: `{ 'DPoP-Nonce': … }` when the
 * validator requires DPoP nonces and the request's proof did not carry the freshest one, so the
 * client holds the next nonce before its own stops being accepted (RFC 9449 §8.2: "including a
 * DPoP-Nonce HTTP header in the HTTP 200 (OK) response"); `undefined` (nothing to set) otherwise.
 * `request` must be the very object given to {@link verifyRequestCallback} or `verifyRequest`.
 * Refusals need no call: their headers are on the error (`error.headers`).
 */
export function responseHeaders(
  request: BearerRequest,
): Readonly<Record<string, string>> | undefined {
  const nonce = nonceToSend.get(request)
  return nonce === undefined ? undefined : { 'DPoP-Nonce': nonce }
}

/** An API's RFC 9728 metadata, ready to serve. */
export interface ResourceMetadata {
  /** The path to serve it at (RFC 9728 §3.1), e.g. `/.well-known/oauth-protected-resource/p`. */
  readonly path: string
  /** The JSON document (RFC 9728 §2). */
  readonly document: Readonly<Record<string, unknown>>
}

/**
 * The RFC 9728 protected resource metadata of `validator`, when it has a `resource`;
 * `scopesSupported` are the scopes the adapter's routes can need (collected from their policies).
 * `undefined` when no `resource` is configured: nothing is to be served then.
 */
export function resourceMetadata(
  validator: AccessTokenValidator,
  scopesSupported: readonly string[] = [],
): ResourceMetadata | undefined {
  const info = (validator as unknown as Record<symbol, unknown>)[RESOURCE_METADATA] as
    ResourceMetadataInfo | undefined
  if (info === undefined) return undefined
  return { path: metadataPath(info), document: resourceMetadataDocument(info, scopesSupported) }
}
