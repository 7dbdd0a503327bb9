/**
 * `watchExpiry` (adapter subpath): a long-lived connection ends when core stops accepting its
 * token (RFC 7519 §4.1.4 `exp`, plus `clockTolerance`), or at the first check after `exp` when the
 * token was revoked; a spent DPoP proof (RFC 9449 §11.1) never ends it. Real tokens from the test
 * issuer, short-lived, and real time: the watcher schedules by `Date.now`, and core decides by the
 * validator's clock (the default, `Date.now`, here). Tests run concurrently, each a few seconds.
 */
import {
  createTestIssuer,
  generateDpopKey,
  type DpopKey,
  type TestIssuer,
} from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, it } from 'vitest'
import {
  BearerGuardError,
  MemoryRevocationStore,
  UseDpopNonceError,
  createAccessTokenValidator,
  type AccessTokenValidator,
  type AccessTokenValidatorOptions,
  type BearerRequest,
  type VerifiedAccessToken,
} from '../src/index.js'
import { watchExpiry } from '../src/adapter.js'
import { AUDIENCE, rejection } from './support/helpers.js'

const ORIGIN = 'https://api.example.com'
/** Generous: every test waits in real time, on a machine other test runs share. */
const TIMEOUT = 15_000
/** How late an end may come after the check that should produce it (timer and CI slack). */
const SLACK_MS = 1_500

let issuer: TestIssuer
let key: DpopKey

beforeAll(async () => {
  issuer = await createTestIssuer()
  key = await generateDpopKey('ES256')
})
afterAll(async () => {
  await issuer.close()
})

/** A validator for the test issuer, and how many times anyone asked it to verify a request. */
function counted(options: Partial<AccessTokenValidatorOptions>): {
  validator: AccessTokenValidator
  checks: () => number
} {
  const real = createAccessTokenValidator({ issuer: issuer.issuer, audience: AUDIENCE, ...options })
  let calls = 0
  // The real validator behind, counted: every re-check of the watcher goes through here.
  const validator = Object.freeze({
    ...real,
    verifyRequest: (request: BearerRequest) => {
      calls++
      return real.verifyRequest(request)
    },
  })
  return { validator, checks: () => calls }
}

/** An `exp` (seconds) `seconds` from now, at a whole second, as `exp` is. */
const expIn = (seconds: number): number => Math.ceil(Date.now() / 1000) + seconds

const bearer = (token: string): BearerRequest => ({
  method: 'GET',
  url: '/socket',
  headers: { authorization: `Bearer ${token}` },
})

/** Watches `auth`; `ended` resolves with core's refusal and when it came. */
function watch(validator: AccessTokenValidator, request: BearerRequest, auth: VerifiedAccessToken) {
  let ends = 0
  let resolveEnd: (value: { error: unknown; at: number }) => void = () => undefined
  const ended = new Promise<{ error: unknown; at: number }>((resolve) => {
    resolveEnd = resolve
  })
  const stop = watchExpiry(validator, request, auth, (error) => {
    ends++
    resolveEnd({ error, at: Date.now() })
  })
  return { ended, stop, ends: () => ends }
}

const codeOf = (error: unknown): string =>
  error instanceof BearerGuardError ? error.code : String(error)

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))

describe.concurrent('watchExpiry: a connection lives while core accepts its token', () => {
  it(
    'ends at exp + clockTolerance with ERR_TOKEN_EXPIRED (RFC 7519 §4.1.4), not before, and once',
    async ({ expect }) => {
      const { validator, checks } = counted({ clockTolerance: 1 })
      const exp = expIn(1)
      const request = bearer(await issuer.mint({ exp }))
      const auth = await validator.verifyRequest(request)
      const before = checks()
      const watcher = watch(validator, request, auth)
      await sleep(exp * 1000 - Date.now() - 100)
      expect(checks()).toBe(before) // nothing runs before exp
      const { error, at } = await watcher.ended
      expect(codeOf(error)).toBe('ERR_TOKEN_EXPIRED')
      expect(at).toBeGreaterThanOrEqual((exp + 1) * 1000)
      expect(at).toBeLessThan((exp + 1) * 1000 + SLACK_MS)
      // Asked at exp (accepted within the tolerance), then a second later (refused): no more.
      const asked = checks() - before
      expect(asked).toBeGreaterThanOrEqual(2)
      expect(asked).toBeLessThanOrEqual(3)
      await sleep(1_200)
      expect(checks() - before).toBe(asked)
      expect(watcher.ends()).toBe(1)
    },
    TIMEOUT,
  )

  it(
    'a token accepted within the tolerance after its exp is not ended synchronously, but at exp + tolerance',
    async ({ expect }) => {
      const { validator, checks } = counted({ clockTolerance: 3 })
      const exp = Math.floor(Date.now() / 1000) - 1 // 1 to 2 s ago
      const request = bearer(await issuer.mint({ exp }))
      const auth = await validator.verifyRequest(request)
      const before = checks()
      const watcher = watch(validator, request, auth)
      // The application receives the connection first: no check, no end, in this tick.
      expect(watcher.ends()).toBe(0)
      expect(checks()).toBe(before)
      const { error, at } = await watcher.ended
      expect(codeOf(error)).toBe('ERR_TOKEN_EXPIRED')
      expect(at).toBeGreaterThanOrEqual((exp + 3) * 1000)
      expect(at).toBeLessThan((exp + 3) * 1000 + SLACK_MS)
    },
    TIMEOUT,
  )

  it(
    'a token revoked meanwhile ends at the first check after exp, ERR_TOKEN_REVOKED; none runs before exp',
    async ({ expect }) => {
      const revocation = new MemoryRevocationStore()
      // A long tolerance: expiry cannot be what ends it within this test.
      const { validator, checks } = counted({ clockTolerance: 20, revocation })
      const exp = expIn(1)
      const jti = 'revoked-while-connected'
      const request = bearer(await issuer.mint({ exp, jti }))
      const auth = await validator.verifyRequest(request)
      const before = checks()
      const watcher = watch(validator, request, auth)
      revocation.revoke(jti, (exp + 20) * 1000)
      // Decided: no periodic re-check before exp (see watch-expiry.ts), so still open until then.
      await sleep(exp * 1000 - Date.now() - 100)
      expect(watcher.ends()).toBe(0)
      expect(checks()).toBe(before)
      const { error, at } = await watcher.ended
      expect(codeOf(error)).toBe('ERR_TOKEN_REVOKED')
      expect(at).toBeGreaterThanOrEqual(exp * 1000)
      expect(at).toBeLessThan(exp * 1000 + SLACK_MS)
    },
    TIMEOUT,
  )

  it(
    'stop() before exp clears the timer: no check and no end afterwards',
    async ({ expect }) => {
      const { validator, checks } = counted({ clockTolerance: 0 })
      const exp = expIn(1)
      const request = bearer(await issuer.mint({ exp }))
      const auth = await validator.verifyRequest(request)
      const before = checks()
      const watcher = watch(validator, request, auth)
      await sleep(100)
      watcher.stop()
      watcher.stop() // idempotent
      await sleep(exp * 1000 + 1_500 - Date.now())
      expect(checks()).toBe(before)
      expect(watcher.ends()).toBe(0)
    },
    TIMEOUT,
  )

  it(
    'stop() while past exp (checks a second apart) ends the checks too',
    async ({ expect }) => {
      const { validator, checks } = counted({ clockTolerance: 10 })
      const exp = expIn(1)
      const request = bearer(await issuer.mint({ exp }))
      const auth = await validator.verifyRequest(request)
      const before = checks()
      const watcher = watch(validator, request, auth)
      await sleep(exp * 1000 + 1_300 - Date.now())
      const asked = checks() - before
      expect(asked).toBeGreaterThanOrEqual(1) // re-checks are running
      watcher.stop()
      await sleep(2_200)
      expect(checks() - before).toBe(asked)
      expect(watcher.ends()).toBe(0)
    },
    TIMEOUT,
  )

  it(
    'its timer keeps no process alive (unref)',
    async ({ expect }) => {
      const { validator } = counted({})
      const request = bearer(await issuer.mint({ exp: expIn(60) }))
      const auth = await validator.verifyRequest(request)
      const timers = (): number =>
        process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length
      // Synchronous: nothing else runs between the two counts.
      const count = timers()
      const watcher = watch(validator, request, auth)
      expect(timers()).toBe(count)
      watcher.stop()
    },
    TIMEOUT,
  )

  it(
    'a token valid for longer than a timer can wait (2^31 - 1 ms) is not ended, with no overflow warning',
    async ({ expect }) => {
      const { validator, checks } = counted({})
      const request = bearer(await issuer.mint({ exp: expIn(40 * 86_400) }))
      const auth = await validator.verifyRequest(request)
      const before = checks()
      const warnings: string[] = []
      const onWarning = (warning: Error): void => {
        warnings.push(warning.name)
      }
      process.on('warning', onWarning)
      try {
        const watcher = watch(validator, request, auth)
        await sleep(200)
        // Node turns an over-long delay into 1 ms, with a TimeoutOverflowWarning: not here.
        expect(warnings).not.toContain('TimeoutOverflowWarning')
        expect(checks()).toBe(before)
        expect(watcher.ends()).toBe(0)
        watcher.stop()
      } finally {
        process.off('warning', onWarning)
      }
    },
    TIMEOUT,
  )

  it(
    'a token without exp (an introspection answer, RFC 7662 §2.2) is not re-checked every second',
    async ({ expect }) => {
      const { validator, checks } = counted({})
      const request = bearer(await issuer.mint({ exp: expIn(60) }))
      const verified = await validator.verifyRequest(request)
      // What core hands over for an introspected token whose answer had no `exp`.
      const auth = { ...verified, claims: { ...verified.claims, exp: undefined } }
      const before = checks()
      const watcher = watch(validator, request, auth as unknown as VerifiedAccessToken)
      await sleep(1_300)
      expect(checks()).toBe(before) // asked once a minute, not once a second
      expect(watcher.ends()).toBe(0)
      watcher.stop()
    },
    TIMEOUT,
  )
})

describe.concurrent(
  'watchExpiry and DPoP: a spent proof says nothing about the token (RFC 9449 §11.1)',
  () => {
    const dpopRequest = async (token: string, nonce?: string): Promise<BearerRequest> => ({
      method: 'GET',
      url: '/socket',
      headers: {
        authorization: `DPoP ${token}`,
        dpop: await key.proof({ htm: 'GET', htu: `${ORIGIN}/socket`, accessToken: token, nonce }),
      },
    })

    it(
      'a replayed proof (ERR_DPOP_PROOF_INVALID) does not end it: it ends at exp + tolerance',
      async ({ expect }) => {
        const { validator, checks } = counted({ clockTolerance: 2, dpop: { origin: ORIGIN } })
        const exp = expIn(1)
        const token = await issuer.mint({ exp }, { dpop: key })
        const request = await dpopRequest(token)
        const auth = await validator.verifyRequest(request)
        // What every re-check meets before the token expires: the proof was used.
        expect((await rejection(validator.verifyRequest(request))).code).toBe(
          'ERR_DPOP_PROOF_INVALID',
        )
        const before = checks()
        const watcher = watch(validator, request, auth)
        const { error, at } = await watcher.ended
        expect(codeOf(error)).toBe('ERR_TOKEN_EXPIRED')
        expect(at).toBeGreaterThanOrEqual((exp + 2) * 1000)
        expect(at).toBeLessThan((exp + 2) * 1000 + SLACK_MS)
        expect(checks() - before).toBeGreaterThanOrEqual(3) // refused proofs, then the expiry
      },
      TIMEOUT,
    )

    it(
      'a proof whose server nonce went stale (ERR_DPOP_NONCE_REQUIRED, RFC 9449 §9) does not end it either',
      async ({ expect }) => {
        const { validator } = counted({
          clockTolerance: 4,
          dpop: { origin: ORIGIN, nonce: { step: 1 } },
        })
        const exp = expIn(1)
        const token = await issuer.mint({ exp }, { dpop: key })
        const challenge = await rejection(validator.verifyRequest(await dpopRequest(token)))
        if (!(challenge instanceof UseDpopNonceError)) throw new Error('expected use_dpop_nonce')
        const request = await dpopRequest(token, challenge.nonce)
        const auth = await validator.verifyRequest(request)
        const watcher = watch(validator, request, auth)
        // The nonce handed out is the next 1 s step's, accepted to the end of the step after it:
        // stale 3 s from now at the latest, so by exp + 2, still within the tolerance.
        await sleep((exp + 2.5) * 1000 - Date.now())
        expect((await rejection(validator.verifyRequest(request))).code).toBe(
          'ERR_DPOP_NONCE_REQUIRED',
        )
        expect(watcher.ends()).toBe(0)
        const { error, at } = await watcher.ended
        expect(codeOf(error)).toBe('ERR_TOKEN_EXPIRED')
        expect(at).toBeGreaterThanOrEqual((exp + 4) * 1000)
        expect(at).toBeLessThan((exp + 4) * 1000 + SLACK_MS)
      },
      TIMEOUT,
    )
  },
)
