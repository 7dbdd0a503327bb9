/**
 * The fleet's unknown-`kid` refetch coordinator: one key-set fetch per issuer and cooldown for
 * every instance of a deployment, whatever the number of instances a flood of made-up `kid`s
 * reaches (see core's `KeyRefetchCoordinator`).
 */
import type { KeyRefetchCoordinator } from '@bearer-guard/core'
import { closeClient, monitorOf, openClient, type Monitor } from './connection.js'
import { digest, type Keys, keysOf } from './keys.js'
import { BASE_NAMES, knownKeys, resolveBase, type RedisKeyRefetchOptions } from './options.js'
import { CLAIM_REFETCH } from './scripts.js'

/** Most `kid`s published (an issuer's JWKS is truncated to 100 keys by core too). */
const MAX_KIDS = 100
/** Longest published `kid` kept; longer ones are dropped (no real key has one). */
const MAX_KID_LENGTH = 256

/**
 * A {@link KeyRefetchCoordinator} on Redis. A claim is one atomic script: `SET
 * <namespace>:keys:<sha256(issuer)>:claim 1 NX PX <cooldown>`, and, when it wins, `DEL` of what
 * the previous winner published, so no instance reads a stale answer. The winner then writes the
 * `kid`s it fetched (a JSON array, with the same TTL); the others `GET` them.
 *
 * Only `kid`s are stored, never key material: someone able to write to this Redis can at most
 * make instances fetch the configured issuer's keys once more, never make a key trusted.
 * **Fails open, on purpose**: when Redis is down or slow (`commandTimeout`), core refetches on
 * its own as it would without a coordinator. The coordinator saves the issuer requests; it is not
 * a security check.
 *
 * @example
 * ```ts
 * import { createAccessTokenValidator } from '@bearer-guard/core'
 * import { RedisKeyRefetchCoordinator } from '@bearer-guard/redis'
 *
 * const keyRefetch = new RedisKeyRefetchCoordinator({ url: process.env.REDIS_URL!, namespace: 'orders-api:prod' })
 * const validator = createAccessTokenValidator({
 *   issuer: 'https://auth.example.com/',
 *   audience: 'https://api.example.com',
 *   keyRefetchCoordinator: keyRefetch,
 * })
 * ```
 */
export class RedisKeyRefetchCoordinator implements KeyRefetchCoordinator {
  readonly #monitor: Monitor
  readonly #owned: boolean
  readonly #keys: Keys
  readonly #timeout: number
  #closed = false

  /** @throws `TypeError` for a missing or invalid option, or an unknown one. */
  constructor(options: RedisKeyRefetchOptions) {
    knownKeys(options, BASE_NAMES, 'RedisKeyRefetchCoordinator')
    const base = resolveBase(options)
    this.#keys = keysOf(base.namespace)
    this.#timeout = base.timeout
    const { connection } = base
    this.#owned = !('client' in connection)
    this.#monitor = monitorOf(
      'client' in connection ? connection.client : openClient(connection.url),
      'commands',
    )
  }

  /** {@inheritDoc @bearer-guard/core#KeyRefetchCoordinator.claim} */
  async claim(issuer: string, ttl: number): Promise<boolean> {
    this.#open()
    const { claim, kids } = this.#names(issuer)
    const reply = await this.#monitor.script(
      CLAIM_REFETCH,
      [claim, kids],
      [String(Math.max(1, Math.ceil(ttl)))],
      this.#timeout,
    )
    return reply === 1
  }

  /** {@inheritDoc @bearer-guard/core#KeyRefetchCoordinator.publish} */
  async publish(issuer: string, kids: readonly string[], ttl: number): Promise<void> {
    this.#open()
    const list = kids.filter((k) => k.length <= MAX_KID_LENGTH).slice(0, MAX_KIDS)
    await this.#monitor.command(
      [
        'SET',
        this.#names(issuer).kids,
        JSON.stringify(list),
        'PX',
        String(Math.max(1, Math.ceil(ttl))),
      ],
      this.#timeout,
    )
  }

  /** {@inheritDoc @bearer-guard/core#KeyRefetchCoordinator.lookup} */
  async lookup(issuer: string): Promise<readonly string[] | undefined> {
    this.#open()
    const reply = await this.#monitor.command(['GET', this.#names(issuer).kids], this.#timeout)
    if (reply === null) return undefined
    const list: unknown = typeof reply === 'string' ? JSON.parse(reply) : undefined
    if (!Array.isArray(list)) throw unexpected()
    const kids: string[] = []
    for (const kid of list.slice(0, MAX_KIDS) as unknown[]) {
      if (typeof kid !== 'string') throw unexpected()
      kids.push(kid)
    }
    return kids
  }

  /** Stops using Redis (core then refetches on its own); closes the client if it opened it. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#monitor.release()
    if (this.#owned) await closeClient(this.#monitor.client)
  }

  #open(): void {
    if (this.#closed) throw new Error('bearer-guard: the Redis key refetch coordinator is closed')
  }

  #names(issuer: string): { claim: string; kids: string } {
    const base = `${this.#keys.prefix}:keys:${digest(issuer)}`
    return { claim: `${base}:claim`, kids: `${base}:kids` }
  }
}

function unexpected(): Error {
  return new Error('bearer-guard: unexpected value in Redis for the published kids')
}
