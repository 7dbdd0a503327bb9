/**
 * The fleet's DPoP replay store (RFC 9449 §11.1): one `SET key 1 NX PX ttl` per proof, so a proof
 * accepted by one instance is refused by every other.
 */
import type { ReplayStore } from '@bearer-guard/core'
import { closeClient, monitorOf, openClient, type Monitor } from './connection.js'
import { keysOf, type Keys } from './keys.js'
import {
  BASE_NAMES,
  REPLAY_NAMES,
  knownKeys,
  resolveBase,
  seconds,
  type RedisReplayStoreOptions,
} from './options.js'

/**
 * A {@link ReplayStore} on Redis, shared by every instance of a deployment. A claim is one atomic
 * `SET <namespace>:replay:<sha256(id)> 1 NX PX <ttl>`: true when this call set it, false when
 * any instance claimed the id before. The TTL is the time left until `expiresAt` (at least 1 ms),
 * so Redis forgets the id when the proof could no longer be accepted anyway.
 *
 * **Fails closed**: when Redis is down, refuses the command, or does not answer within
 * `commandTimeout`, the claim rejects, and core refuses the DPoP request (401
 * `invalid_dpop_proof`); it is never accepted unchecked. Plain Bearer requests never claim, and
 * keep working. The client reconnects by itself; claims succeed again once it has.
 *
 * @example
 * ```ts
 * import { createAccessTokenValidator } from '@bearer-guard/core'
 * import { RedisReplayStore } from '@bearer-guard/redis'
 *
 * const replayStore = new RedisReplayStore({ url: process.env.REDIS_URL!, namespace: 'orders-api:prod' })
 * const validator = createAccessTokenValidator({
 *   issuer: 'https://auth.example.com/',
 *   audience: 'https://api.example.com',
 *   dpop: { origin: 'https://api.example.com', replayStore },
 * })
 * // at shutdown
 * await replayStore.close()
 * ```
 */
export class RedisReplayStore implements ReplayStore {
  readonly #monitor: Monitor
  readonly #owned: boolean
  readonly #keys: Keys
  readonly #timeout: number
  readonly #clock: () => number
  readonly #maxTtl: number
  #closed = false
  readonly #waiting = new Set<(error: Error) => void>()

  /** @throws `TypeError` for a missing or invalid option, or an unknown one. */
  constructor(options: RedisReplayStoreOptions) {
    knownKeys(options, [...BASE_NAMES, ...REPLAY_NAMES], 'RedisReplayStore')
    const base = resolveBase(options)
    this.#maxTtl = seconds('maxTtl', options.maxTtl, 600) * 1000
    this.#keys = keysOf(base.namespace)
    this.#timeout = base.timeout
    this.#clock = base.clock
    const { connection } = base
    this.#owned = !('client' in connection)
    this.#monitor = monitorOf(
      'client' in connection ? connection.client : openClient(connection.url),
      'commands',
    )
  }

  /**
   * Resolves once connected to Redis: claims made before fail closed. Rejects when the store is
   * closed first.
   */
  ready(): Promise<void> {
    if (this.#closed) return Promise.reject(closedError())
    return new Promise((resolve, reject) => {
      this.#waiting.add(reject)
      void this.#monitor.whenReady().then(() => {
        this.#waiting.delete(reject)
        resolve()
      })
    })
  }

  /**
   * {@inheritDoc @bearer-guard/core#ReplayStore.claimOnce}
   *
   * Rejects (fail closed) when Redis cannot answer within `commandTimeout`, when the store is
   * closed, and with a `RangeError` when `expiresAt` is more than `maxTtl` away.
   */
  claimOnce(id: string, expiresAt: number): Promise<boolean> {
    if (typeof id !== 'string' || id === '') {
      return Promise.reject(new TypeError('bearer-guard: a replay id must be a non-empty string'))
    }
    if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) {
      return Promise.reject(
        new TypeError('bearer-guard: "expiresAt" must be a finite number of milliseconds'),
      )
    }
    if (this.#closed) return Promise.reject(closedError())
    const ttl = Math.ceil(expiresAt - this.#clock())
    if (ttl > this.#maxTtl) {
      return Promise.reject(
        new RangeError(
          `bearer-guard: a replay id must be kept ${ttl} ms, more than 'maxTtl' allows; raise it`,
        ),
      )
    }
    const key = this.#keys.replay(id)
    return this.#monitor
      .command(['SET', key, '1', 'NX', 'PX', String(Math.max(1, ttl))], this.#timeout)
      .then(claimed)
  }

  /**
   * Stops using Redis: later claims reject. Closes the client if the store opened it (`url`);
   * a client you gave is left open.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const reject of this.#waiting) reject(closedError())
    this.#waiting.clear()
    this.#monitor.release()
    if (this.#owned) await closeClient(this.#monitor.client)
  }
}

function closedError(): Error {
  return new Error('bearer-guard: the Redis replay store is closed')
}

/** `OK`: this call set the key; `null`: it existed. Anything else is not an answer to trust. */
function claimed(reply: unknown): boolean {
  if (reply === 'OK') return true
  if (reply === null) return false
  throw new Error('bearer-guard: unexpected reply from Redis to SET NX')
}
