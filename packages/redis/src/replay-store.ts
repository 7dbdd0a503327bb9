/**
 * The fleet's DPoP replay store (RFC 9449 §11.1): one `SET key 1 NX PX ttl` per proof, so a proof
 * accepted by one instance is refused by every other.
 */
import type { ReplayStore } from '@bearer-guard/core'
import { closeClient, monitorOf, openClient, type Monitor } from './connection.js'
import { keysOf, type Keys } from './keys.js'
import { CLAIM_ONCE } from './scripts.js'
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
 * **Survives a Redis that loses its data.** A Redis restarted without persistence has forgotten
 * every claimed id, so a proof accepted before the restart could be accepted again. Each store
 * marks, when it connects, the time Redis's memory of ids begins (`<namespace>:replay-epoch`, set
 * only if absent); an emptied Redis gets a new, later mark, and a proof issued (`iat`) before it
 * is refused, since nothing can tell whether it was used. Clients retry with a fresh proof.
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
    this.#monitor.onReady(this.#markEpoch)
    if (this.#monitor.client.isReady) this.#markEpoch()
  }

  /** On every (re)connection: where Redis's memory of ids begins, if it has no mark yet. */
  readonly #markEpoch = (): void => {
    if (this.#closed) return
    this.#monitor
      .command(
        ['SET', this.#keys.replayEpoch, String(Math.floor(this.#clock())), 'NX'],
        this.#timeout,
      )
      .catch(() => undefined) // a claim sets it too, if this failed
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
  claimOnce(id: string, expiresAt: number, issuedAt?: number): Promise<boolean> {
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
    const issued =
      typeof issuedAt === 'number' && Number.isFinite(issuedAt) ? String(Math.floor(issuedAt)) : ''
    return this.#monitor
      .script(
        CLAIM_ONCE,
        [this.#keys.replay(id), this.#keys.replayEpoch],
        [String(Math.max(1, ttl)), issued, String(Math.floor(this.#clock()))],
        this.#timeout,
      )
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

/** 1: claimed now; 0: claimed before; -1: issued before Redis's memory begins. */
function claimed(reply: unknown): boolean {
  if (reply === 1) return true
  if (reply === 0) return false
  if (reply === -1) {
    throw new Error(
      'bearer-guard: the proof was issued before the replay store remembers (Redis lost its data); refused',
    )
  }
  throw new Error('bearer-guard: unexpected reply from Redis to the replay claim')
}
