/**
 * A real grpc-js server and client on loopback for the tests: the services of
 * fixtures/shop.proto, loaded with @grpc/proto-loader as an application would, and handlers that
 * answer with what `getAuth()` / `findAuth()` saw.
 */
import { fileURLToPath } from 'node:url'
import {
  Metadata,
  Server,
  ServerCredentials,
  credentials as clientCredentials,
  loadPackageDefinition,
  type ChannelCredentials,
  type Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ServerDuplexStream,
  type ServerInterceptor,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceClientConstructor,
  type ServiceError,
  type ServiceDefinition,
  type StatusObject,
  type sendUnaryData,
} from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'
import { findAuth, getAuth, type GuardedCall } from '../src/index.js'

export interface Query {
  count?: number
  interval_ms?: number
}
export interface Item {
  id: string
  sub: string
  scopes: string[]
}
export interface Items {
  items: Item[]
  sub: string
}

const definition = loadSync(fileURLToPath(new URL('fixtures/shop.proto', import.meta.url)), {
  keepCase: true,
  defaults: true,
})
const loaded = loadPackageDefinition(definition) as unknown as {
  test: {
    v1: {
      Shop: ServiceClientConstructor
      Catalog: ServiceClientConstructor
      Hidden: ServiceClientConstructor
    }
  }
}
export const { Shop, Catalog, Hidden } = loaded.test.v1
export const shopService: ServiceDefinition = Shop.service
export const catalogService: ServiceDefinition = Catalog.service
export const hiddenService: ServiceDefinition = Hidden.service

/** What the handlers record, to prove a refused call never reached them. */
export interface Handled {
  /** Handler invocations, by method name. */
  readonly calls: Map<string, number>
  /** Streams whose handler saw its call cancelled (the guard ended it). */
  readonly cancelled: Set<string>
}

function itemOf(call: GuardedCall, id: string): Item {
  const { claims, scopes } = getAuth(call)
  return { id, sub: claims.sub ?? '', scopes: [...scopes] }
}

function implementations(handled: Handled) {
  const count = (method: string) => {
    handled.calls.set(method, (handled.calls.get(method) ?? 0) + 1)
  }
  const unary =
    (method: string) =>
    (call: ServerUnaryCall<Query, Item>, callback: sendUnaryData<Item>): void => {
      count(method)
      callback(null, itemOf(call, method))
    }
  const shop = {
    Get: unary('Get'),
    Write: unary('Write'),
    Delete: unary('Delete'),
    Audit: unary('Audit'),
    // `count` messages every `interval_ms`; `count` 0: until the call ends.
    Tick(call: ServerWritableStream<Query, Item>): void {
      count('Tick')
      const item = itemOf(call, 'Tick')
      const limit = call.request.count ?? 0
      let sent = 0
      const timer = setInterval(() => {
        if (call.cancelled) return
        call.write({ ...item, id: String(sent++) })
        if (limit > 0 && sent >= limit) {
          clearInterval(timer)
          call.end()
        }
      }, call.request.interval_ms || 50)
      call.on('cancelled', () => {
        handled.cancelled.add('Tick')
        clearInterval(timer)
      })
    },
    Upload(call: ServerReadableStream<Item, Items>, callback: sendUnaryData<Items>): void {
      count('Upload')
      const { sub } = itemOf(call, 'Upload')
      const items: Item[] = []
      call.on('data', (item: Item) => items.push(item))
      call.on('end', () => {
        callback(null, { items, sub })
      })
    },
    Chat(call: ServerDuplexStream<Item, Item>): void {
      count('Chat')
      const { sub } = itemOf(call, 'Chat')
      call.on('data', (item: Item) => {
        if (!call.cancelled) call.write({ ...item, sub })
      })
      call.on('end', () => call.end())
      call.on('cancelled', () => handled.cancelled.add('Chat'))
    },
  }
  const catalog = {
    Browse(call: ServerUnaryCall<Query, Item>, callback: sendUnaryData<Item>): void {
      count('Browse')
      const auth = findAuth(call)
      callback(null, {
        id: 'Browse',
        sub: auth?.claims.sub ?? '',
        scopes: [...(auth?.scopes ?? [])],
      })
    },
    Ping(call: ServerUnaryCall<Query, Item>, callback: sendUnaryData<Item>): void {
      count('Ping')
      callback(null, { id: 'Ping', sub: findAuth(call)?.claims.sub ?? '', scopes: [] })
    },
  }
  const hidden = {
    Secret(_call: ServerUnaryCall<Query, Item>, callback: sendUnaryData<Item>): void {
      count('Secret')
      callback(null, { id: 'Secret', sub: '', scopes: [] })
    },
  }
  return { shop, catalog, hidden }
}

/** A server on 127.0.0.1, port 0, and clients for it. */
export interface Running {
  readonly target: string
  readonly handled: Handled
  client(service: ServiceClientConstructor): Client
  close(): Promise<void>
}

export interface ServerSetup {
  readonly interceptors?: readonly ServerInterceptor[]
  readonly server?: ServerCredentials
  readonly client?: ChannelCredentials
  /** Client channel options, e.g. a TLS name override. */
  readonly channel?: Record<string, string | number>
}

export async function startServer(setup: ServerSetup = {}): Promise<Running> {
  const server = new Server({ interceptors: [...(setup.interceptors ?? [])] })
  const handled: Handled = { calls: new Map(), cancelled: new Set() }
  const { shop, catalog, hidden } = implementations(handled)
  server.addService(shopService, shop)
  server.addService(catalogService, catalog)
  server.addService(hiddenService, hidden)
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      '127.0.0.1:0',
      setup.server ?? ServerCredentials.createInsecure(),
      (error, bound) => {
        if (error) reject(error)
        else resolve(bound)
      },
    )
  })
  const target = `127.0.0.1:${port}`
  const clients: Client[] = []
  return {
    target,
    handled,
    client(service) {
      const client = new service(
        target,
        setup.client ?? clientCredentials.createInsecure(),
        setup.channel ?? {},
      )
      clients.push(client)
      return client
    },
    async close() {
      for (const client of clients) client.close()
      server.forceShutdown()
      await Promise.resolve()
    },
  }
}

/** Metadata with an `authorization` value (and any other entries). */
export function metadata(
  authorization?: string,
  extra: Readonly<Record<string, string | readonly string[]>> = {},
): Metadata {
  const md = new Metadata()
  if (authorization !== undefined) md.set('authorization', authorization)
  for (const [key, value] of Object.entries(extra)) {
    for (const one of typeof value === 'string' ? [value] : value) md.add(key, one)
  }
  return md
}

export function bearer(token: string): Metadata {
  return metadata(`Bearer ${token}`)
}

/** How a unary call ended: its value, or its error (status code, details, trailers). */
export interface UnaryOutcome<T> {
  readonly value?: T
  readonly error?: ServiceError
  /** The initial (response) metadata, when the server sent any before the status. */
  readonly initial?: Metadata
}

type UnaryMethod = (
  request: unknown,
  metadata: Metadata,
  callback: (error: ServiceError | null, value?: unknown) => void,
) => { on(event: 'metadata', listener: (metadata: Metadata) => void): unknown }

/** Calls a unary method and resolves with how it ended (never rejects). */
export function unary<T = Item>(
  client: Client,
  method: string,
  md: Metadata = new Metadata(),
  request: Query = {},
): Promise<UnaryOutcome<T>> {
  return new Promise((resolve) => {
    let initial: Metadata | undefined
    const fn = (client as unknown as Record<string, UnaryMethod>)[method] as UnaryMethod
    const call = fn.call(client, request, md, (error, value) => {
      resolve(error ? { error, initial } : { value: value as T, initial })
    })
    call.on('metadata', (received) => {
      initial = received
    })
  })
}

type ClientStreamMethod = (
  metadata: Metadata,
  callback: (error: ServiceError | null, value?: unknown) => void,
) => { write(message: unknown): boolean; end(): void }

/** Calls a client-streaming method with `messages`; rejects with the call's error. */
export function clientStream<T>(
  client: Client,
  method: string,
  md: Metadata,
  messages: readonly unknown[],
): Promise<T> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, ClientStreamMethod>)[
      method
    ] as ClientStreamMethod
    const call = fn.call(client, md, (error, value) => {
      if (error) reject(error)
      else resolve(value as T)
    })
    for (const message of messages) call.write(message)
    call.end()
  })
}

/** How a streaming call ended: the messages received, each with its arrival time, and the status. */
export interface StreamOutcome<T> {
  readonly messages: readonly T[]
  readonly arrivals: readonly number[]
  readonly status: StatusObject
  readonly error?: ServiceError
  /** When the status arrived (`Date.now()`). */
  readonly endedAt: number
}

/** Collects a server or bidirectional stream until its status. */
export async function collect<T>(
  stream: ClientReadableStream<T> | ClientDuplexStream<unknown, T>,
): Promise<StreamOutcome<T>> {
  const messages: T[] = []
  const arrivals: number[] = []
  let error: ServiceError | undefined
  stream.on('data', (message: T) => {
    messages.push(message)
    arrivals.push(Date.now())
  })
  stream.on('error', (e: ServiceError) => {
    error = e
  })
  // Not events.once(): it rejects on the 'error' event, which is how a refusal arrives.
  const status = await new Promise<StatusObject>((resolve) => {
    stream.once('status', resolve)
  })
  // 'error' is emitted right before or right after 'status': let it land.
  await new Promise((resolve) => setImmediate(resolve))
  return { messages, arrivals, status, error, endedAt: Date.now() }
}

/** A server-streaming call. */
export function serverStream<T = Item>(
  client: Client,
  method: string,
  md: Metadata,
  request: Query,
): ClientReadableStream<T> {
  const fn = (
    client as unknown as Record<string, (r: Query, m: Metadata) => ClientReadableStream<T>>
  )[method] as (r: Query, m: Metadata) => ClientReadableStream<T>
  return fn.call(client, request, md)
}

/** A bidirectional call. */
export function duplex<Req = Item, Res = Item>(
  client: Client,
  method: string,
  md: Metadata,
): ClientDuplexStream<Req, Res> {
  const fn = (client as unknown as Record<string, (m: Metadata) => ClientDuplexStream<Req, Res>>)[
    method
  ] as (m: Metadata) => ClientDuplexStream<Req, Res>
  return fn.call(client, md)
}

/** The trailing (or trailers-only) metadata value of a refusal, as one string. */
export function trailer(error: ServiceError | undefined, key: string): string | undefined {
  const values = error?.metadata.get(key) ?? []
  expectAtMostOne(values.length, key)
  const [value] = values
  return typeof value === 'string' ? value : undefined
}

function expectAtMostOne(count: number, key: string): void {
  if (count > 1) throw new Error(`${String(count)} values of ${key}`)
}

/** Everything a client learns from a refusal, as text: to check that no token leaks into it. */
export function visibleText(error: ServiceError | undefined): string {
  if (error === undefined) return ''
  return [error.message, error.details, JSON.stringify(error.metadata.toJSON())].join('\n')
}

/** Asserts that no part of `token` (header, payload or signature) appears in `text`. */
export function leaksNoToken(text: string, token: string): boolean {
  return token
    .split('.')
    .filter((part) => part.length > 0)
    .every((part) => !text.includes(part))
}
