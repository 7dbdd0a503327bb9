/**
 * The CONTRACT.md API on Express, guarded by @bearer-guard/express.
 *
 *     PORT=4100 ISSUER=https://auth.example.com/ AUDIENCE=https://api.example.com npm start
 *     PORT=4100 ISSUER='https://a.example.com/ https://b.example.com/' AUDIENCE=… npm start
 *     PUBLIC_ORIGIN=https://api.example.com DPOP=required DPOP_NONCE=1 ISSUER=… AUDIENCE=… npm start
 *     CLIENT_CERT_HEADER=x-client-cert ISSUER=… AUDIENCE=… npm start
 */
import { randomUUID } from 'node:crypto'
import express from 'express'
import {
  bearerGuard,
  getAuth,
  requireAnyScope,
  requireScopes,
  type BearerGuardHandler,
} from '@bearer-guard/express'

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
// The origin clients use to reach the API: DPoP proofs name it (`htu`), and it is never read
// from the request's Host or X-Forwarded-* headers.
const publicOrigin = process.env.PUBLIC_ORIGIN || `http://127.0.0.1:${port}`
// DPoP (RFC 9449): `allowed` beside Bearer, `required` (Bearer tokens refused), or `off`.
const dpopMode = oneOf('DPOP', ['allowed', 'required', 'off'], 'allowed')
// `1`: every DPoP proof must carry a nonce this API handed out (`DPoP-Nonce`).
const dpopNonce = oneOf('DPOP_NONCE', ['0', '1'], '0') === '1'
// The header in which a trusted TLS-terminating proxy passes the client certificate (URL-encoded
// PEM), for certificate-bound tokens (RFC 8705). Unset: no header is trusted.
const certificateHeader = process.env.CLIENT_CERT_HEADER || undefined

// Tiny in-memory data: enough to show what each route returns.
const orders = new Map<string, Order>([['1', { id: '1', item: 'coffee beans', quantity: 2 }]])
const reports = [{ id: 'q1', title: 'Orders, first quarter', total: 42 }]

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
    issuer: issuers,
    audience,
    jwksUri,
    dpop:
      dpopMode === 'off'
        ? false
        : { origin: publicOrigin, required: dpopMode === 'required', nonce: dpopNonce },
    mtls: { certificateHeader },
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

const server = app.listen(port, '127.0.0.1', (error?: Error) => {
  if (error) {
    console.error(`example-express cannot listen on 127.0.0.1:${port}: ${error.message}`)
    process.exit(1)
  }
  console.log(`example-express listening on http://127.0.0.1:${port}`)
})

process.on('SIGTERM', () => {
  server.close(() => process.exit(0))
  // Keep-alive connections would hold close() open; they carry no work worth waiting for.
  server.closeIdleConnections()
})
