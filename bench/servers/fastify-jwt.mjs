// @fastify/jwt (fast-jwt inside) with get-jwks: keys found by discovery from the token's `iss`,
// which must be the configured issuer. BENCH_KEY=static gives it the public key directly instead.
import fastifyJwt from '@fastify/jwt'
import Fastify from 'fastify'
import buildGetJwks from 'get-jwks'
import { AUDIENCE, ISSUER, ORDERS, PUBLIC_KEY_PEM, hasScope, ready } from './shared.mjs'

const staticKey = process.env.BENCH_KEY === 'static'
const getJwks = buildGetJwks({ providerDiscovery: true, issuersWhitelist: [ISSUER] })
const app = Fastify()
await app.register(fastifyJwt, {
  decode: { complete: true },
  secret: staticKey
    ? { public: PUBLIC_KEY_PEM }
    : (request, token) =>
        getJwks.getPublicKey({ kid: token.header.kid, alg: token.header.alg, domain: ISSUER }),
  verify: { allowedIss: ISSUER, allowedAud: AUDIENCE, algorithms: ['RS256'] },
})
app.addHook('onRequest', async (request, reply) => {
  await request.jwtVerify()
  if (!hasScope(request.user)) return reply.code(403).send({ error: 'insufficient_scope' })
})
app.get('/orders', async () => ORDERS)
await app.listen({ port: 0, host: '127.0.0.1' })
ready(app.server.address().port)
