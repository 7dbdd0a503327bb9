/**
 * examples/grpc, the contract's gRPC twin, started as a user starts it (`npm start`, PORT, ISSUER,
 * AUDIENCE…) and called with a real grpc-js client built from its own .proto files, against a
 * real in-process issuer: each method with and without what it needs, every refusal class as a
 * gRPC status with the RFC 6750 challenge in the `www-authenticate` trailer, the order stream
 * ended when its token expires, DPoP, the health service without authentication, and the key-set
 * failure (UNAVAILABLE and one log line).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { resolve } from 'node:path'
import {
  createTestIssuer,
  generateDpopKey,
  type DpopKey,
  type TestIssuer,
  type TestKey,
} from '@bearer-guard/testing'
import {
  Metadata,
  credentials,
  loadPackageDefinition,
  status,
  type Client,
  type ClientReadableStream,
  type ServiceClientConstructor,
  type ServiceError,
  type StatusObject,
} from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  freePort,
  repoRoot,
  startExample,
  stopCleanly,
  type RunningExample,
} from './support/process.js'
import { bearerChallenge, dpopChallenge, parseWwwAuthenticate } from './support/www-authenticate.js'

const DIR = 'examples/grpc'
const AUDIENCE = 'https://api.example.com'
/** The origin the example is told clients reach it at (DPoP `htu`). */
const ORIGIN = 'https://orders.example.com'
const DPOP_ALGS = ['ES256', 'EdDSA', 'RS256']
const KEY_SET_FAILURE = /bearer-guard: cannot obtain the signing keys of issuer/
const now = (): number => Math.floor(Date.now() / 1000)

interface Order {
  id: string
  item: string
  quantity: number
}
interface OrderEvent {
  kind: string
  order: Order
}

const proto = (file: string) =>
  loadSync(resolve(repoRoot, DIR, 'proto', file), { keepCase: true, enums: String, defaults: true })
const Orders = (
  loadPackageDefinition(proto('orders.proto')) as unknown as {
    orders: { v1: { Orders: ServiceClientConstructor } }
  }
).orders.v1.Orders
const Health = (
  loadPackageDefinition(proto('health.proto')) as unknown as {
    grpc: { health: { v1: { Health: ServiceClientConstructor } } }
  }
).grpc.health.v1.Health

interface Outcome<T> {
  readonly value?: T
  readonly error?: ServiceError
}
type Unary = (
  request: unknown,
  metadata: Metadata,
  callback: (error: ServiceError | null, value?: unknown) => void,
) => unknown
type ServerStream = (request: unknown, metadata: Metadata) => ClientReadableStream<unknown>

function metadata(authorization?: string, extra: Record<string, string> = {}): Metadata {
  const md = new Metadata()
  if (authorization !== undefined) md.set('authorization', authorization)
  for (const [key, value] of Object.entries(extra)) md.set(key, value)
  return md
}
const bearer = (token: string): Metadata => metadata(`Bearer ${token}`)

/** Every status code seen: no call content may ever cause INTERNAL or UNKNOWN. */
const codes: { readonly what: string; readonly code: status }[] = []

function unary<T>(client: Client, method: string, md: Metadata, request: unknown = {}) {
  return new Promise<Outcome<T>>((done) => {
    const fn = (client as unknown as Record<string, Unary>)[method] as Unary
    fn.call(client, request, md, (error, value) => {
      codes.push({ what: method, code: error?.code ?? status.OK })
      done(error ? { error } : { value: value as T })
    })
  })
}

function serverStream<T>(client: Client, method: string, md: Metadata): ClientReadableStream<T> {
  const fn = (client as unknown as Record<string, ServerStream>)[method] as ServerStream
  return fn.call(client, {}, md) as ClientReadableStream<T>
}

/** The messages of a stream and how it ended (the 'error' event is a refusal, not a failure). */
function collect<T>(stream: ClientReadableStream<T>) {
  const messages: T[] = []
  stream.on('data', (message: T) => messages.push(message))
  stream.on('error', () => undefined)
  const ended = new Promise<{ status: StatusObject; at: number }>((done) => {
    stream.once('status', (received: StatusObject) => {
      codes.push({ what: 'stream', code: received.code })
      done({ status: received, at: Date.now() })
    })
  })
  return { messages, ended }
}

function challengeOf(error: ServiceError | undefined): string {
  const values = error?.metadata.get('www-authenticate') ?? []
  expect(values).toHaveLength(1)
  return values[0] as string
}

/** Asserts that no part of `token` appears in what the client learns from a refusal. */
function expectNoTokenIn(error: ServiceError | undefined, token: string): void {
  const text = [error?.details, JSON.stringify(error?.metadata.toJSON())].join('\n')
  for (const part of token.split('.')) if (part !== '') expect(text).not.toContain(part)
}

let issuer: TestIssuer
let foreign: TestKey
let dpopKey: DpopKey
let api: RunningExample
let orders: Client
let health: Client
/** Every client made, closed at the end. */
const clients: Client[] = []

function clientFor(service: ServiceClientConstructor, on: RunningExample): Client {
  const client = new service(on.url.replace('http://', ''), credentials.createInsecure())
  clients.push(client)
  return client
}

beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE })
  foreign = await issuer.generateKey()
  dpopKey = await generateDpopKey()
  // DPOP unset: `allowed`, the default.
  api = await startExample(DIR, { ISSUER: issuer.issuer, AUDIENCE, PUBLIC_ORIGIN: ORIGIN })
  orders = clientFor(Orders, api)
  health = clientFor(Health, api)
})

afterAll(async () => {
  for (const client of clients) client.close()
  try {
    await stopCleanly(api, DIR)
  } finally {
    await issuer.close()
  }
})

describe('examples/grpc: methods', () => {
  it('grpc.health.v1.Health/Check needs nothing, and ignores a bad token', async () => {
    for (const md of [metadata(), metadata('Bearer not-a-token')]) {
      const { value, error } = await unary(health, 'Check', md, { service: '' })
      expect(error).toBeUndefined()
      expect(value).toEqual({ status: 'SERVING' })
    }
  })

  it('ListOrders with orders:read answers the orders', async () => {
    const { value, error } = await unary<{ orders: Order[] }>(
      orders,
      'ListOrders',
      bearer(await issuer.mint({ scope: 'orders:read' })),
    )
    expect(error).toBeUndefined()
    expect(value?.orders).toContainEqual({ id: '1', item: 'coffee beans', quantity: 2 })
  })

  it('CreateOrder with orders:write answers the new order', async () => {
    const { value, error } = await unary<Order>(
      orders,
      'CreateOrder',
      bearer(await issuer.mint({ scope: 'orders:write' })),
      { item: 'tea', quantity: 3 },
    )
    expect(error).toBeUndefined()
    expect(value).toEqual({ id: expect.any(String), item: 'tea', quantity: 3 })
  })

  it('DeleteOrder with orders:write and orders:admin deletes', async () => {
    const token = await issuer.mint({ scope: 'orders:write' })
    const created = await unary<Order>(orders, 'CreateOrder', bearer(token), { item: 'cups' })
    const { error } = await unary(
      orders,
      'DeleteOrder',
      bearer(await issuer.mint({ scope: 'orders:write orders:admin' })),
      { id: created.value?.id },
    )
    expect(error).toBeUndefined()
  })

  it('WatchOrders with orders:read streams the orders, then each change', async () => {
    const stream = serverStream<OrderEvent>(
      orders,
      'WatchOrders',
      bearer(await issuer.mint({ scope: 'orders:read' })),
    )
    const { messages, ended } = collect(stream)
    await vi.waitFor(() => {
      expect(messages).toContainEqual({
        kind: 'KIND_EXISTING',
        order: expect.objectContaining({ id: '1' }),
      })
    })
    const created = await unary<Order>(
      orders,
      'CreateOrder',
      bearer(await issuer.mint({ scope: 'orders:write' })),
      { item: 'mugs', quantity: 6 },
    )
    await vi.waitFor(() => {
      expect(messages).toContainEqual({ kind: 'KIND_CREATED', order: created.value })
    })
    stream.cancel()
    expect((await ended).status.code).toBe(status.CANCELLED)
  })
})

describe('examples/grpc: refusals (RFC 6750 §3.1 as gRPC statuses)', () => {
  it.each(['ListOrders', 'CreateOrder', 'DeleteOrder'])(
    '%s without credentials: UNAUTHENTICATED, a Bearer challenge without error, DPoP offered',
    async (method) => {
      const { error } = await unary(orders, method, metadata())
      expect(error?.code).toBe(status.UNAUTHENTICATED)
      const header = challengeOf(error)
      expect(bearerChallenge(header).params).toEqual({ realm: AUDIENCE })
      const offer = dpopChallenge(header).params
      expect(offer).not.toHaveProperty('error')
      expect(offer.algs?.split(' ')).toEqual(expect.arrayContaining(DPOP_ALGS))
    },
  )

  it('WatchOrders without credentials: refused at its start, nothing streamed', async () => {
    const { messages, ended } = collect(serverStream(orders, 'WatchOrders', metadata()))
    const { status: end } = await ended
    expect(end.code).toBe(status.UNAUTHENTICATED)
    expect(messages).toEqual([])
  })

  it.each([
    ['the Bearer scheme without a token', 'Bearer'],
    ['a token outside token68', 'Bearer a$b'],
  ])(
    'malformed credentials (%s): UNAUTHENTICATED invalid_request',
    async (_what, authorization) => {
      const { error } = await unary(orders, 'ListOrders', metadata(authorization))
      expect(error?.code).toBe(status.UNAUTHENTICATED)
      expect(bearerChallenge(challengeOf(error)).params.error).toBe('invalid_request')
    },
  )

  const invalid: readonly [string, () => Promise<string>][] = [
    ['signed by an unpublished key', () => issuer.mint({ scope: 'orders:read' }, { key: foreign })],
    ['expired', () => issuer.mint({ scope: 'orders:read', iat: now() - 900, exp: now() - 300 })],
    [
      'for another audience',
      () => issuer.mint({ scope: 'orders:read', aud: 'https://other.example' }),
    ],
    [
      'from an issuer not listed',
      () => issuer.mint({ scope: 'orders:read', iss: 'https://evil.example/' }),
    ],
    [
      'an OpenID Connect ID token',
      () =>
        issuer.mint(
          { nonce: 'n', azp: 'web', auth_time: now(), client_id: undefined },
          { header: { typ: 'JWT' } },
        ),
    ],
  ]
  it.each(invalid)('a bad token (%s): UNAUTHENTICATED invalid_token', async (_what, make) => {
    const token = await make()
    const { error } = await unary(orders, 'ListOrders', bearer(token))
    expect(error?.code).toBe(status.UNAUTHENTICATED)
    const { params } = bearerChallenge(challengeOf(error))
    expect(params.error).toBe('invalid_token')
    expect(params.error_description).toBe(error?.details)
    expectNoTokenIn(error, token)
  })

  it.each([
    ['CreateOrder', 'orders:read', 'orders:write'],
    ['DeleteOrder', 'orders:write', 'orders:write orders:admin'],
    ['WatchOrders', 'orders:write', 'orders:read'],
  ])(
    '%s with only %s: PERMISSION_DENIED insufficient_scope, scope="%s"',
    async (method, scope, needed) => {
      const md = bearer(await issuer.mint({ scope }))
      let error: ServiceError | undefined
      if (method === 'WatchOrders') {
        const stream = serverStream(orders, method, md)
        const errored = new Promise<ServiceError>((done) => stream.once('error', done))
        await collect(stream).ended
        error = await errored
      } else error = (await unary(orders, method, md, { id: '1' })).error
      expect(error?.code).toBe(status.PERMISSION_DENIED)
      expect(bearerChallenge(challengeOf(error)).params).toMatchObject({
        error: 'insufficient_scope',
        scope: needed,
      })
    },
  )
})

describe('examples/grpc: a WatchOrders stream that outlives its token', () => {
  it('is ended with UNAUTHENTICATED invalid_token when the token stops being accepted', async () => {
    // The example keeps core's default clockTolerance (30 s): a token that expired 28 s ago is
    // still accepted for about 2 s, and the stream must end when that window closes.
    const exp = now() - 28
    const stream = serverStream<OrderEvent>(
      orders,
      'WatchOrders',
      bearer(await issuer.mint({ scope: 'orders:read', iat: exp - 60, exp })),
    )
    const { messages, ended } = collect(stream)
    const errored = new Promise<ServiceError>((done) => stream.once('error', done))
    const { status: end, at } = await ended
    expect(messages.length).toBeGreaterThan(0)
    expect(end.code).toBe(status.UNAUTHENTICATED)
    expect(at).toBeGreaterThanOrEqual((exp + 30) * 1000)
    expect(at).toBeLessThan((exp + 30) * 1000 + 2_000)
    expect(bearerChallenge(challengeOf(await errored)).params).toMatchObject({
      error: 'invalid_token',
      error_description: 'The access token expired',
    })
  })
})

describe('examples/grpc: DPoP (RFC 9449), htu = PUBLIC_ORIGIN + method path', () => {
  const path = '/orders.v1.Orders/ListOrders'
  const proof = (token: string, htu: string) =>
    dpopKey.proof({ htm: 'POST', htu, accessToken: token })

  it('a DPoP-bound token with its proof passes', async () => {
    const token = await issuer.mint({ scope: 'orders:read' }, { dpop: dpopKey })
    const md = metadata(`DPoP ${token}`, { dpop: await proof(token, ORIGIN + path) })
    expect((await unary(orders, 'ListOrders', md)).error).toBeUndefined()
  })

  it('a proof for the server address instead of PUBLIC_ORIGIN: invalid_dpop_proof', async () => {
    const token = await issuer.mint({ scope: 'orders:read' }, { dpop: dpopKey })
    const md = metadata(`DPoP ${token}`, { dpop: await proof(token, api.url + path) })
    const { error } = await unary(orders, 'ListOrders', md)
    expect(error?.code).toBe(status.UNAUTHENTICATED)
    const [challenge, ...others] = parseWwwAuthenticate(challengeOf(error))
    expect(others).toEqual([])
    expect(challenge).toMatchObject({ scheme: 'DPoP', params: { error: 'invalid_dpop_proof' } })
  })

  it('a DPoP-bound token sent as a bearer token: invalid_token', async () => {
    const token = await issuer.mint({ scope: 'orders:read' }, { dpop: dpopKey })
    const { error } = await unary(orders, 'ListOrders', bearer(token))
    expect(error?.code).toBe(status.UNAUTHENTICATED)
    expect(bearerChallenge(challengeOf(error)).params.error).toBe('invalid_token')
  })
})

describe('examples/grpc: no call content causes INTERNAL or UNKNOWN', () => {
  it('in any call above', () => {
    expect(codes.length).toBeGreaterThan(20)
    expect(codes.filter((c) => c.code === status.INTERNAL || c.code === status.UNKNOWN)).toEqual([])
  })
})

describe('examples/grpc: keys that cannot be obtained', () => {
  it('UNAVAILABLE with retry-after, one log line, the health service still serving, a clean exit', async () => {
    // A key set nobody serves: the example starts anyway, and says why calls fail.
    const broken = await startExample(DIR, {
      ISSUER: issuer.issuer,
      AUDIENCE,
      JWKS_URI: `http://127.0.0.1:${await freePort()}/jwks`,
    })
    const client = clientFor(Orders, broken)
    const probe = clientFor(Health, broken)
    try {
      const token = await issuer.mint({ scope: 'orders:read' })
      for (let i = 0; i < 2; i++) {
        const { error } = await unary(client, 'ListOrders', bearer(token))
        expect(error?.code).toBe(status.UNAVAILABLE)
        expect(Number(error?.metadata.get('retry-after')[0])).toBeGreaterThanOrEqual(1)
        expectNoTokenIn(error, token)
      }
      await vi.waitFor(() => {
        expect(broken.output()).toMatch(KEY_SET_FAILURE)
      })
      await sleep(100)
      const lines = broken
        .output()
        .split('\n')
        .filter((line) => KEY_SET_FAILURE.test(line))
      expect(lines).toHaveLength(1)
      for (const part of token.split('.')) expect(broken.output()).not.toContain(part)

      // A health watch is open when SIGTERM comes: the example still exits cleanly.
      const watch = collect(serverStream<{ status: string }>(probe, 'Watch', metadata()))
      await vi.waitFor(() => {
        expect(watch.messages).toEqual([{ status: 'SERVING' }])
      })
    } finally {
      client.close()
      probe.close()
      await stopCleanly(broken, DIR)
    }
  })
})
