/**
 * The CONTRACT.md API on Express, guarded by @bearer-guard/express.
 *
 *     PORT=4100 ISSUER=https://auth.example.com/ AUDIENCE=https://api.example.com npm start
 *     PORT=4100 ISSUER='https://a.example.com/ https://b.example.com/' AUDIENCE=… npm start
 *     PUBLIC_ORIGIN=https://api.example.com DPOP=required DPOP_NONCE=1 ISSUER=… AUDIENCE=… npm start
 *     CLIENT_CERT_HEADER=x-client-cert ISSUER=… AUDIENCE=… npm start
 *     RESOURCE=https://api.example.com/p ISSUER=… npm start   (RFC 9728 metadata; AUDIENCE optional)
 *     REDIS_URL=redis://127.0.0.1:6379 ISSUER=… AUDIENCE=… npm start   (state shared by a fleet)
 *     INTROSPECTION_CLIENT_ID=orders-api INTROSPECTION_CLIENT_SECRET=… ISSUER=… AUDIENCE=… npm start
 */
import { randomUUID } from 'node:crypto'
import express from 'express'
import {
  bearerGuard,
  getAuth,
  requireAnyScope,
  requirePolicy,
  requireScopes,
  type BearerGuardHandler,
} from '@bearer-guard/express'
import { createRedisStores } from '@bearer-guard/redis'

interface Order {
  id: string
  item: string
  quantity: number
}

/** Refuses to start: one line on stderr, exit status 1. */
function cannotStart(reason: string): never {
  console.error(`example-express cannot start: ${reason}`)
  process.exit(1)
}

/**
 * Where clients fetch this API's RFC 9728 metadata: the well-known path, then the resource's path
 * (RFC 9728 §3.1), on the origin they use (PUBLIC_ORIGIN), never on one read from a request.
 */
function metadataUrl(origin: string, resource: string): string {
  let path: string
  try {
    path = new URL(resource).pathname
  } catch {
    cannotStart(`RESOURCE must be an https:// URL (or http:// on loopback), not '${resource}'`)
  }
  return `${origin}/.well-known/oauth-protected-resource${path === '/' ? '' : path.replace(/\/$/, '')}`
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
// This API's resource identifier (RFC 8707), optional: the default AUDIENCE, and the API then
// publishes its RFC 9728 metadata and names it in every 401 and 403 challenge.
const resource = process.env.RESOURCE || undefined
const audience =
  resource === undefined ? requiredEnv('AUDIENCE') : process.env.AUDIENCE || undefined
const jwksUri = process.env.JWKS_URI || undefined
if (jwksUri !== undefined && issuers.length > 1) {
  cannotStart(
    `JWKS_URI is the key set of a single issuer, but ISSUER lists ${issuers.length}; unset JWKS_URI (each issuer's keys are then found by its own discovery) or list one issuer`,
  )
}
// The origin clients use to reach the API: DPoP proofs name it (`htu`), and it is never read
// from the request's Host or X-Forwarded-* headers.
const publicOrigin = process.env.PUBLIC_ORIGIN || `http://127.0.0.1:${port}`
const resourceMetadataUrl = resource && metadataUrl(publicOrigin, resource)
// DPoP (RFC 9449): `allowed` beside Bearer, `required` (Bearer tokens refused), or `off`.
const dpopMode = oneOf('DPOP', ['allowed', 'required', 'off'], 'allowed')
// `1`: every DPoP proof must carry a nonce this API handed out (`DPoP-Nonce`).
const dpopNonce = oneOf('DPOP_NONCE', ['0', '1'], '0') === '1'
// With several instances, give them all one nonce secret, so that a nonce one hands out is
// accepted by the others (unset: a random secret per process).
const nonceSecret = process.env.DPOP_NONCE_SECRET || undefined
// The header in which a trusted TLS-terminating proxy passes the client certificate (URL-encoded
// PEM), for certificate-bound tokens (RFC 8705). Unset: no header is trusted.
const certificateHeader = process.env.CLIENT_CERT_HEADER || undefined
// State every instance of the API shares (DPoP proofs seen, revocations, unknown-kid refetches)
// lives in this Redis; unset, it is per process. Redis unreachable: the process still starts,
// DPoP requests are refused (never accepted without the replay check), Bearer requests work.
const redisUrl = process.env.REDIS_URL || undefined
const stores =
  redisUrl === undefined
    ? undefined
    : createRedisStores({
        url: redisUrl,
        namespace: process.env.REDIS_NAMESPACE || 'bearer-guard-example',
      })
// RFC 7662: with INTROSPECTION_CLIENT_ID and _SECRET, tokens that are not JWTs are sent to the
// (first) issuer's introspection_endpoint (from discovery), authenticated by client_secret_basic.
// Active answers are cached (in REDIS_URL when set), at most until the token's exp.
const introspectionClientId = process.env.INTROSPECTION_CLIENT_ID || undefined
const introspection =
  introspectionClientId === undefined
    ? undefined
    : {
        clientId: introspectionClientId,
        clientSecret: requiredEnv('INTROSPECTION_CLIENT_SECRET'),
        ...(stores && { cache: stores.introspection }),
      }

// Tiny in-memory data: enough to show what each route returns.
const orders = new Map<string, Order>([['1', { id: '1', item: 'coffee beans', quantity: 2 }]])
const reports = [{ id: 'q1', title: 'Orders, first quarter', total: 42 }]
const auditLog = [{ at: '2025-01-01T00:00:00Z', action: 'order.delete', id: '7' }]

const app = express()
app.disable('x-powered-by')

app.get('/health', (_req, res) => {
  res.json({ status: 'ok' })
})

// Built once, here: options it refuses (an issuer listed twice, a non-loopback http:// issuer, a
// PUBLIC_ORIGIN that is not an origin…) stop the start-up. If an issuer's keys cannot be
// obtained, the requests that need them get 503 and the guard logs one line per failure episode,
// naming the cause (`logger`: console.warn). With DPoP nonces, the guard sets `DPoP-Nonce` on
// verified requests' responses when a new nonce is due.
let guard: BearerGuardHandler
try {
  guard = bearerGuard({
    issuer: issuers.map((issuer, i) =>
      i === 0 && introspection ? { issuer, introspection } : issuer,
    ),
    audience,
    resource,
    resourceMetadataUrl,
    jwksUri,
    dpop:
      dpopMode === 'off'
        ? false
        : {
            origin: publicOrigin,
            required: dpopMode === 'required',
            nonce: dpopNonce && nonceSecret !== undefined ? { secret: nonceSecret } : dpopNonce,
            ...(stores && { replayStore: stores.replay }),
          },
    mtls: { certificateHeader },
    ...(stores && { revocation: stores.revocation, keyRefetchCoordinator: stores.keyRefetch }),
    logger: console,
  })
} catch (error) {
  cannotStart(error instanceof Error ? error.message : String(error))
}

// A token is optional here: without credentials `req.auth` is undefined, but a token that is sent
// must be valid (else 400/401). Declared before app.use(guard), which would require one.
app.get('/catalog', guard.optional, (req, res) => {
  res.json({ sub: req.auth?.claims.sub ?? null })
})

// With RESOURCE: GET /.well-known/oauth-protected-resource[/p], public (RFC 9728); its
// scopes_supported are those of the route helpers below, collected at its first request.
if (resource !== undefined) app.use(guard.metadata)

// Everything declared below needs a valid access token; `req.auth` holds it. Routes declared
// above (/health, /catalog) are not guarded by it.
app.use(guard)

app.get('/me', (req, res) => {
  const { claims, scopes } = getAuth(req)
  res.json({ sub: claims.sub, client_id: claims.client_id, scopes: [...scopes], claims })
})

app.get('/orders', requireScopes('orders:read'), (_req, res) => {
  res.json([...orders.values()])
})

app.post('/orders', requireScopes('orders:write'), express.json(), (req, res) => {
  const input = (req.body ?? {}) as Partial<Order>
  const order: Order = {
    id: randomUUID(),
    item: typeof input.item === 'string' ? input.item : 'unnamed item',
    quantity: typeof input.quantity === 'number' ? input.quantity : 1,
  }
  orders.set(order.id, order)
  res.status(201).json(order)
})

app.delete('/orders/:id', requireScopes('orders:write', 'orders:admin'), (req, res) => {
  orders.delete(req.params.id)
  res.status(204).end()
})

app.get('/reports', requireAnyScope('reports:read', 'admin'), (_req, res) => {
  res.json(reports)
})

// Step-up (RFC 9470): multi-factor authentication (`acr`) within the last 300 s (`auth_time`),
// else 401 insufficient_user_authentication naming what would do (`acr_values`, `max_age`).
app.get(
  '/admin/audit',
  requirePolicy({ allOf: ['admin'], acr: ['urn:example:mfa'], maxAge: 300 }),
  (_req, res) => {
    res.json(auditLog)
  },
)

const server = app.listen(port, '127.0.0.1', (error?: Error) => {
  if (error) {
    console.error(`example-express cannot listen on 127.0.0.1:${port}: ${error.message}`)
    process.exit(1)
  }
  console.log(`example-express listening on http://127.0.0.1:${port}`)
})

process.on('SIGTERM', () => {
  void stores?.close()
  server.close(() => process.exit(0))
  // Keep-alive connections would hold close() open; they carry no work worth waiting for.
  server.closeIdleConnections()
})
