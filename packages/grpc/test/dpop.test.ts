/**
 * DPoP (RFC 9449) over gRPC: `authorization: DPoP <token>` and one `dpop` proof in the metadata.
 * A gRPC call is an HTTP/2 `POST` to `/package.Service/Method`, so a proof's `htm` is `POST` and
 * its `htu` the API's configured origin plus the method path.
 */
import {
  createTestIssuer,
  generateDpopKey,
  type DpopKey,
  type TestIssuer,
} from '@bearer-guard/testing'
import { status, type Client, type Metadata } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { steppedClock } from '../../../test/support/dpop.js'
import {
  bearerChallenge,
  dpopChallenge,
  parseWwwAuthenticate,
} from '../../../test/support/www-authenticate.js'
import { bearerGuard, serviceAccess } from '../src/index.js'
import {
  Shop,
  bearer,
  catalogService,
  collect,
  metadata,
  serverStream,
  shopService,
  startServer,
  trailer,
  unary,
  type Running,
} from './support.js'

const AUDIENCE = 'https://api.example.com'
/** The origin clients reach the API at: proofs name it, whatever the server's own address. */
const ORIGIN = 'https://grpc.example.com'
const GET = '/test.v1.Shop/Get'

let issuer: TestIssuer
let key: DpopKey
let api: Running
let shop: Client

const services = () => [
  serviceAccess(shopService, 'authenticated'),
  serviceAccess(catalogService, 'public'),
]

beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE, tokenLifetime: 3600 })
  key = await generateDpopKey()
  const guard = bearerGuard({
    issuer: issuer.issuer,
    audience: AUDIENCE,
    dpop: { origin: ORIGIN },
    services: services(),
    logger: false,
  })
  api = await startServer({ interceptors: [guard] })
  shop = api.client(Shop)
})
afterAll(async () => {
  await api.close()
  await issuer.close()
})

/** The metadata of a DPoP call: the token in the DPoP scheme and one proof for `path`. */
async function dpop(
  token: string,
  path = GET,
  proof: { htm?: string; nonce?: string; iat?: number } = {},
): Promise<Metadata> {
  return metadata(`DPoP ${token}`, {
    dpop: await key.proof({
      htm: proof.htm ?? 'POST',
      htu: ORIGIN + path,
      accessToken: token,
      nonce: proof.nonce,
      iat: proof.iat,
    }),
  })
}

describe('a DPoP-bound token with a valid proof', () => {
  it('passes a unary call (htm POST, htu = origin + method path)', async () => {
    const token = await issuer.mint({ sub: 'alice' }, { dpop: key })
    const { value, error } = await unary(shop, 'Get', await dpop(token))
    expect(error).toBeUndefined()
    expect(value?.sub).toBe('alice')
  })

  it('passes a server stream, proved once at its start', async () => {
    const token = await issuer.mint({ sub: 'alice' }, { dpop: key })
    const outcome = await collect(
      serverStream(shop, 'Tick', await dpop(token, '/test.v1.Shop/Tick'), { count: 2 }),
    )
    expect(outcome.status.code).toBe(status.OK)
    expect(outcome.messages).toHaveLength(2)
  })
})

describe('refusals in the DPoP challenge (RFC 9449 §7.1)', () => {
  async function refusal(md: Metadata) {
    const { error } = await unary(shop, 'Get', md)
    expect(error?.code).toBe(status.UNAUTHENTICATED)
    return dpopChallenge(trailer(error, 'www-authenticate'))
  }

  it('no proof: invalid_dpop_proof', async () => {
    const token = await issuer.mint({}, { dpop: key })
    expect((await refusal(metadata(`DPoP ${token}`))).params.error).toBe('invalid_dpop_proof')
  })

  it('a proof for another method (htu, §4.3 item 9): invalid_dpop_proof', async () => {
    const token = await issuer.mint({}, { dpop: key })
    const md = await dpop(token, '/test.v1.Shop/Delete')
    expect((await refusal(md)).params.error).toBe('invalid_dpop_proof')
  })

  it('a proof for another HTTP method (htm, §4.3 item 8): invalid_dpop_proof', async () => {
    const token = await issuer.mint({}, { dpop: key })
    const md = await dpop(token, GET, { htm: 'GET' })
    expect((await refusal(md)).params.error).toBe('invalid_dpop_proof')
  })

  it('a proof used before (§11.1): invalid_dpop_proof', async () => {
    const token = await issuer.mint({}, { dpop: key })
    const md = await dpop(token)
    expect((await unary(shop, 'Get', md)).error).toBeUndefined()
    const challenge = await refusal(md)
    expect(challenge.params).toMatchObject({ error: 'invalid_dpop_proof' })
    expect(challenge.params.error_description).toMatch(/used before/)
  })

  it('two proofs (§4.3 item 1): invalid_request', async () => {
    const token = await issuer.mint({}, { dpop: key })
    const proof = async () => key.proof({ htm: 'POST', htu: ORIGIN + GET, accessToken: token })
    const md = metadata(`DPoP ${token}`, { dpop: [await proof(), await proof()] })
    expect((await refusal(md)).params.error).toBe('invalid_request')
  })
})

describe('a DPoP-bound token sent as a bearer token (§7.2)', () => {
  it('is refused: UNAUTHENTICATED invalid_token in the Bearer challenge', async () => {
    const token = await issuer.mint({}, { dpop: key })
    const { error } = await unary(shop, 'Get', bearer(token))
    expect(error?.code).toBe(status.UNAUTHENTICATED)
    expect(bearerChallenge(trailer(error, 'www-authenticate')).params.error).toBe('invalid_token')
  })
})

describe('server-provided nonces (RFC 9449 §8, §9)', () => {
  const STEP = 300
  const clock = steppedClock(STEP)
  let nonced: Running
  beforeAll(async () => {
    const guard = bearerGuard({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      dpop: { origin: ORIGIN, nonce: { secret: 'n'.repeat(32), step: STEP } },
      clock: clock.now,
      services: services(),
      logger: false,
    })
    nonced = await startServer({ interceptors: [guard] })
  })
  afterAll(() => nonced.close())

  it('use_dpop_nonce with a dpop-nonce trailer; the retry passes; a rolled step sends the next nonce', async () => {
    const client = nonced.client(Shop)
    const token = await issuer.mint({ sub: 'alice' }, { dpop: key })
    const iat = () => Math.floor(clock.now() / 1000)

    const first = await unary(client, 'Get', await dpop(token, GET, { iat: iat() }))
    expect(first.error?.code).toBe(status.UNAUTHENTICATED)
    const [challenge, ...others] = parseWwwAuthenticate(
      trailer(first.error, 'www-authenticate') ?? '',
    )
    expect(others).toEqual([])
    expect(challenge).toMatchObject({ scheme: 'DPoP', params: { error: 'use_dpop_nonce' } })
    const nonce = trailer(first.error, 'dpop-nonce')
    if (nonce === undefined) throw new Error('no dpop-nonce trailer')

    const retry = await unary(client, 'Get', await dpop(token, GET, { nonce, iat: iat() }))
    expect(retry.error).toBeUndefined()
    expect(retry.value?.sub).toBe('alice')
    expect(retry.initial?.get('dpop-nonce')).toEqual([])

    // §8.2: once the step rolls, a verified call's response metadata carries the next nonce.
    clock.advance(STEP * 1000)
    const rolled = await unary(client, 'Get', await dpop(token, GET, { nonce, iat: iat() }))
    expect(rolled.error).toBeUndefined()
    const [next] = rolled.initial?.get('dpop-nonce') ?? []
    expect(next).toEqual(expect.any(String))
    expect(next).not.toBe(nonce)
    const after = await unary(
      client,
      'Get',
      await dpop(token, GET, { nonce: next as string, iat: iat() }),
    )
    expect(after.error).toBeUndefined()
  })
})

describe('a DPoP stream that outlives its token', () => {
  it('ends at exp plus the tolerance, in the DPoP challenge: its spent proof does not end it early', async () => {
    const guard = bearerGuard({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      dpop: { origin: ORIGIN },
      clockTolerance: 1,
      services: services(),
      logger: false,
    })
    const server = await startServer({ interceptors: [guard] })
    try {
      const exp = Math.floor(Date.now() / 1000) + 2
      const token = await issuer.mint({ exp }, { dpop: key })
      const md = await dpop(token, '/test.v1.Shop/Tick')
      const outcome = await collect(
        serverStream(server.client(Shop), 'Tick', md, { count: 0, interval_ms: 100 }),
      )
      expect(outcome.status.code).toBe(status.UNAUTHENTICATED)
      expect(outcome.endedAt).toBeGreaterThanOrEqual((exp + 1) * 1000)
      expect(outcome.endedAt).toBeLessThan((exp + 1) * 1000 + 1_500)
      const challenge = dpopChallenge(outcome.status.metadata.get('www-authenticate')[0] as string)
      expect(challenge.params).toMatchObject({
        error: 'invalid_token',
        error_description: 'The access token expired',
      })
    } finally {
      await server.close()
    }
  })
})
