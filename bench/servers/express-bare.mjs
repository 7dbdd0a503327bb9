import express from 'express'
import { ORDERS, ready } from './shared.mjs'

const app = express()
app.get('/orders', (req, res) => {
  res.json(ORDERS)
})
const server = app.listen(0, '127.0.0.1', () => ready(server.address().port))
