/**
 * Keeps an instance's revocation mirror current: the channel's messages as they come, a load of
 * both lists at start, on every reconnection of the subscriber and on a gap in the versions, and
 * every `syncInterval` one `GET` of the version to check that nothing was missed.
 */
import { keepErrorsHandled, monitorOf, type Monitor, type NodeRedisClient } from './connection.js'
import { syncChannel, type RedisSyncEvent } from './diagnostics.js'
import type { Keys } from './keys.js'
import type { RevocationMirror } from './mirror.js'
import { LOAD } from './scripts.js'

type Reason = RedisSyncEvent['reason']

/** @internal What the sync needs of its store. */
export interface SyncSettings {
  readonly namespace: string
  readonly keys: Keys
  readonly mirror: RevocationMirror
  /** The commands connection (loads, checks). */
  readonly commands: Monitor
  /** Milliseconds: a command's timeout; the check's period; a subject revocation's lifetime. */
  readonly timeout: number
  readonly syncInterval: number
  readonly lifetime: number
  readonly clock: () => number
}

/** @internal */
export class RevocationSync {
  /** When the mirror was last known current (ms); -Infinity before the first load. */
  confirmedAt = -Infinity
  /** Settles at the first load (or rejects when closed, or the subscriber gives up, first). */
  readonly ready: Promise<void>
  readonly #s: SyncSettings
  readonly #subscriber: NodeRedisClient
  readonly #subscriberMonitor: Monitor
  readonly #timer: ReturnType<typeof setInterval>
  #settleReady: ((error?: Error) => void) | undefined
  #subscribed = false
  /** The last load failed: retried as soon as the commands connection is back. */
  #loadFailed: Reason | undefined
  #loading: Promise<void> | undefined
  #loadAgain: Reason | undefined
  #closed = false

  constructor(settings: SyncSettings) {
    this.#s = settings
    this.ready = new Promise<void>((resolve, reject) => {
      this.#settleReady = (error) => {
        this.#settleReady = undefined
        if (error === undefined) resolve()
        else reject(error)
      }
    })
    // Nobody may ask for `ready()`: its rejection at `close()` is not unhandled.
    this.ready.catch(() => undefined)
    settings.commands.onReady(this.#onCommandsReady)
    this.#subscriber = settings.commands.client.duplicate()
    keepErrorsHandled(this.#subscriber)
    this.#subscriberMonitor = monitorOf(this.#subscriber, 'subscriber')
    this.#subscriberMonitor.onReady(this.#onSubscriberReady)
    this.#subscribe()
    this.#timer = setInterval(this.#check, settings.syncInterval)
    this.#timer.unref()
  }

  /** Stops: closes the pub/sub connection, no more loads or checks. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#timer)
    this.#settleReady?.(new Error('bearer-guard: the Redis revocation store was closed'))
    this.#s.commands.offReady(this.#onCommandsReady)
    this.#subscriberMonitor.release()
    this.#subscriber.destroy()
  }

  #subscribe(): void {
    const subscriber = this.#subscriber
    subscriber
      .connect()
      .then(() => subscriber.subscribe(this.#s.keys.revocationChannel, this.#onMessage))
      .then(
        () => {
          this.#subscribed = true
          this.#load('initial')
        },
        (error: unknown) => {
          // The subscriber gave up (closed, or its reconnection strategy stopped).
          this.#settleReady?.(error instanceof Error ? error : new Error(String(error)))
        },
      )
  }

  readonly #onMessage = (message: string): void => {
    switch (this.#s.mirror.applyMessage(message)) {
      case 'next':
        this.confirmedAt = this.#s.clock()
        break
      case 'gap':
        this.#load('gap')
        break
      case 'known':
        break
    }
  }

  /** A reconnected subscriber is subscribed again by node-redis: load what it missed. */
  readonly #onSubscriberReady = (): void => {
    if (this.#subscribed) this.#load('reconnect')
  }

  /** The commands connection is back: a load that failed meanwhile is retried now. */
  readonly #onCommandsReady = (): void => {
    if (this.#subscribed && this.#loadFailed !== undefined) this.#load(this.#loadFailed)
  }

  /** Every `syncInterval`: is the version in Redis the one applied? One `GET`. */
  readonly #check = (): void => {
    if (this.#closed || this.#loading !== undefined || !this.#subscribed) return
    if (this.#loadFailed !== undefined) {
      this.#load(this.#loadFailed)
      return
    }
    const { commands, keys, mirror, clock, timeout } = this.#s
    const started = clock()
    commands.command(['GET', keys.revocationVersion], timeout).then(
      (reply) => {
        if (this.#loading !== undefined) return
        if (Number(reply ?? 0) === mirror.version) this.confirmedAt = started
        else this.#load('check')
      },
      () => undefined, // the status channel reports it; the mirror ages
    )
  }

  /** Loads both lists and the version in one script (a consistent snapshot); single flight. */
  #load(reason: Reason): void {
    if (this.#closed) return
    if (this.#loading !== undefined) {
      this.#loadAgain ??= reason
      return
    }
    const { commands, keys, mirror, clock, timeout, lifetime, namespace } = this.#s
    const started = clock()
    this.#loading = commands
      .script(
        LOAD,
        [keys.revokedTokens, keys.revokedSubjects, keys.revocationVersion],
        [String(Math.floor(started)), String(Math.floor(started - lifetime))],
        // A whole list may take longer than one claim.
        timeout * 4,
      )
      .then((reply) => {
        const loaded = mirror.applySnapshot(reply)
        this.#loadFailed = undefined
        this.confirmedAt = started
        this.#settleReady?.()
        if (syncChannel.hasSubscribers) {
          syncChannel.publish({
            namespace,
            reason,
            revocations: loaded,
            durationMs: clock() - started,
          } satisfies RedisSyncEvent)
        }
      })
      .catch(() => {
        // The status channel reports it; retried when the commands connection is back, or at
        // the next check.
        this.#loadFailed = reason
      })
      .finally(() => {
        this.#loading = undefined
        const again = this.#loadAgain
        this.#loadAgain = undefined
        if (again !== undefined) this.#load(again)
      })
  }
}
