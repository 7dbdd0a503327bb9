/**
 * The Redis connections behind the stores: the client type accepted, the client made from a
 * URL, commands with a hard timeout, and the state of each connection, published on the status
 * channel once per change however many stores share the client.
 */
import { createClient } from '@redis/client'
import { hash } from 'node:crypto'
import { statusChannel, type RedisConnectionRole, type RedisStatusEvent } from './diagnostics.js'

/** @internal A Lua script and its SHA-1, the name Redis keeps it under (`EVALSHA`). */
export interface LuaScript {
  readonly source: string
  readonly sha1: string
}

/** @internal Makes a {@link LuaScript}. */
export function lua(source: string): LuaScript {
  return Object.freeze({ source, sha1: hash('sha1', source, 'hex') })
}

/** What `#send` resolves with when Redis does not hold the script asked for. */
const NO_SCRIPT = Symbol('NOSCRIPT')

/** Redis's answer to `EVALSHA` of a script it does not hold (an error reply). */
function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT')
}

/**
 * What the stores use of a Redis client: a node-redis client, as `createClient()` of `redis` or
 * `@redis/client` (v6) returns it, satisfies it. Pass one you configured (TLS, ACL user,
 * database) and connect it yourself; a store never closes a client it was given, and opens one
 * more connection with `duplicate()` for pub/sub.
 */
export interface NodeRedisClient {
  /** Whether `connect()` was called and the client was not closed. */
  readonly isOpen: boolean
  /** Whether the connection is up and commands are sent now. */
  readonly isReady: boolean
  /** Opens the connection; resolves when ready. */
  connect(): Promise<unknown>
  /** Closes after pending commands are answered. */
  close(): Promise<unknown>
  /** Closes now, rejecting pending commands. */
  destroy(): void
  /** A new client with the same options, for the pub/sub connection. */
  duplicate(): NodeRedisClient
  /** Sends one command; `timeout` in milliseconds. */
  sendCommand(args: readonly string[], options?: { readonly timeout?: number }): Promise<unknown>
  /** Subscribes to a channel (the connection then serves pub/sub). */
  subscribe(
    channel: string,
    listener: (message: string, channel: string) => unknown,
  ): Promise<unknown>
  /** `ready`, `error`, `reconnecting`, `end`: followed for the status channel. */
  on(event: string, listener: (...args: unknown[]) => void): unknown
  /** Removes a listener added with `on`. */
  off(event: string, listener: (...args: unknown[]) => void): unknown
}

/** Reconnects forever: exponential from 50 ms, at most 2 s, plus up to 200 ms of jitter. */
function reconnectDelay(retries: number): number {
  return Math.min(2 ** retries * 50, 2000) + Math.floor(Math.random() * 200)
}

/**
 * @internal A client for `url`, owned by the caller: commands are refused at once while it is
 * disconnected (no offline queue: a claim must not wait for a reconnection), and it reconnects
 * by itself, for ever, whatever ended the connection. Connects in the background.
 */
export function openClient(url: string): NodeRedisClient {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: reconnectDelay, connectTimeout: 5000 },
  })
  keepErrorsHandled(client)
  // Rejects only when closed before the first connection; the status channel reports failures.
  client.connect().catch(ignore)
  return client
}

/** @internal Closes a client this package opened: gracefully when up, at once otherwise. */
export async function closeClient(client: NodeRedisClient): Promise<void> {
  if (!client.isOpen) return
  if (client.isReady) {
    await client.close().catch(() => {
      client.destroy()
    })
  } else {
    client.destroy()
  }
}

/**
 * @internal An `'error'` listener for the lifetime of a client this package opened: an
 * EventEmitter with none throws, and node-redis emits one for every failed reconnection.
 */
export function keepErrorsHandled(client: NodeRedisClient): void {
  client.on('error', ignore)
}

function ignore(): void {
  // Reported on the status channel by the connection's monitor.
}

/** The error of a command Redis did not answer in time (a hung or overloaded server). */
function timedOut(timeout: number): Error {
  return new Error(`bearer-guard: Redis did not answer within ${timeout} ms`)
}

type Status = RedisStatusEvent['status']

/**
 * @internal Follows one connection's state and publishes each change on the status channel.
 * Shared by every store using the client (counted), so a change is published once.
 */
export class Monitor {
  readonly client: NodeRedisClient
  readonly #role: RedisConnectionRole
  #status: Status | undefined
  #lastError: unknown
  #users = 0
  readonly #onReady = new Set<() => void>()
  readonly #listeners: Record<string, (...args: unknown[]) => void>

  constructor(client: NodeRedisClient, role: RedisConnectionRole) {
    this.client = client
    this.#role = role
    this.#status = client.isReady ? 'connected' : undefined
    this.#listeners = {
      ready: () => {
        this.#set('connected')
        for (const callback of this.#onReady) callback()
      },
      error: (error) => {
        this.#lastError = error
        this.#set(client.isReady ? 'error' : 'disconnected', error)
      },
      reconnecting: () => {
        this.#set('disconnected', this.#lastError)
      },
      end: () => {
        this.#set('disconnected')
      },
    }
    for (const [event, listener] of Object.entries(this.#listeners)) client.on(event, listener)
  }

  /** Calls `callback` each time the connection becomes ready, until `release`. */
  onReady(callback: () => void): void {
    this.#onReady.add(callback)
  }

  offReady(callback: () => void): void {
    this.#onReady.delete(callback)
  }

  /** Resolves when the connection is ready (at once if it is); never if released first. */
  whenReady(): Promise<void> {
    if (this.client.isReady) return Promise.resolve()
    return new Promise((resolve) => {
      const callback = () => {
        this.#onReady.delete(callback)
        resolve()
      }
      this.#onReady.add(callback)
    })
  }

  /**
   * Sends a command; rejects after `timeout` ms whatever the client does (a client given to us
   * may queue commands while offline), or at once when the client refuses it.
   */
  command(args: readonly string[], timeout: number): Promise<unknown> {
    return this.#send(args, timeout, undefined)
  }

  /**
   * Runs a Lua script by its SHA-1 (`EVALSHA`), and sends its text (`EVAL`, which also stores it)
   * only when Redis does not hold it: at first use, after a restart or a `SCRIPT FLUSH`. A claim
   * so sends 40 characters of script, not the whole of it. The `NOSCRIPT` answer is not a
   * connection error: it changes no status.
   */
  script(
    script: LuaScript,
    keys: readonly string[],
    args: readonly string[],
    timeout: number,
  ): Promise<unknown> {
    const rest = [String(keys.length), ...keys, ...args]
    return this.#send(['EVALSHA', script.sha1, ...rest], timeout, isNoScript).then((reply) =>
      reply === NO_SCRIPT
        ? this.#send(['EVAL', script.source, ...rest], timeout, undefined)
        : reply,
    )
  }

  /** `command`, where an error `tolerated` accepts resolves with {@link NO_SCRIPT} instead. */
  #send(
    args: readonly string[],
    timeout: number,
    tolerated: ((error: unknown) => boolean) | undefined,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        fail(timedOut(timeout))
      }, timeout)
      const fail = (error: unknown) => {
        clearTimeout(timer)
        this.#set(this.client.isReady ? 'error' : 'disconnected', error)
        reject(error instanceof Error ? error : new Error(String(error)))
      }
      let sent: Promise<unknown>
      try {
        sent = this.client.sendCommand(args, { timeout })
      } catch (error) {
        fail(error)
        return
      }
      sent.then(
        (reply) => {
          clearTimeout(timer)
          if (this.#status !== 'connected' && this.client.isReady) this.#set('connected')
          resolve(reply)
        },
        (error: unknown) => {
          if (tolerated?.(error) === true) {
            clearTimeout(timer)
            resolve(NO_SCRIPT)
          } else fail(error)
        },
      )
    })
  }

  #set(status: Status, error?: unknown): void {
    if (status === this.#status) return
    // A command refused while the connection is down adds nothing to `disconnected`.
    if (status === 'error' && this.#status === 'disconnected' && !this.client.isReady) return
    this.#status = status
    if (!statusChannel.hasSubscribers) return
    const event: RedisStatusEvent =
      error === undefined
        ? { connection: this.#role, status }
        : { connection: this.#role, status, error }
    statusChannel.publish(event)
  }

  /** @internal */
  acquire(): this {
    this.#users++
    return this
  }

  /** Stops following the client once its last user lets go. */
  release(): void {
    if (--this.#users > 0) return
    for (const [event, listener] of Object.entries(this.#listeners))
      this.client.off(event, listener)
    this.#onReady.clear()
    monitors.get(this.#role)?.delete(this.client)
  }
}

const monitors = new Map<RedisConnectionRole, WeakMap<NodeRedisClient, Monitor>>([
  ['commands', new WeakMap()],
  ['subscriber', new WeakMap()],
])

/** @internal The monitor of a client in a role, shared and counted. */
export function monitorOf(client: NodeRedisClient, role: RedisConnectionRole): Monitor {
  const byClient = monitors.get(role) as WeakMap<NodeRedisClient, Monitor>
  let monitor = byClient.get(client)
  if (monitor === undefined) {
    monitor = new Monitor(client, role)
    byClient.set(client, monitor)
  }
  return monitor.acquire()
}
