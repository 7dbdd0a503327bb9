import { bearerGuard, requireScopes } from '@bearer-guard/express'
import express from 'express'
import { ORDERS, SCOPE, guardOptions, ready } from './shared.mjs'

const app = express()
app.get('/orders', bearerGuard(guardOptions), requireScopes(SCOPE), (req, res) => {
  res.json(ORDERS)
})
const server = app.listen(0, '127.0.0.1', () => ready(server.address().port))
