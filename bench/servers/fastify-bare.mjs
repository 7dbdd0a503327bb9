import Fastify from 'fastify'
import { ORDERS, ready } from './shared.mjs'

const app = Fastify()
app.get('/orders', async () => ORDERS)
await app.listen({ port: 0, host: '127.0.0.1' })
ready(app.server.address().port)
