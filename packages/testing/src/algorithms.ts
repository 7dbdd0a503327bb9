/**
 * A JWS algorithm the test issuer can generate keys for and sign with.
 *
 * `EdDSA` keys are Ed25519 keys.
 */
export type TestAlgorithm =
  'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA'

/** Every {@link TestAlgorithm}, in a stable order (handy for `it.each`). */
export const TEST_ALGORITHMS: readonly TestAlgorithm[] = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
])

/** Whether `value` is a {@link TestAlgorithm}. */
export function isTestAlgorithm(value: unknown): value is TestAlgorithm {
  return typeof value === 'string' && (TEST_ALGORITHMS as readonly string[]).includes(value)
}

// The JWS `alg` values a key of each algorithm can produce. RSA keys are not bound to one hash or
// padding, so an RS256 key may also sign PS512 (useful for "right key, unexpected alg" tests);
// EC keys are bound to their curve.
const COMPATIBLE: Readonly<Record<TestAlgorithm, readonly string[]>> = (() => {
  const rsa = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
  return {
    RS256: rsa,
    RS384: rsa,
    RS512: rsa,
    PS256: rsa,
    PS384: rsa,
    PS512: rsa,
    ES256: ['ES256'],
    ES384: ['ES384'],
    ES512: ['ES512'],
    EdDSA: ['EdDSA', 'Ed25519'],
  }
})()

/** The JWS `alg` values a key generated for `keyAlg` can sign with. */
export function compatibleAlgorithms(keyAlg: TestAlgorithm): readonly string[] {
  return COMPATIBLE[keyAlg]
}

/** Throws a `TypeError` naming `what` unless `value` is a {@link TestAlgorithm}. */
export function assertTestAlgorithm(what: string, value: unknown): asserts value is TestAlgorithm {
  if (!isTestAlgorithm(value)) {
    throw new TypeError(
      `${what} must be one of ${TEST_ALGORITHMS.join(', ')}; got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`,
    )
  }
}
