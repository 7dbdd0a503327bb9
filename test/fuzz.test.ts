/**
 * Property-based fuzzing (fast-check) of header parsing and token verification, over real HTTP,
 * against every example API (support/examples.ts). The quick run for CI; the long run
 * (>= 100,000 cases per adapter) is `node scripts/fuzz-long.mjs`, recorded in FUZZ-RESULTS.md.
 *
 * Every property: any input gets 400/401 with a well-formed challenge and JSON body (as
 * support/fuzz-cases.ts's oracle says from RFC 6750 alone), never a 5xx, never an accepted
 * token unless it is the valid one. The seed is fixed and printed on failure; replay or widen
 * with FUZZ_SEED=<n> FUZZ_RUNS=<n>.
 */
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { examples } from './support/examples.js'
import {
  ALL_SCOPES,
  fuzzContext,
  headerCase,
  judge,
  mutationCase,
  structuredCase,
  type FuzzCase,
  type FuzzContext,
} from './support/fuzz-cases.js'
import { createClient, rawExchange, type Client } from './support/hostile.js'
import { startExample, stopCleanly, type RunningExample } from './support/process.js'

const AUDIENCE = 'https://api.example.com'
const SEED = Number(process.env.FUZZ_SEED ?? 20_260_501)
const RUNS = Number(process.env.FUZZ_RUNS ?? 200)

describe.each(examples)('fuzzing: $name', (example) => {
  let issuer: TestIssuer
  let api: RunningExample
  let client: Client
  let context: FuzzContext
  const statuses = new Map<number, number>()

  beforeAll(async () => {
    // Long-lived, so a slow replay with FUZZ_RUNS does not outlive the valid token.
    issuer = await createTestIssuer({ audience: AUDIENCE, tokenLifetime: 86_400 })
    api = await startExample(example.dir, { ...example.env, ISSUER: issuer.issuer, AUDIENCE })
    client = createClient(api.url)
    context = fuzzContext(await issuer.mint({ scope: ALL_SCOPES }))
  })

  afterAll(async () => {
    client.close()
    try {
      await stopCleanly(api, example.dir)
    } finally {
      await issuer.close()
    }
  })

  /** Sends a case and throws (for fast-check to shrink) when the reply breaks the contract. */
  async function check(fuzzCase: FuzzCase): Promise<void> {
    const reply = await client.send(fuzzCase)
    statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1)
    const verdict = judge(fuzzCase, reply, context.token)
    if (verdict.problem !== undefined || verdict.forgery) {
      throw new Error(
        `${verdict.problem ?? 'accepted'} for ${fuzzCase.method} ${fuzzCase.path} ` +
          `Authorization: ${JSON.stringify(fuzzCase.authorization)}\n-> ${reply.status} ` +
          `${String(reply.headers['www-authenticate'])} ${reply.text.slice(0, 300)}`,
      )
    }
  }

  const run = (arbitrary: fc.Arbitrary<FuzzCase>) =>
    fc.assert(fc.asyncProperty(arbitrary, check), { seed: SEED, numRuns: RUNS })

  it('the valid token the mutations start from is accepted', async () => {
    await check({
      kind: 'mutation',
      method: 'GET',
      path: '/me',
      authorization: `Bearer ${context.token}`,
    })
    expect(statuses.get(200)).toBe(1)
  })

  it('any Authorization value gets 400/401 with a well-formed challenge and JSON body', async () => {
    await run(headerCase())
  })

  it('no mutation of a valid token is accepted, and none gets a 5xx', async () => {
    await run(mutationCase(context))
  })

  it('tokens built from random headers, payloads and signatures get 401 invalid_token', async () => {
    await run(structuredCase(context))
  })

  it('bytes Node refuses in a header (CTLs) get 400 before the guard; the server keeps serving', async () => {
    const port = Number(new URL(api.url).port)
    const control = fc
      .integer({ min: 0, max: 0x1f })
      .filter((c) => c !== 0x09)
      .map((c) => String.fromCharCode(c))
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 20 }),
        control,
        fc.string({ maxLength: 20 }),
        async (before, ctl, after) => {
          const value = Buffer.from(`${before}${ctl}${after}`, 'utf8').toString('latin1')
          const head = `GET /me HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer ${value}\r\n\r\n`
          const { reply, error } = await rawExchange(port, Buffer.from(head, 'latin1'))
          const status = reply?.status ?? 0
          statuses.set(status, (statuses.get(status) ?? 0) + 1)
          // CR/LF split the line: what follows is another (bogus) header or the end of the
          // head, which the guard may then see; any refusal will do, a 2xx or 5xx will not.
          if (![400, 401].includes(status)) {
            throw new Error(
              `${JSON.stringify(value)} -> ${status} ${String(error)} ${reply?.text ?? ''}`,
            )
          }
        },
      ),
      { seed: SEED, numRuns: Math.ceil(RUNS / 4) },
    )
    const after = await client.send({ path: '/me', authorization: `Bearer ${context.token}` })
    expect(after.status).toBe(200)
  })

  it('answered nothing with a 5xx', () => {
    expect([...statuses.keys()].filter((status) => status >= 500)).toEqual([])
  })
})
