/**
 * The CONTRACT.md API on Express, guarded by @bearer-guard/express.
 *
 *     PORT=4100 ISSUER=https://auth.example.com/ AUDIENCE=https://api.example.com npm start
 */
import { randomUUID } from 'node:crypto'
import express from 'express'
import { bearerGuard, getAuth, requireAnyScope, requireScopes } from '@bearer-guard/express'

interface Order {
  id: string
  item: string
  quantity: number
}

function requiredEnv(name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') {
    console.error(`${name} is required`)
    process.exit(1)
  }
  return value
}

const port = Number(process.env.PORT ?? 3000)
const issuer = requiredEnv('ISSUER')
const audience = requiredEnv('AUDIENCE')
const jwksUri = process.env.JWKS_URI || undefined

// Tiny in-memory data: enough to show what each route returns.
const orders = new Map<string, Order>([['1', { id: '1', item: 'coffee beans', quantity: 2 }]])
const reports = [{ id: 'q1', title: 'Orders, first quarter', total: 42 }]

const app = express()
app.disable('x-powered-by')

app.get('/health', (_req, res) => {
  res.json({ status: 'ok' })
})

// Everything declared below needs a valid access token; `req.auth` holds it. Routes declared
// above (/health) are public. If the issuer's keys cannot be obtained, guarded requests get 503
// and the guard logs one line per failure episode, naming the cause (`logger`: console.warn).
app.use(bearerGuard({ issuer, audience, jwksUri, logger: console }))

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
