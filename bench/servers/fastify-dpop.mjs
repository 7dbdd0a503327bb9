// The DPoP phase's server (lib/dpop.mjs): @bearer-guard/fastify as in fastify-bearer-guard.mjs
// (token cache on), with DPoP off (BENCH_DPOP=off) or allowed beside Bearer (BENCH_DPOP=allowed,
// `dpop: { origin }`). The replay store is core's default MemoryReplayStore, or with
// BENCH_REPLAY=redis a RedisReplayStore on BENCH_REDIS_URL, connected before the port is reported.
import { bearerGuard } from '@bearer-guard/fastify'
import Fastify from 'fastify'
import { ORDERS, SCOPE, guardOptions, ready } from './shared.mjs'

const env = process.env
let options = guardOptions
if (env.BENCH_DPOP === 'allowed') {
  const dpop = { origin: env.BENCH_DPOP_ORIGIN }
  if (env.BENCH_REPLAY === 'redis') {
    const { RedisReplayStore } = await import('@bearer-guard/redis')
    dpop.replayStore = new RedisReplayStore({
      url: env.BENCH_REDIS_URL,
      namespace: env.BENCH_REDIS_NAMESPACE,
    })
    await dpop.replayStore.ready()
  }
  options = { ...guardOptions, dpop }
} else if (env.BENCH_DPOP !== 'off') {
  throw new Error('BENCH_DPOP must be off or allowed')
}

const app = Fastify()
await app.register(bearerGuard, options)
app.get('/orders', { config: { auth: { allOf: [SCOPE] } } }, async () => ORDERS)
await app.listen({ port: 0, host: '127.0.0.1' })
ready(app.server.address().port)
