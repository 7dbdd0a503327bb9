// Auth0's express-oauth2-jwt-bearer: discovery, JWKS and scopes built in (jose inside).
import express from 'express'
import { auth, requiredScopes } from 'express-oauth2-jwt-bearer'
import { AUDIENCE, ISSUER, ORDERS, SCOPE, ready } from './shared.mjs'

const app = express()
app.get(
  '/orders',
  auth({ issuerBaseURL: ISSUER, audience: AUDIENCE }),
  requiredScopes(SCOPE),
  (req, res) => {
    res.json(ORDERS)
  },
)
const server = app.listen(0, '127.0.0.1', () => ready(server.address().port))
