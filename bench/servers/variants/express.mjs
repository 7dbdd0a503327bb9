// Express variants for bench/variants.mjs: where does the time between bare Express and
// @bearer-guard/express go? VARIANT picks one (see GROUPS in variants.mjs).
import { authorize, createAccessTokenValidator, definePolicy } from '@bearer-guard/core'
import { verifyRequestCallback } from '@bearer-guard/core/adapter'
import { bearerGuard, requireScopes } from '@bearer-guard/express'
import express from 'express'
import { ORDERS, SCOPE, guardOptions, ready } from '../shared.mjs'
import { inMemoryFetch, outboundRequest } from './keys.mjs'

const variant = process.env.VARIANT ?? 'bare'
const app = express()
const handlers = []

if (variant === 'outbound-fetch') await outboundRequest()
if (variant === 'core-verify' || variant === 'core-verify-attach') {
  const validator = createAccessTokenValidator({ ...guardOptions, fetch: inMemoryFetch })
  await validator.ready()
  const attach = variant === 'core-verify-attach'
  const policy = definePolicy({ allOf: [SCOPE] })
  handlers.push((req, res, next) => {
    // The request's raw parts, as the adapter hands them to core.
    const request = {
      method: req.method,
      url: req.originalUrl,
      headers: req.headers,
      query: req.query,
      body: req.body,
      socket: req.socket,
    }
    verifyRequestCallback(validator, request, (error, auth) => {
      try {
        if (auth === undefined) throw error
        authorize(auth, policy)
      } catch (refusal) {
        res.status(refusal.status ?? 500).end()
        return
      }
      if (attach) req.auth = auth
      next()
    })
  })
}
if (variant === 'adapter-in-memory-keys') {
  handlers.push(bearerGuard({ ...guardOptions, fetch: inMemoryFetch }), requireScopes(SCOPE))
}
if (variant === 'adapter') handlers.push(bearerGuard(guardOptions), requireScopes(SCOPE))

app.get('/orders', ...handlers, (_req, res) => {
  res.json(ORDERS)
})
const server = app.listen(0, '127.0.0.1', () => ready(server.address().port))
