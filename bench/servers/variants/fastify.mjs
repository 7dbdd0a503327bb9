// Fastify variants for bench/variants.mjs: where does the time between bare Fastify and
// @bearer-guard/fastify go? VARIANT picks one (see GROUPS in variants.mjs).
import { authorize, createAccessTokenValidator, definePolicy } from '@bearer-guard/core'
import { verifyRequestCallback } from '@bearer-guard/core/adapter'
import { bearerGuard } from '@bearer-guard/fastify'
import Fastify from 'fastify'
import { ORDERS, SCOPE, guardOptions, ready } from '../shared.mjs'
import { inMemoryFetch, outboundRequest } from './keys.mjs'

const variant = process.env.VARIANT ?? 'bare'
const app = Fastify()
const route = { config: {} }

if (variant === 'outbound-fetch') await outboundRequest()
if (variant === 'hook-empty') {
  route.onRequest = (_request, _reply, done) => {
    done()
  }
}
if (variant.startsWith('core-hook')) {
  // What the plugin's hook does, written out: callback-form verifyRequest, then the policy.
  const validator = createAccessTokenValidator({ ...guardOptions, fetch: inMemoryFetch })
  await validator.ready()
  const policy = definePolicy({ allOf: [SCOPE] })
  app.decorateRequest('auth', null)
  if (variant === 'core-hook-after-boot') await app.after()
  route.onRequest = (request, _reply, done) => {
    // The request's raw parts, as the plugin hands them to core.
    const raw = {
      method: request.method,
      url: request.url,
      headers: request.headers,
      query: request.query,
      body: request.body,
      socket: request.raw.socket,
    }
    verifyRequestCallback(validator, raw, (error, auth) => {
      if (auth === undefined) return done(error)
      request.auth = auth
      authorize(auth, policy)
      done()
    })
  }
}
if (variant === 'plugin-in-memory-keys' || variant === 'plugin') {
  const fetch = variant === 'plugin' ? globalThis.fetch : inMemoryFetch
  await app.register(bearerGuard, { ...guardOptions, fetch })
  route.config = { auth: { allOf: [SCOPE] } }
}

app.get('/orders', route, async () => ORDERS)
await app.listen({ port: 0, host: '127.0.0.1' })
ready(app.server.address().port)
