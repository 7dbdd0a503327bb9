import { IncomingMessage } from 'node:http'
import type { VerifiedAccessToken } from '@bearer-guard/core'
import type { BearerGuardRequest } from './types.js'

/**
 * `req.auth`, declared once instead of added to every request.
 *
 * Assigning a property a request object does not have gives that object another hidden class
 * (V8's map) on every request, and the code that handles the request afterwards, in Express and
 * in Node, then meets requests of more than one shape. Counted with valgrind, that costs an
 * Express request 2 to 4 % more instructions than the same guard without `req.auth`
 * (bench/ANALYSIS.md). Fastify avoids it by declaring the property on its request class
 * (`decorateRequest`). Express's requests are Node's `IncomingMessage` objects, whose construction
 * a middleware cannot change, so `auth` is declared where Express itself declares request
 * properties: as an accessor on the request prototype its apps share (Express's `request`, the
 * object right above `http.IncomingMessage.prototype`; every `app.request` and every sub-app's
 * inherits from it). Values live in a WeakMap keyed by the request, so each request sees its own,
 * and nothing outlives the request.
 *
 * Reading and assigning `req.auth` work as before, for the guard and for any other code; what
 * changes is that `auth` is not an own property (`Object.keys(req)` leaves it out, `delete
 * req.auth` does not clear it). Where the request is not an Express request (a plain object in a
 * test, a raw `IncomingMessage`), or `auth` is already declared on that prototype, nothing is
 * declared and `req.auth` is an ordinary property, as it always was.
 */
const values = new WeakMap<object, unknown>()

function get(this: object): unknown {
  return values.get(this)
}

function set(this: object, value: unknown): void {
  values.set(this, value)
}

/** The request prototype seen last: declaring is looked at once per prototype, not per request. */
let seen: object | null | undefined

function declareAuth(req: object): void {
  const proto = Object.getPrototypeOf(req) as object | null
  if (proto === seen) return
  seen = proto
  // Walk up to the object whose prototype is IncomingMessage's: Express's shared `request`.
  let base = proto
  while (base !== null) {
    const parent = Object.getPrototypeOf(base) as object | null
    if (parent === IncomingMessage.prototype) break
    base = parent
  }
  if (base === null || Object.getOwnPropertyDescriptor(base, 'auth') !== undefined) return
  Object.defineProperty(base, 'auth', { configurable: true, enumerable: true, get, set })
}

/** Sets `req.auth` to the verified token (see above: without a new property per request). */
export function setAuth(req: BearerGuardRequest, auth: VerifiedAccessToken): void {
  declareAuth(req)
  req.auth = auth
}
