// express-jwt + jwks-rsa (the JWKS URL is given: jwks-rsa does no discovery), scope checked here.
import express from 'express'
import { expressjwt } from 'express-jwt'
import jwksRsa from 'jwks-rsa'
import { AUDIENCE, ISSUER, JWKS_URI, ORDERS, hasScope, ready } from './shared.mjs'

const app = express()
const checkJwt = expressjwt({
  secret: jwksRsa.expressJwtSecret({ jwksUri: JWKS_URI, cache: true, rateLimit: true }),
  issuer: ISSUER,
  audience: AUDIENCE,
  algorithms: ['RS256'],
})
const checkScope = (req, res, next) => {
  if (hasScope(req.auth)) next()
  else res.status(403).json({ error: 'insufficient_scope' })
}
app.get('/orders', checkJwt, checkScope, (req, res) => {
  res.json(ORDERS)
})
const server = app.listen(0, '127.0.0.1', () => ready(server.address().port))
