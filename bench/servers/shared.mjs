// What every benchmark server shares: its settings (from run.mjs, through the environment), the
// route's answer, a scope check for the peers that have none, and how to report the port.
import { AUDIENCE, ORDERS, SCOPE, bearerGuardOptions } from '../lib/common.mjs'

export { AUDIENCE, ORDERS, SCOPE }

export const ISSUER = process.env.BENCH_ISSUER ?? ''
export const JWKS_URI = process.env.BENCH_JWKS_URI ?? ''
export const PUBLIC_KEY_PEM = process.env.BENCH_PUBLIC_KEY_PEM ?? ''

/** bearer-guard's options for this server: cache per BENCH_TOKEN_CACHE (on|off), else defaults. */
export const guardOptions = bearerGuardOptions(ISSUER, process.env.BENCH_TOKEN_CACHE ?? 'on')

/** The check the peers without scope support get: `scope` (space-separated) holds SCOPE. */
export function hasScope(claims) {
  return typeof claims?.scope === 'string' && claims.scope.split(' ').includes(SCOPE)
}

/** Tells run.mjs where this server listens. */
export function ready(port) {
  process.send?.({ port })
  // bench/instructions.mjs ends a server this way, so that valgrind sees a normal exit.
  process.on('message', (message) => {
    if (message === 'exit') process.exit(0)
  })
}
