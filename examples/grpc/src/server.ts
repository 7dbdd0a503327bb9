/**
 * The CONTRACT.md orders API as a gRPC service (proto/orders.proto), guarded by
 * @bearer-guard/grpc, with the standard grpc.health.v1.Health service open to everyone.
 *
 *     PORT=4100 ISSUER=https://auth.example.com/ AUDIENCE=https://api.example.com npm start
 *     PORT=4100 ISSUER='https://a.example.com/ https://b.example.com/' AUDIENCE=… npm start
 *     PUBLIC_ORIGIN=https://api.example.com DPOP=required DPOP_NONCE=1 ISSUER=… AUDIENCE=… npm start
 */
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import {
  Server,
  ServerCredentials,
  loadPackageDefinition,
  status,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceClientConstructor,
  type sendUnaryData,
} from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'
import {
  bearerGuard,
  getAuth,
  serviceAccess,
  type BearerGuardInterceptor,
} from '@bearer-guard/grpc'

interface Order {
  id: string
  item: string
  quantity: number
}
type EventKind = 'KIND_EXISTING' | 'KIND_CREATED' | 'KIND_DELETED'
interface OrderEvent {
  kind: EventKind
  order: Order
}
type ServingStatus = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN'

/** Refuses to start: one line on stderr, exit status 1. */
function cannotStart(reason: string): never {
  console.error(`example-grpc cannot start: ${reason}`)
  process.exit(1)
}

function requiredEnv(name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') cannotStart(`${name} is required`)
  return value
}

function oneOf<const T extends string>(name: string, values: readonly T[], fallback: T): T {
  const value = process.env[name] || fallback
  if (!(values as readonly string[]).includes(value)) {
    cannotStart(`${name} must be ${values.join(', ')} or unset, not '${value}'`)
  }
  return value as T
}

const port = Number(process.env.PORT ?? 3000)
// One issuer, or several separated by spaces: each one's keys are found by its own discovery and
// verify only the tokens whose `iss` names it; a token naming any other issuer is refused.
const issuers = requiredEnv('ISSUER')
  .split(' ')
  .filter((issuer) => issuer !== '')
if (issuers.length === 0) cannotStart('ISSUER is required')
const audience = requiredEnv('AUDIENCE')
const jwksUri = process.env.JWKS_URI || undefined
if (jwksUri !== undefined && issuers.length > 1) {
  cannotStart(
    `JWKS_URI is the key set of a single issuer, but ISSUER lists ${issuers.length}; unset JWKS_URI (each issuer's keys are then found by its own discovery) or list one issuer`,
  )
}
// The origin clients use to reach the API: a DPoP proof names it plus the method path (`htu`,
// e.g. http://127.0.0.1:4100/orders.v1.Orders/ListOrders), never taken from the call's :authority.
const publicOrigin = process.env.PUBLIC_ORIGIN || `http://127.0.0.1:${port}`
// DPoP (RFC 9449): `allowed` beside Bearer, `required` (Bearer tokens refused), or `off`.
const dpopMode = oneOf('DPOP', ['allowed', 'required', 'off'], 'allowed')
// `1`: every DPoP proof must carry a nonce this API handed out (`dpop-nonce` metadata).
const dpopNonce = oneOf('DPOP_NONCE', ['0', '1'], '0') === '1'
// The metadata key in which a trusted TLS-terminating proxy passes the client certificate
// (URL-encoded PEM), for certificate-bound tokens (RFC 8705). Unset: no metadata is trusted.
const certificateHeader = process.env.CLIENT_CERT_HEADER || undefined

// The services, loaded from the .proto files as any grpc-js application does.
const proto = (file: string) =>
  loadSync(fileURLToPath(new URL(`../proto/${file}`, import.meta.url)), {
    keepCase: true,
    enums: String,
    defaults: true,
  })
const { orders: ordersPackage } = loadPackageDefinition(proto('orders.proto')) as unknown as {
  orders: { v1: { Orders: ServiceClientConstructor } }
}
const { grpc: healthPackage } = loadPackageDefinition(proto('health.proto')) as unknown as {
  grpc: { health: { v1: { Health: ServiceClientConstructor } } }
}
const ordersService = ordersPackage.v1.Orders.service
const healthService = healthPackage.health.v1.Health.service

// Tiny in-memory data, and the streams watching it.
const orders = new Map<string, Order>([['1', { id: '1', item: 'coffee beans', quantity: 2 }]])
const watchers = new Set<ServerWritableStream<unknown, OrderEvent>>()
const healthWatchers = new Set<ServerWritableStream<unknown, { status: ServingStatus }>>()

function publish(kind: EventKind, order: Order): void {
  for (const watcher of watchers) watcher.write({ kind, order })
}

// Built once, here: options it refuses (an issuer listed twice, a non-loopback http:// issuer, a
// PUBLIC_ORIGIN that is not an origin, a method left out of serviceAccess…) stop the start-up. If
// an issuer's keys cannot be obtained, the calls that need them get UNAVAILABLE and the guard logs
// one line per failure episode, naming the cause (`logger`: console.warn).
let guard: BearerGuardInterceptor
try {
  guard = bearerGuard({
    issuer: issuers,
    audience,
    jwksUri,
    dpop:
      dpopMode === 'off'
        ? false
        : { origin: publicOrigin, required: dpopMode === 'required', nonce: dpopNonce },
    mtls: { certificateHeader },
    logger: console,
    services: [
      serviceAccess(ordersService, {
        ListOrders: { allOf: ['orders:read'] },
        CreateOrder: { allOf: ['orders:write'] },
        DeleteOrder: { allOf: ['orders:write', 'orders:admin'] },
        WatchOrders: { allOf: ['orders:read'] },
      }),
      // The standard health service (grpc/doc/health-checking.md): probes carry no token.
      serviceAccess(healthService, 'public'),
    ],
  })
} catch (error) {
  cannotStart(error instanceof Error ? error.message : String(error))
}

// First in `interceptors`: no other interceptor sees a call before it is verified.
const server = new Server({ interceptors: [guard] })

server.addService(ordersService, {
  ListOrders(_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) {
    callback(null, { orders: [...orders.values()] })
  },
  CreateOrder(
    call: ServerUnaryCall<{ item: string; quantity: number }, Order>,
    callback: sendUnaryData<Order>,
  ) {
    const order: Order = {
      id: randomUUID(),
      item: call.request.item || 'unnamed item',
      quantity: call.request.quantity || 1,
    }
    orders.set(order.id, order)
    publish('KIND_CREATED', order)
    callback(null, order)
  },
  DeleteOrder(call: ServerUnaryCall<{ id: string }, unknown>, callback: sendUnaryData<unknown>) {
    const order = orders.get(call.request.id)
    if (order === undefined) {
      callback({ code: status.NOT_FOUND, details: 'No such order' })
      return
    }
    orders.delete(order.id)
    publish('KIND_DELETED', order)
    // Who did it, from the verified token: the handler needs no other authentication code.
    console.log(`example-grpc: order ${order.id} deleted by ${getAuth(call).claims.sub ?? '?'}`)
    callback(null, {})
  },
  // The existing orders, then every change, until the caller cancels or its token expires (the
  // guard then ends the call with UNAUTHENTICATED, and 'cancelled' fires here).
  WatchOrders(call: ServerWritableStream<unknown, OrderEvent>) {
    for (const order of orders.values()) call.write({ kind: 'KIND_EXISTING', order })
    watchers.add(call)
    call.on('cancelled', () => watchers.delete(call))
  },
})

function servingStatus(service: string): ServingStatus | undefined {
  return service === '' || service === 'orders.v1.Orders' ? 'SERVING' : undefined
}

server.addService(healthService, {
  Check(
    call: ServerUnaryCall<{ service: string }, { status: ServingStatus }>,
    callback: sendUnaryData<{ status: ServingStatus }>,
  ) {
    const serving = servingStatus(call.request.service)
    if (serving === undefined) callback({ code: status.NOT_FOUND, details: 'Unknown service' })
    else callback(null, { status: serving })
  },
  Watch(call: ServerWritableStream<{ service: string }, { status: ServingStatus }>) {
    call.write({ status: servingStatus(call.request.service) ?? 'SERVICE_UNKNOWN' })
    healthWatchers.add(call)
    call.on('cancelled', () => healthWatchers.delete(call))
  },
})

server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, bound) => {
  if (error) {
    console.error(`example-grpc cannot listen on 127.0.0.1:${port}: ${error.message}`)
    process.exit(1)
  }
  console.log(`example-grpc listening on 127.0.0.1:${bound}`)
})

process.on('SIGTERM', () => {
  // Streams would hold tryShutdown() open: end them (OK), then let unary calls finish.
  for (const watcher of [...watchers, ...healthWatchers]) watcher.end()
  server.tryShutdown(() => process.exit(0))
  setTimeout(() => {
    server.forceShutdown()
    process.exit(0)
  }, 5_000).unref()
})
