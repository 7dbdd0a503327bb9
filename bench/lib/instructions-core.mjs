// Core's cached path alone, for bench/instructions.mjs (run under valgrind): BENCH_INSTR_REQUESTS
// calls of `verifyRequestCallback`, one per event-loop turn as a server makes them (so timers can
// fire between them), each with a fresh `Authorization` string, as a server gets it from its HTTP
// parser, cycling through the tokens it is given. The key is static (the issuer's public key, given
// by the parent), so nothing here depends on the network or on random numbers: two runs differ
// only by their number of calls.
import { Buffer } from 'node:buffer'
import { readFileSync } from 'node:fs'
import { setImmediate } from 'node:timers'
import { createAccessTokenValidator } from '@bearer-guard/core'
import { verifyRequestCallback } from '@bearer-guard/core/adapter'
import { AUDIENCE } from './common.mjs'

const env = process.env
const requests = Number(env.BENCH_INSTR_REQUESTS)
const tokens = JSON.parse(readFileSync(env.BENCH_INSTR_TOKENS_FILE, 'utf8'))
const validator = createAccessTokenValidator({
  issuer: env.BENCH_ISSUER,
  audience: AUDIENCE,
  keys: env.BENCH_PUBLIC_KEY_PEM,
})
const headers = tokens.map((token) => Buffer.from(`Bearer ${token}`, 'latin1'))

let verified = 0
function expectVerified(error, auth) {
  if (auth === undefined) throw error
  verified++
}

let i = 0
function step() {
  if (i === requests) {
    if (verified !== requests) throw new Error(`${requests - verified} requests were refused`)
    process.exit(0)
  }
  const authorization = headers[i++ % headers.length].toString('latin1')
  verifyRequestCallback(
    validator,
    { method: 'GET', url: '/orders', headers: { host: '127.0.0.1', authorization } },
    expectVerified,
  )
  setImmediate(step)
}
step()
