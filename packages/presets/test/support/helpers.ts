import {
  BearerGuardError,
  InvalidTokenError,
  createAccessTokenValidator,
  type AccessTokenValidator,
  type InvalidTokenCode,
  type IssuerOptions,
} from '@bearer-guard/core'
import { expect } from 'vitest'

/**
 * A preset's entries with their keys taken from a test issuer on 127.0.0.1 instead of the real
 * provider's URL (unreachable here): `jwksUri` replaced (static `keys` dropped), nothing else
 * touched. `jwksUri` may depend on the entry, for presets with one key set per issuer.
 */
export function withKeysFrom(
  entries: readonly IssuerOptions[],
  jwksUri: string | ((entry: IssuerOptions) => string),
): IssuerOptions[] {
  return entries.map(({ keys: _keys, jwksUri: _jwksUri, ...rest }) => ({
    ...rest,
    jwksUri: typeof jwksUri === 'string' ? jwksUri : jwksUri({ ...rest }),
  }))
}

/** A validator over these issuer entries and nothing else. */
export function validatorOf(entries: readonly IssuerOptions[]): AccessTokenValidator {
  return createAccessTokenValidator({ issuer: entries })
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

/** Asserts a 401 `invalid_token` with this code, and returns the error. */
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

/** The scopes of a verified token, sorted. */
export function sorted(scopes: ReadonlySet<string>): string[] {
  return [...scopes].sort()
}
