import { decodeJwt } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestIssuer } from '../src/index.js'
import type { TestClientOptions, TestIssuer, TestIssuerOptions } from '../src/index.js'
import { basic, requestToken } from './token-helpers.js'

const started: TestIssuer[] = []
async function start(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const issuer = await createTestIssuer({ algorithm: 'ES256', ...options })
  started.push(issuer)
  return issuer
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((issuer) => issuer.close()))
})

const grant = { grant_type: 'client_credentials' }

describe('registerClient()', () => {
  it('registers a client that can get tokens from then on, and returns it with defaults', async () => {
    const issuer = await start({ audience: ['https://a.example.com', 'urn:b', 'plain'] })
    const before = await requestToken(issuer, grant, { authorization: basic('late', 's') })
    expect(before.body.error).toBe('invalid_client')

    const client = issuer.registerClient({ clientId: 'late', clientSecret: 's' })
    expect(client).toEqual({
      clientId: 'late',
      clientSecret: 's',
      scope: undefined,
      audience: ['https://a.example.com', 'urn:b', 'plain'],
      // Only absolute URIs can be resource indicators.
      resources: ['https://a.example.com', 'urn:b'],
      grantTypes: ['client_credentials'],
      tokenEndpointAuthMethod: undefined,
      jwks: [],
    })
    expect(Object.isFrozen(client)).toBe(true)
    const after = await requestToken(issuer, grant, { authorization: basic('late', 's') })
    expect(after.status).toBe(200)
    expect(decodeJwt(after.body.access_token as string).aud).toEqual(client.audience)
  })

  it('uses the client audience when no resource is requested', async () => {
    const issuer = await start()
    issuer.registerClient({ clientId: 'c', clientSecret: 's', audience: 'https://own.example.com' })
    const answer = await requestToken(issuer, grant, { authorization: basic('c', 's') })
    expect(decodeJwt(answer.body.access_token as string).aud).toBe('https://own.example.com')
    const named = await requestToken(
      issuer,
      { ...grant, resource: 'https://own.example.com' },
      { authorization: basic('c', 's') },
    )
    expect(named.status).toBe(200)
  })

  it('issues tokens living tokenLifetime seconds, timed by the injected clock', async () => {
    const now = Date.UTC(2030, 0, 1)
    const issuer = await start({ tokenLifetime: 60, clock: () => now })
    issuer.registerClient({ clientId: 'c', clientSecret: 's' })
    const answer = await requestToken(issuer, grant, { authorization: basic('c', 's') })
    expect(answer.body.expires_in).toBe(60)
    expect(decodeJwt(answer.body.access_token as string)).toMatchObject({
      iat: now / 1000,
      exp: now / 1000 + 60,
    })
  })

  it('refuses a second client with the same id', async () => {
    const issuer = await start({ clients: [{ clientId: 'c', clientSecret: 's' }] })
    expect(() => issuer.registerClient({ clientId: 'c', clientSecret: 't' })).toThrow(
      /registerClient\(\): a client "c" is already registered/,
    )
  })

  it.each([
    [{ clientSecret: 's' }, /clientId/],
    [{ clientId: '', clientSecret: 's' }, /clientId/],
    [{ clientId: 'é', clientSecret: 's' }, /clientId/],
    [{ clientId: 'c' }, /clientSecret/],
    [{ clientId: 'c', clientSecret: 's', scope: 'a "b"' }, /scope/],
    [{ clientId: 'c', clientSecret: 's', audience: [] }, /audience/],
    [{ clientId: 'c', clientSecret: 's', resources: ['/relative'] }, /resources/],
    [{ clientId: 'c', clientSecret: 's', resources: ['https://x#y'] }, /resources/],
    [{ clientId: 'c', clientSecret: 's', grantTypes: 'client_credentials' }, /grantTypes/],
    [{ clientId: 'c', clientSecret: 's', tokenEndpointAuthMethod: 'none' }, /tokenEndpointAuth/],
    [{ clientId: 'c', clientSecret: 's', secret: 'typo' }, /unknown option "secret"/],
    [null, /object/],
  ])('refuses %o with a TypeError', async (options, message) => {
    const issuer = await start()
    // Deliberately wrong types: these are the mistakes a JavaScript caller can make.
    const register = (): unknown => issuer.registerClient(options as unknown as TestClientOptions)
    expect(register).toThrow(TypeError)
    expect(register).toThrow(message)
  })
})

describe('createTestIssuer({ clients })', () => {
  it('names the bad client by its index', async () => {
    await expect(
      createTestIssuer({
        clients: [{ clientId: 'a', clientSecret: 's' }, { clientId: 'b' } as never],
      }),
    ).rejects.toThrow(/createTestIssuer\(\): clients\[1\]: clientSecret/)
    await expect(
      createTestIssuer({
        clients: [
          { clientId: 'a', clientSecret: 's' },
          { clientId: 'a', clientSecret: 't' },
        ],
      }),
    ).rejects.toThrow(/already registered/)
    await expect(createTestIssuer({ clients: 'a' as never })).rejects.toThrow(TypeError)
  })
})
