import { MissingCredentialsError, isBearerGuardError } from '@bearer-guard/core'
import type { BearerGuardNext, BearerGuardRequest, BearerGuardResponse } from './types.js'

/**
 * How refusals are delivered: `'respond'` answers them here, `'next'` passes them to `next(err)`
 * for the application's error handler.
 */
export type ErrorMode = 'respond' | 'next'

// The mode of the guard that verified a request, so route helpers refuse the same way without
// being told again. A WeakMap keeps it off the request object and lets it go with the request.
const modes = new WeakMap<BearerGuardRequest, ErrorMode>()

/** Checks the `errors` option once, when the guard is created. */
export function checkErrorMode(value: unknown): ErrorMode {
  if (value === undefined) return 'respond'
  if (value === 'respond' || value === 'next') return value
  throw new TypeError('bearer-guard: "errors" must be "respond" or "next"')
}

export function rememberErrorMode(req: BearerGuardRequest, mode: ErrorMode): void {
  // 'respond' is what errorModeOf answers for a request it does not know, so the default mode
  // writes nothing per request; it only overwrites what an earlier guard on the request set.
  if (mode !== 'respond' || modes.has(req)) modes.set(req, mode)
}

// Requests an optional guard let through without credentials, with its realm: a route helper
// after it answers them as the guard would have without `optional` (401, no `error`).
const anonymous = new WeakMap<BearerGuardRequest, string | undefined>()

export function rememberAnonymous(req: BearerGuardRequest, realm: string | undefined): void {
  anonymous.set(req, realm)
}

/** The refusal for an anonymous caller of a route that needs scopes, if `req` is one. */
export function anonymousRefusal(req: BearerGuardRequest): MissingCredentialsError | undefined {
  return anonymous.has(req) ? new MissingCredentialsError({ realm: anonymous.get(req) }) : undefined
}

export function errorModeOf(req: BearerGuardRequest): ErrorMode {
  return modes.get(req) ?? 'respond'
}

/**
 * Renders a bearer-guard refusal as CONTRACT.md says (status, `WWW-Authenticate`, `Retry-After`,
 * RFC 6750 JSON body), or hands it to `next`. Any other error always goes to `next`.
 */
export function refuse(
  error: unknown,
  mode: ErrorMode,
  res: BearerGuardResponse,
  next: BearerGuardNext,
): void {
  if (mode === 'respond' && isBearerGuardError(error) && !res.headersSent) {
    res.status(error.status).set(error.headers).json(error.body)
    return
  }
  next(error)
}
