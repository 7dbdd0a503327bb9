/**
 * A socket lives while core accepts its token (core's `watchExpiry`, the rule the gRPC adapter
 * follows too): the server closes it with 1008 and the reason `token expired` (RFC 6455 §7.4.1),
 * never anything from the token, at `exp` (RFC 7519 §4.1.4) plus the validator's
 * `clockTolerance`, the instant a new upgrade with that token would be refused; or at the first
 * check after `exp` if the token was revoked meanwhile. Real time, short-lived tokens, and a
 * `clockTolerance` of 1 s; the tests run concurrently, each a few seconds.
 */
import {
  MemoryRevocationStore,
  type RevocationQuery,
  type RevocationStore,
} from '@bearer-guard/core'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { closed, connect, inbox, openRaw, startServer, type Harness } from './support/harness.js'

const audience = 'https://api.example.com'
/** The test guard's `clockTolerance`, in seconds. */
const TOLERANCE = 1
/** How late a close may come after the check that should produce it (timer and CI slack). */
const SLACK_MS = 1_500
const TIMEOUT = 15_000

let issuer: TestIssuer
let api: Harness
/** A guard with a revocation store (and a long tolerance: expiry cannot close within a test). */
let revoking: Harness
const memory = new MemoryRevocationStore()
/** Tokens (by `jti`) whose revocation check throws from now on: a store that went down. */
const failing = new Set<string>()
const revocation: RevocationStore = {
  isRevoked(token: RevocationQuery) {
    if (token.jti !== undefined && failing.has(token.jti)) throw new Error('store unreachable')
    return memory.isRevoked(token)
  },
  revoke(jti, expiresAt) {
    memory.revoke(jti, expiresAt)
  },
  revokeSubject(iss, sub, before) {
    memory.revokeSubject(iss, sub, before)
  },
}

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithm: 'ES256', audience })
  api = await startServer({
    issuer: issuer.issuer,
    audience,
    clockTolerance: TOLERANCE,
    firstMessage: { timeout: 5 },
  })
  revoking = await startServer({ issuer: issuer.issuer, audience, clockTolerance: 20, revocation })
})
afterAll(async () => {
  await api.close()
  await revoking.close()
  await issuer.close()
})

/** A token whose `exp` is `seconds` ahead, at a whole second, as `exp` is. */
async function tokenExpiringIn(
  seconds: number,
  claims: Record<string, unknown> = {},
): Promise<{ token: string; exp: number }> {
  const exp = Math.ceil(Date.now() / 1000) + seconds
  return { token: await issuer.mint({ ...claims, exp }), exp }
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))

describe.concurrent('closing when core stops accepting the token', () => {
  it(
    'closes an open socket with 1008 token expired at exp + clockTolerance, not before',
    async ({ expect }) => {
      const { token, exp } = await tokenExpiringIn(1)
      const outcome = await connect(api, { headers: { authorization: `Bearer ${token}` } })
      expect(outcome.kind).toBe('open')
      if (outcome.kind !== 'open') return
      const messages = inbox(outcome.ws)
      // Open and serving until then.
      outcome.ws.send('still here')
      expect(await messages.next()).toBe('still here')
      const { code, reason } = await closed(outcome.ws)
      const at = Date.now()
      expect({ code, reason }).toEqual({ code: 1008, reason: 'token expired' })
      expect(at).toBeGreaterThanOrEqual((exp + TOLERANCE) * 1000)
      expect(at).toBeLessThan((exp + TOLERANCE) * 1000 + SLACK_MS)
    },
    TIMEOUT,
  )

  it(
    'closes a socket authenticated by its first message at exp + clockTolerance too',
    async ({ expect }) => {
      const { token, exp } = await tokenExpiringIn(1)
      const ws = await openRaw(api)
      const messages = inbox(ws)
      ws.send(`Bearer ${token}`)
      await messages.next() // the hello: authenticated
      const result = await closed(ws)
      const at = Date.now()
      expect(result).toEqual({ code: 1008, reason: 'token expired' })
      expect(at).toBeGreaterThanOrEqual((exp + TOLERANCE) * 1000)
      expect(at).toBeLessThan((exp + TOLERANCE) * 1000 + SLACK_MS)
    },
    TIMEOUT,
  )

  it(
    'a token revoked while its socket is open closes it at the first check after exp',
    async ({ expect }) => {
      const { token, exp } = await tokenExpiringIn(1, { jti: 'revoked-while-open' })
      const outcome = await connect(revoking, { headers: { authorization: `Bearer ${token}` } })
      if (outcome.kind !== 'open') throw new Error('refused')
      memory.revoke('revoked-while-open', (exp + 20) * 1000)
      const result = await closed(outcome.ws)
      const at = Date.now()
      expect(result).toEqual({ code: 1008, reason: 'token expired' })
      expect(at).toBeGreaterThanOrEqual(exp * 1000)
      expect(at).toBeLessThan(exp * 1000 + SLACK_MS) // long before exp + 20 s
    },
    TIMEOUT,
  )

  it(
    'a re-check that fails unexpectedly (a revocation store down) closes with 1011 and one log line',
    async ({ expect }) => {
      const jti = 'store-fails-after-upgrade'
      const { token, exp } = await tokenExpiringIn(1, { jti })
      const outcome = await connect(revoking, { headers: { authorization: `Bearer ${token}` } })
      if (outcome.kind !== 'open') throw new Error('refused')
      failing.add(jti)
      const result = await closed(outcome.ws)
      expect(result).toEqual({ code: 1011, reason: 'internal error' })
      expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000)
      const lines = revoking.warnings.filter((line) => line.includes('open WebSocket'))
      expect(lines).toEqual([
        'bearer-guard: re-checking the token of an open WebSocket failed unexpectedly (Error); closed with 1011',
      ])
      expect(lines.join('\n')).not.toContain(token)
    },
    TIMEOUT,
  )

  it(
    'a socket closed by its client first leaves no timer that closes anything later',
    async ({ expect }) => {
      const { token, exp } = await tokenExpiringIn(1)
      const outcome = await connect(api, { headers: { authorization: `Bearer ${token}` } })
      if (outcome.kind !== 'open') throw new Error('refused')
      const server = api.accepted.find((accepted) => accepted.auth.token === token)!.ws
      const closes: number[] = []
      const originalClose = server.close.bind(server)
      server.close = (code?: number, reason?: string | Buffer) => {
        closes.push(code ?? 0)
        originalClose(code, reason)
      }
      outcome.ws.close(1000)
      await closed(outcome.ws)
      await sleep((exp + TOLERANCE) * 1000 + 1_300 - Date.now())
      // ws answers the client's close frame itself (1000); no 1008 may follow from a timer.
      expect(closes).not.toContain(1008)
    },
    TIMEOUT,
  )

  it(
    'a token valid for longer than a timer can wait (2^31 - 1 ms) keeps its socket open',
    async ({ expect }) => {
      const warnings: string[] = []
      const onWarning = (warning: Error): void => {
        warnings.push(warning.name)
      }
      process.on('warning', onWarning)
      try {
        const token = await issuer.mint({ exp: Math.floor(Date.now() / 1000) + 40 * 86_400 })
        const outcome = await connect(api, { headers: { authorization: `Bearer ${token}` } })
        expect(outcome.kind).toBe('open')
        if (outcome.kind !== 'open') return
        const messages = inbox(outcome.ws)
        await sleep(100)
        outcome.ws.send('ping')
        expect(await messages.next()).toBe('ping')
        // Node turns an over-long delay into 1 ms, with a TimeoutOverflowWarning: not here.
        expect(warnings).not.toContain('TimeoutOverflowWarning')
        outcome.ws.close()
      } finally {
        process.off('warning', onWarning)
      }
    },
    TIMEOUT,
  )
})
