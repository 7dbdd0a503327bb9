import { bearerGuard } from '@bearer-guard/fastify'
import Fastify from 'fastify'
import { ORDERS, SCOPE, guardOptions, ready } from './shared.mjs'

const app = Fastify()
await app.register(bearerGuard, guardOptions)
app.get('/orders', { config: { auth: { allOf: [SCOPE] } } }, async () => ORDERS)
await app.listen({ port: 0, host: '127.0.0.1' })
ready(app.server.address().port)
