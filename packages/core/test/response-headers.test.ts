/**
 * `responseHeaders` (adapter subpath): what an adapter sets on the response to a verified request,
 * i.e. the DPoP nonce the binding stage chose to hand out ahead of the step change (RFC 9449 §8.2).
 */
import {
  createTestIssuer,
  generateDpopKey,
  type DpopKey,
  type TestIssuer,
} from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { responseHeaders, verifyRequestCallback } from '../src/adapter.js'
import {
  createAccessTokenValidator,
  type AccessTokenValidatorOptions,
  type BearerRequest,
  type VerifiedAccessToken,
} from '../src/index.js'
import { AUDIENCE, manualClock, rejection, type ManualClock } from './support/helpers.js'

const ORIGIN = 'https://api.example.com'
const STEP = 300
const LEAD = 30
let issuer: TestIssuer
let key: DpopKey

beforeAll(async () => {
  issuer = await createTestIssuer({ tokenLifetime: 3600 })
  key = await generateDpopKey('ES256')
})
afterAll(async () => {
  await issuer.close()
})

/** A clock at the start of a nonce step, so the test decides when the step rolls. */
function stepStart(): ManualClock {
  const clock = manualClock()
  clock.advance(STEP * 1000 - (clock.now() % (STEP * 1000)))
  return clock
}

function make(clock: ManualClock, dpop: AccessTokenValidatorOptions['dpop']) {
  return createAccessTokenValidator({
    issuer: issuer.issuer,
    audience: AUDIENCE,
    dpop,
    clock: clock.now,
  })
}

async function dpopRequest(
  token: string,
  clock: ManualClock,
  nonce?: string,
): Promise<BearerRequest> {
  const proof = await key.proof({
    htm: 'GET',
    htu: `${ORIGIN}/orders`,
    accessToken: token,
    iat: Math.floor(clock.now() / 1000),
    nonce,
  })
  return { method: 'GET', url: '/orders', headers: { authorization: `DPoP ${token}`, dpop: proof } }
}

/** `verifyRequestCallback`, as adapters call it, as a promise of the token. */
function verifyNow(
  validator: ReturnType<typeof make>,
  request: BearerRequest,
): Promise<VerifiedAccessToken | undefined> {
  return new Promise((resolve, reject) => {
    verifyRequestCallback(validator, request, (error, auth) => {
      if (error === null) resolve(auth)
      else reject(error instanceof Error ? error : new Error('not an Error'))
    })
  })
}

describe('responseHeaders', () => {
  it('is undefined for a bearer request, and for DPoP without server nonces', async () => {
    const clock = stepStart()
    const validator = make(clock, { origin: ORIGIN })
    const bearer = { headers: { authorization: `Bearer ${await issuer.mint()}` } }
    expect(await validator.verifyRequest(bearer)).toBeTruthy()
    expect(responseHeaders(bearer)).toBeUndefined()
    const dpop = await dpopRequest(await issuer.mint({}, { dpop: key }), clock)
    expect(await verifyNow(validator, dpop)).toBeTruthy()
    expect(responseHeaders(dpop)).toBeUndefined()
  })

  it('hands out the new nonce once the step rolled, and none to a client that has it', async () => {
    const clock = stepStart()
    const secret = 's'.repeat(32)
    const validator = make(clock, { origin: ORIGIN, nonce: { secret, step: STEP } })
    const token = await issuer.mint({}, { dpop: key })

    const first = await rejection(validator.verifyRequest(await dpopRequest(token, clock)))
    const current = first.headers['DPoP-Nonce'] as string
    expect(current).toEqual(expect.any(String))

    // The freshest nonce already: nothing to send.
    const fresh = await dpopRequest(token, clock, current)
    expect(await verifyNow(validator, fresh)).toBeTruthy()
    expect(responseHeaders(fresh)).toBeUndefined()

    // The next step: the previous nonce is still accepted, and the response carries the new one.
    clock.advance(STEP * 1000)
    const rolled = await dpopRequest(token, clock, current)
    expect(await verifyNow(validator, rolled)).toBeTruthy()
    const headers = responseHeaders(rolled)
    expect(headers).toEqual({ 'DPoP-Nonce': expect.stringMatching(/^[A-Za-z0-9_-]+$/) })
    const next = headers?.['DPoP-Nonce'] as string
    expect(next).not.toBe(current)
    // Only for the request object core verified: a copy of it has nothing recorded.
    expect(responseHeaders({ ...rolled })).toBeUndefined()

    const updated = await dpopRequest(token, clock, next)
    expect(await validator.verifyRequest(updated)).toBeTruthy()
    expect(responseHeaders(updated)).toBeUndefined()
  })

  it('sends the next step nonce ahead, in the last seconds of a step (§8.2)', async () => {
    const clock = stepStart()
    const validator = make(clock, { origin: ORIGIN, nonce: { secret: 't'.repeat(32), step: STEP } })
    const token = await issuer.mint({}, { dpop: key })
    const refusal = await rejection(validator.verifyRequest(await dpopRequest(token, clock)))
    const current = refusal.headers['DPoP-Nonce'] as string
    clock.advance((STEP - LEAD / 2) * 1000)
    const late = await dpopRequest(token, clock, current)
    expect(await verifyNow(validator, late)).toBeTruthy()
    const ahead = responseHeaders(late)?.['DPoP-Nonce']
    expect(ahead).toEqual(expect.any(String))
    expect(ahead).not.toBe(current)
    // The nonce sent ahead is accepted already, and still after the step rolled.
    expect(await validator.verifyRequest(await dpopRequest(token, clock, ahead))).toBeTruthy()
    clock.advance(LEAD * 1000)
    const after = await dpopRequest(token, clock, ahead)
    expect(await validator.verifyRequest(after)).toBeTruthy()
    expect(responseHeaders(after)).toBeUndefined()
  })

  it('is not consulted for refusals: their headers are on the error', async () => {
    const clock = stepStart()
    const validator = make(clock, { origin: ORIGIN, nonce: { secret: 'u'.repeat(32), step: STEP } })
    const request = await dpopRequest(await issuer.mint({}, { dpop: key }), clock)
    const error = await rejection(validator.verifyRequest(request))
    expect(error.headers['DPoP-Nonce']).toEqual(expect.any(String))
    expect(responseHeaders(request)).toBeUndefined()
  })
})
