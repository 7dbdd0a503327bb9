/**
 * Where the guard writes what an operator must see, one line each and never with token content:
 * the start of each key-set failure episode (upgrades then get 503) and an upgrade that failed
 * for a reason other than a refusal (a bug, answered with 500 or close code 1011).
 */
import type { AccessTokenValidator } from '@bearer-guard/core'
import { onKeySetFailure } from '@bearer-guard/core/adapter'

/** A logger: `console` fits, and so do pino, winston and most others. */
export interface BearerGuardLogger {
  /** Receives one line, without token content. */
  warn(message: string): void
}

/** Checks the `logger` option once; `undefined` means silenced. */
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

/** Writes `message`; a throwing logger must not break an upgrade. */
export function warn(logger: BearerGuardLogger | undefined, message: string): void {
  try {
    logger?.warn(message)
  } catch {
    // The line is lost; the guard keeps working.
  }
}

// Guards sharing a prebuilt validator and a logger report each failure episode once.
const subscribed = new WeakMap<AccessTokenValidator, WeakSet<BearerGuardLogger>>()

/** Reports every key-set failure episode of `validator` through `logger`, once per logger. */
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

/** The line for an unexpected failure: the error's class only, as its message is not ours. */
export function unexpected(where: string, error: unknown): string {
  const name = error instanceof Error ? error.name : typeof error
  return `bearer-guard: ${where} failed unexpectedly (${name}); answered without authenticating`
}
