/**
 * End to end with core: two validators ("two instances") sharing one Redis. A DPoP proof
 * accepted by one is a replay at the other; a revocation on one is honoured by the other, on its
 * verified-token cache hits too; Redis down refuses DPoP requests (401, never accepted unchecked)
 * while plain Bearer requests keep working.
 */
import {
  InvalidDpopProofError,
  InvalidTokenError,
  KeySetUnavailableError,
  createAccessTokenValidator,
  type AccessTokenValidator,
  type BearerRequest,
} from '@bearer-guard/core'
import {
  createTestIssuer,
  generateDpopKey,
  type DpopKey,
  type TestIssuer,
} from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisRevocationStore, createRedisStores, type RedisStores } from '../src/index.js'
import {
  eventually,
  partitionable,
  startRedis,
  stopped,
  type RedisServer,
} from './support/redis-server.js'

const ORIGIN = 'https://api.example.com'
const AUDIENCE = 'https://api.example.com'
let redis: RedisServer
let issuer: TestIssuer
let key: DpopKey
let fleet: { stores: RedisStores; validator: AccessTokenValidator }[]

beforeAll(async () => {
  redis = await startRedis()
  issuer = await createTestIssuer()
  key = await generateDpopKey('ES256')
  fleet = await Promise.all(
    [1, 2].map(async () => {
      const stores = createRedisStores({ url: redis.url, namespace: 'orders-api:test' })
      await stores.ready()
      const validator = createAccessTokenValidator({
        issuer: issuer.issuer,
        audience: AUDIENCE,
        dpop: { origin: ORIGIN, replayStore: stores.replay },
        revocation: stores.revocation,
      })
      return { stores, validator }
    }),
  )
})
afterAll(async () => {
  await Promise.allSettled(
    ((fleet as typeof fleet | undefined) ?? []).map(({ stores }) => stores.close()),
  )
  await stopped(issuer)
  await stopped(redis)
})

async function dpopRequest(token: string): Promise<BearerRequest> {
  const proof = await key.proof({ htm: 'GET', htu: `${ORIGIN}/orders`, accessToken: token })
  return { method: 'GET', url: '/orders', headers: { authorization: `DPoP ${token}`, dpop: proof } }
}

const bearer = (token: string): BearerRequest => ({
  method: 'GET',
  url: '/orders',
  headers: { authorization: `Bearer ${token}` },
})

describe('two validators sharing one Redis', () => {
  it('a DPoP proof accepted by one instance is refused by the other', async () => {
    const [one, two] = fleet as [(typeof fleet)[0], (typeof fleet)[0]]
    const token = await issuer.mint({ scope: 'orders:read' }, { dpop: key })
    const request = await dpopRequest(token)
    expect((await one.validator.verifyRequest(request)).claims.sub).toBe('user-123')
    const replay = two.validator.verifyRequest(request)
    await expect(replay).rejects.toBeInstanceOf(InvalidDpopProofError)
    await expect(replay).rejects.toMatchObject({ status: 401, message: /used before/ })
    // A fresh proof is accepted by either.
    expect(await two.validator.verifyRequest(await dpopRequest(token))).toBeTruthy()
  })

  it('a revocation on one instance is honoured by the other, cached token included', async () => {
    const [one, two] = fleet as [(typeof fleet)[0], (typeof fleet)[0]]
    const token = await issuer.mint({ scope: 'orders:read' })
    // Both instances have the token in their verified-token cache.
    const auth = await one.validator.verifyRequest(bearer(token))
    await two.validator.verifyRequest(bearer(token))
    await one.stores.revocation.revoke(auth.claims.jti as string, auth.claims.exp * 1000)
    await expect(one.validator.verifyRequest(bearer(token))).rejects.toMatchObject({
      code: 'ERR_TOKEN_REVOKED',
    })
    await eventually(
      () =>
        two.validator.verifyRequest(bearer(token)).then(
          () => false,
          (error: unknown) =>
            error instanceof InvalidTokenError && error.code === 'ERR_TOKEN_REVOKED',
        ),
      2000,
      'the revocation on the second instance',
    )
    // A subject revocation too: every token of the subject issued until now.
    const other = await issuer.mint({ sub: 'user-456' })
    await two.validator.verifyRequest(bearer(other))
    await two.stores.revocation.revokeSubject(issuer.issuer, 'user-456', Date.now())
    await eventually(
      () =>
        one.validator.verifyRequest(bearer(other)).then(
          () => false,
          () => true,
        ),
      2000,
      'the subject revocation on the first instance',
    )
  })

  it('Redis down: DPoP requests fail closed with 401, plain Bearer requests keep working', async () => {
    const [one] = fleet as [(typeof fleet)[0]]
    const bound = await issuer.mint({}, { dpop: key })
    const plain = await issuer.mint({})
    await one.validator.verifyRequest(bearer(plain)) // cached

    await redis.kill()
    try {
      const refused = one.validator.verifyRequest(await dpopRequest(bound))
      await expect(refused).rejects.toBeInstanceOf(InvalidDpopProofError)
      await expect(refused).rejects.toMatchObject({
        status: 401,
        message: /cannot be checked for replay/,
      })
      expect((await one.validator.verifyRequest(bearer(plain))).claims.sub).toBe('user-123')
      const fresh = await issuer.mint({ sub: 'new-user' }) // not cached: verified, not revoked
      expect((await one.validator.verifyRequest(bearer(fresh))).claims.sub).toBe('new-user')
    } finally {
      await redis.restart()
    }
    await eventually(
      () =>
        one.validator.verifyRequest(bearer(plain)).then(async () => {
          try {
            await one.validator.verifyRequest(await dpopRequest(bound))
            return true
          } catch {
            return false
          }
        }),
      10_000,
      'DPoP requests accepted again after the restart',
    )
  })

  it('with maxStaleness, a cut-off instance answers 503 with Retry-After, never 500', async () => {
    const partition = await partitionable(redis.port)
    const revocation = new RedisRevocationStore({
      url: partition.url,
      namespace: 'orders-api:test',
      syncInterval: 0.1,
      maxStaleness: 0.3,
    })
    try {
      await revocation.ready()
      const validator = createAccessTokenValidator({
        issuer: issuer.issuer,
        audience: AUDIENCE,
        revocation,
      })
      const token = await issuer.mint({})
      await validator.verifyRequest(bearer(token))
      partition.cut()
      await eventually(
        () =>
          validator.verifyRequest(bearer(token)).then(
            () => false,
            (error: unknown) => {
              if (!(error instanceof KeySetUnavailableError)) throw error
              expect(error.status).toBe(503)
              expect(error.headers['Retry-After']).toBe('1')
              return true
            },
          ),
        3000,
        'failing closed',
      )
    } finally {
      await revocation.close()
      await partition.close()
    }
  })
})
