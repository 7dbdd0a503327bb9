import { onKeySetFailure } from './adapter.js'
import type { AccessTokenValidator } from './validator.js'

/**
 * Where an adapter's guard writes what an operator must see, one line each and never with token
 * content: the start of each key-set failure episode (requests then get 503), a guard mounted
 * where it guards nothing, an unexpected failure. `console` fits, and so do pino, winston and most
 * other loggers.
 */
export interface BearerGuardLogger {
  /** Receives one line, without token content. */
  warn(message: string): void
}

/**
 * Checks an adapter's `logger` option once, when the guard is created: `undefined` (the default)
 * is `console`, `false` silences (returns `undefined`), anything else needs `warn(message)`.
 */
export function checkLogger(value: unknown): BearerGuardLogger | undefined {
  if (value === undefined) return console
  if (value === false) return undefined
  if (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as Partial<BearerGuardLogger>).warn === 'function'
  ) {
    return value as BearerGuardLogger
  }
  throw new TypeError('bearer-guard: "logger" must have a warn(message) method, or be false')
}

/** Writes `message`; a throwing logger must not break a request, a call or the set-up. */
export function warn(logger: BearerGuardLogger | undefined, message: string): void {
  try {
    logger?.warn(message)
  } catch {
    // Nothing sensible to do: the line is lost, the guard keeps working.
  }
}

// Guards sharing a prebuilt validator (and a logger, e.g. the default `console`) report each
// failure episode once, not once per guard.
const subscribed = new WeakMap<AccessTokenValidator, WeakSet<BearerGuardLogger>>()

/**
 * Reports every key-set failure episode of `validator` (see {@link onKeySetFailure}) through
 * `logger`, once per validator and logger, however many guards share them.
 */
export function reportKeySetFailures(
  validator: AccessTokenValidator,
  logger: BearerGuardLogger | undefined,
): void {
  if (logger === undefined) return
  let loggers = subscribed.get(validator)
  if (loggers === undefined) subscribed.set(validator, (loggers = new WeakSet()))
  if (loggers.has(logger)) return
  loggers.add(logger)
  onKeySetFailure(validator, (failure) => {
    warn(logger, failure.message)
  })
}
