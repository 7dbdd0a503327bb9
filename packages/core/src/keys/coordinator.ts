import type { MaybePromise } from '../options/validator-options.js'

/**
 * Coordinates the refetches that a `kid` the key set does not hold triggers, across every
 * instance of a deployment (`@bearer-guard/redis` implements it). Without one, each instance
 * refetches at most once per `unknownKeyCooldown`; a fleet of N instances flooded with tokens
 * naming made-up `kid`s then costs the issuer N fetches per cooldown. With one, it costs one:
 *
 * 1. an instance that meets an unknown `kid` {@link claim}s the refetch of that issuer for the
 *    cooldown; exactly one instance of the fleet wins it;
 * 2. the winner fetches the key set and {@link publish}es the `kid`s it found;
 * 3. the others {@link lookup} those `kid`s (waiting at most the fetch timeout for the winner):
 *    when the issuer really published a key they do not hold (a rotation), each fetches the key
 *    set itself; otherwise the `kid` is unknown and they answer 401 without any request.
 *
 * Only key identifiers travel through the coordinator, never key material: whoever can write to
 * the shared store can at most cause fetches from the configured issuer, not make a key trusted.
 * A coordinator that fails (rejects or throws) is bypassed: the instance refetches on its own, as
 * without one. It is an economy for the issuer, not a security check.
 */
export interface KeyRefetchCoordinator {
  /**
   * Claims the one unknown-`kid` refetch of `issuer`'s keys for the next `ttl` milliseconds: true
   * for exactly one caller across the fleet in that period, false for every other.
   */
  claim(issuer: string, ttl: number): MaybePromise<boolean>
  /** Records the `kid`s the winner's refetch found, for `ttl` milliseconds. */
  publish(issuer: string, kids: readonly string[], ttl: number): MaybePromise<void>
  /** The `kid`s the last winner published, or `undefined` while none are (its fetch still runs). */
  lookup(issuer: string): MaybePromise<readonly string[] | undefined>
}
