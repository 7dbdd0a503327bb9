import { expect } from 'vitest'
import {
  BearerGuardError,
  InvalidTokenError,
  KeySetUnavailableError,
  type InvalidTokenCode,
} from '../../src/index.js'

/** The audience every test token is minted for (the test issuer's default). */
export const AUDIENCE = 'https://api.example.com'

/** A clock the test moves by hand: the validator and the test issuer share it. */
export interface ManualClock {
  readonly now: () => number
  advance(ms: number): void
}

/** A clock frozen at a whole second near the real time, moved only by `advance`. */
export function manualClock(): ManualClock {
  let current = Math.floor(Date.now() / 1000) * 1000
  return {
    now: () => current,
    advance(ms: number) {
      current += ms
    },
  }
}

/** The bearer-guard error a promise rejects with; fails the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<BearerGuardError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof BearerGuardError) return error
    throw error
  }
  throw new Error('expected the promise to reject, but it resolved')
}

/** Asserts a 401 `invalid_token` with this code. */
export async function expectInvalid(
  promise: Promise<unknown>,
  code: InvalidTokenCode,
): Promise<InvalidTokenError> {
  const error = await rejection(promise)
  if (!(error instanceof InvalidTokenError)) {
    throw new Error(`expected InvalidTokenError ${code}, got ${error.name} ${error.code}`)
  }
  expect(error.code).toBe(code)
  expect(error.status).toBe(401)
  expect(error.challenge).toContain('error="invalid_token"')
  return error
}

/**
 * Asserts a 503 {@link KeySetUnavailableError}: `Retry-After` header equal to `retryAfter`
 * (seconds), the `temporarily_unavailable` body, and no `invalid_token` in the challenge (which
 * would make clients throw away good tokens).
 */
export async function expectUnavailable(
  promise: Promise<unknown>,
  retryAfter = 10,
): Promise<KeySetUnavailableError> {
  const unavailable = await rejection(promise)
  if (!(unavailable instanceof KeySetUnavailableError)) {
    throw new Error(`expected KeySetUnavailableError, got ${unavailable.name} ${unavailable.code}`)
  }
  expect(unavailable.status).toBe(503)
  expect(unavailable.code).toBe('ERR_KEYSET_UNAVAILABLE')
  expect(unavailable.retryAfter).toBe(retryAfter)
  expect(unavailable.headers['Retry-After']).toBe(String(retryAfter))
  expect(unavailable.body).toEqual({
    error: 'temporarily_unavailable',
    error_description: expect.any(String),
  })
  expect(unavailable.challenge).not.toContain('invalid_token')
  return unavailable
}

/** Resolves after `ms` real milliseconds (only to let background work settle, never to time). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
