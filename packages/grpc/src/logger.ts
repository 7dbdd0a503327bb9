import type { AccessTokenValidator } from '@bearer-guard/core'
import { onKeySetFailure } from '@bearer-guard/core/adapter'

/**
 * Where the guard writes what an operator must see, one line each and never with token content.
 * `console` fits, and so do pino, winston and most other loggers.
 */
export interface BearerGuardLogger {
  /** Receives one line. */
  warn(message: string): void
}

/** Checks the `logger` option once, when the guard is created; `undefined` means silenced. */
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

/** Writes `message`; a throwing logger must not break a call or the set-up. */
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
 * Reports every key-set failure episode of `validator` (core's `onKeySetFailure`: the first failed
 * discovery or key-set fetch since start-up or the last success) through `logger`, once.
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
