/**
 * The interceptor over real gRPC: a grpc-js server and client on loopback, tokens from a real
 * in-process issuer (discovery, JWKS over HTTP). Every refusal class of RFC 6750 (and RFC 9470
 * step-up) as a gRPC status with the challenge in the `www-authenticate` trailer.
 */
import { createTestIssuer, encodeToken, type TestIssuer, type TestKey } from '@bearer-guard/testing'
import { status, type Client, type ServerInterceptor } from '@grpc/grpc-js'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { bearerChallenge, parseWwwAuthenticate } from '../../../test/support/www-authenticate.js'
import { bearerGuard, serviceAccess } from '../src/index.js'
import {
  Catalog,
  Hidden,
  Shop,
  bearer,
  catalogService,
  clientStream,
  collect,
  duplex,
  leaksNoToken,
  metadata,
  serverStream,
  shopService,
  startServer,
  trailer,
  unary,
  visibleText,
  type Items,
  type Running,
} from './support.js'

const AUDIENCE = 'https://api.example.com'
const now = (): number => Math.floor(Date.now() / 1000)

let issuer: TestIssuer
let foreign: TestKey
let api: Running
let shop: Client
let catalog: Client
const warnings: string[] = []

const services = () => [
  serviceAccess(shopService, {
    Get: 'authenticated',
    Write: { allOf: ['shop:write'] },
    Delete: { allOf: ['shop:write', 'shop:admin'] },
    Audit: { acr: ['urn:example:mfa'], maxAge: 300 },
    Tick: { allOf: ['shop:read'] },
    Upload: 'authenticated',
    Chat: 'authenticated',
  }),
  serviceAccess(catalogService, { Browse: 'optional', Ping: 'public' }),
]

beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE })
  foreign = await issuer.generateKey()
  const guard = bearerGuard({
    issuer: issuer.issuer,
    audience: AUDIENCE,
    services: services(),
    logger: { warn: (line) => warnings.push(line) },
  })
  api = await startServer({ interceptors: [guard] })
  shop = api.client(Shop)
  catalog = api.client(Catalog)
})

afterAll(async () => {
  await api.close()
  await issuer.close()
})

afterEach(() => {
  issuer.fail('all', null)
})

describe('a verified call', () => {
  it('reaches its handler, which reads the verified token with getAuth()', async () => {
    const token = await issuer.mint({ sub: 'alice', scope: 'shop:read shop:write' })
    const { value, error } = await unary(shop, 'Get', bearer(token))
    expect(error).toBeUndefined()
    expect(value).toEqual({ id: 'Get', sub: 'alice', scopes: ['shop:read', 'shop:write'] })
  })

  it('passes a policy: allOf (RFC 6750 §3.1 scopes)', async () => {
    const token = await issuer.mint({ sub: 'bob', scope: 'shop:write shop:admin' })
    const { value, error } = await unary(shop, 'Delete', bearer(token))
    expect(error).toBeUndefined()
    expect(value?.sub).toBe('bob')
  })

  it('a client stream reaches its handler, which reads the token', async () => {
    const token = await issuer.mint({ sub: 'carol' })
    const value = await clientStream<Items>(shop, 'Upload', bearer(token), [
      { id: 'a', sub: '', scopes: [] },
      { id: 'b', sub: '', scopes: [] },
    ])
    expect(value.sub).toBe('carol')
    expect(value.items.map((item) => item.id)).toEqual(['a', 'b'])
  })
})

describe('RFC 6750 §3.1: no credentials → UNAUTHENTICATED, a challenge without error', () => {
  it.each([
    ['no authorization metadata', undefined],
    ['another scheme (Basic)', 'Basic dXNlcjpwYXNz'],
  ])('%s', async (_what, authorization) => {
    const before = api.handled.calls.get('Get') ?? 0
    const { error } = await unary(shop, 'Get', metadata(authorization))
    expect(error?.code).toBe(status.UNAUTHENTICATED)
    expect(error?.details).toBe('Authentication with a bearer access token is required')
    // RFC 6750 §3.1: "the resource server SHOULD NOT include an error code" without credentials.
    expect(bearerChallenge(trailer(error, 'www-authenticate')).params).toEqual({ realm: AUDIENCE })
    expect(api.handled.calls.get('Get') ?? 0).toBe(before)
  })
})

describe('RFC 6750 §3.1 invalid_request → UNAUTHENTICATED (malformed credentials)', () => {
  it.each([
    ['the Bearer scheme without a token', 'Bearer'],
    ['a token that is not token68 (RFC 6750 §2.1)', 'Bearer abc$def'],
  ])('%s', async (_what, authorization) => {
    const { error } = await unary(shop, 'Get', metadata(authorization))
    expect(error?.code).toBe(status.UNAUTHENTICATED)
    const challenge = bearerChallenge(trailer(error, 'www-authenticate'))
    expect(challenge.params.error).toBe('invalid_request')
    expect(challenge.params.error_description).toBe(error?.details)
  })
})

describe('RFC 6750 §3.1 invalid_token → UNAUTHENTICATED', () => {
  const cases: readonly [string, () => Promise<string>][] = [
    ['not a JWT', () => Promise.resolve('abc.def.ghi')],
    ['signed by a key the issuer does not publish', () => issuer.mint({}, { key: foreign })],
    ['a forged signature', async () => (await issuer.mint()).slice(0, -4) + 'AAAA'],
    ['expired (RFC 7519 §4.1.4)', () => issuer.mint({ iat: now() - 600, exp: now() - 120 })],
    ['not yet valid (RFC 7519 §4.1.5)', () => issuer.mint({ nbf: now() + 600 })],
    ['for another audience (RFC 7519 §4.1.3)', () => issuer.mint({ aud: 'https://other.example' })],
    ['from another issuer (RFC 7519 §4.1.1)', () => issuer.mint({ iss: 'https://evil.example/' })],
    [
      "alg 'none' (RFC 8725 §3.1)",
      () =>
        Promise.resolve(
          encodeToken({
            header: { alg: 'none', typ: 'at+jwt' },
            payload: { iss: issuer.issuer, aud: AUDIENCE, sub: 'x', exp: now() + 600 },
          }),
        ),
    ],
    [
      'HMAC keyed with the public key (RFC 8725 §2.1)',
      () => issuer.mint({}, { secret: issuer.activeKey.publicKeyPem, header: { alg: 'HS256' } }),
    ],
    [
      'an OpenID Connect ID token (RFC 9068 §4)',
      () =>
        issuer.mint(
          { nonce: 'n-1', azp: 'web', auth_time: now(), client_id: undefined },
          { header: { typ: 'JWT' } },
        ),
    ],
  ]

  it.each(cases)('%s', async (_what, make) => {
    const token = await make()
    const before = api.handled.calls.get('Get') ?? 0
    const { error } = await unary(shop, 'Get', bearer(token))
    expect(error?.code).toBe(status.UNAUTHENTICATED)
    const challenge = bearerChallenge(trailer(error, 'www-authenticate'))
    expect(challenge.params.error).toBe('invalid_token')
    expect(challenge.params.realm).toBe(AUDIENCE)
    expect(challenge.params.error_description).toBe(error?.details)
    expect(leaksNoToken(visibleText(error), token)).toBe(true)
    expect(api.handled.calls.get('Get') ?? 0).toBe(before)
  })
})

describe('RFC 6750 §3.1 insufficient_scope → PERMISSION_DENIED', () => {
  it('names the scopes the method needs', async () => {
    const token = await issuer.mint({ scope: 'shop:write' })
    const { error } = await unary(shop, 'Delete', bearer(token))
    expect(error?.code).toBe(status.PERMISSION_DENIED)
    const challenge = bearerChallenge(trailer(error, 'www-authenticate'))
    expect(challenge.params).toMatchObject({
      error: 'insufficient_scope',
      scope: 'shop:write shop:admin',
    })
    expect(error?.details).toMatch(/lacks a required scope/)
  })

  it('a streaming call is refused at its start: no message is sent', async () => {
    const token = await issuer.mint({ scope: 'shop:write' })
    const before = api.handled.calls.get('Tick') ?? 0
    const outcome = await collect(serverStream(shop, 'Tick', bearer(token), { count: 3 }))
    expect(outcome.status.code).toBe(status.PERMISSION_DENIED)
    expect(outcome.messages).toEqual([])
    expect(
      bearerChallenge(outcome.status.metadata.get('www-authenticate')[0] as string).params,
    ).toMatchObject({ error: 'insufficient_scope', scope: 'shop:read' })
    expect(api.handled.calls.get('Tick') ?? 0).toBe(before)
  })
})

describe('RFC 9470 step-up → UNAUTHENTICATED insufficient_user_authentication', () => {
  it('without the required acr: acr_values says which', async () => {
    const token = await issuer.mint({ acr: 'urn:example:pwd', auth_time: now() })
    const { error } = await unary(shop, 'Audit', bearer(token))
    expect(error?.code).toBe(status.UNAUTHENTICATED)
    expect(bearerChallenge(trailer(error, 'www-authenticate')).params).toMatchObject({
      error: 'insufficient_user_authentication',
      acr_values: 'urn:example:mfa',
    })
  })

  it('with an authentication older than maxAge: max_age says how recent', async () => {
    const token = await issuer.mint({ acr: 'urn:example:mfa', auth_time: now() - 3600 })
    const { error } = await unary(shop, 'Audit', bearer(token))
    expect(error?.code).toBe(status.UNAUTHENTICATED)
    expect(bearerChallenge(trailer(error, 'www-authenticate')).params).toMatchObject({
      error: 'insufficient_user_authentication',
      max_age: '300',
    })
  })

  it('a recent authentication with the acr passes', async () => {
    const token = await issuer.mint({ sub: 'dave', acr: 'urn:example:mfa', auth_time: now() })
    const { value, error } = await unary(shop, 'Audit', bearer(token))
    expect(error).toBeUndefined()
    expect(value?.sub).toBe('dave')
  })
})

describe('access declared per method', () => {
  it("'public': no token is read, a bad one is ignored", async () => {
    for (const md of [metadata(), metadata('Bearer not-a-jwt')]) {
      const { value, error } = await unary(catalog, 'Ping', md)
      expect(error).toBeUndefined()
      expect(value?.sub).toBe('')
    }
  })

  it("'optional': anonymous callers pass, findAuth() is undefined", async () => {
    const { value, error } = await unary(catalog, 'Browse', metadata())
    expect(error).toBeUndefined()
    expect(value?.sub).toBe('')
  })

  it("'optional': a valid token is verified and available", async () => {
    const token = await issuer.mint({ sub: 'erin' })
    const { value } = await unary(catalog, 'Browse', bearer(token))
    expect(value?.sub).toBe('erin')
  })

  it("'optional': a token that is sent must be valid", async () => {
    const token = await issuer.mint({}, { key: foreign })
    const { error } = await unary(catalog, 'Browse', bearer(token))
    expect(error?.code).toBe(status.UNAUTHENTICATED)
    expect(bearerChallenge(trailer(error, 'www-authenticate')).params.error).toBe('invalid_token')
  })

  it('a method no serviceAccess() declares is refused to everyone, and reported once', async () => {
    const token = await issuer.mint({ scope: 'shop:read shop:write shop:admin' })
    const hidden = api.client(Hidden)
    for (let i = 0; i < 2; i++) {
      const { error } = await unary(hidden, 'Secret', bearer(token))
      expect(error?.code).toBe(status.PERMISSION_DENIED)
      expect(error?.details).toBe('No access rule is declared for this method')
    }
    expect(api.handled.calls.get('Secret')).toBeUndefined()
    const lines = warnings.filter((line) => line.includes('/test.v1.Hidden/Secret'))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/no serviceAccess\(\) in bearerGuard\(\{ services \}\) declares/)
  })
})

describe('the verified token reaches the handler only through the guard', () => {
  async function withInterceptors(interceptors: ServerInterceptor[]) {
    const server = await startServer({ interceptors })
    try {
      return await unary(server.client(Shop), 'Get', bearer(await issuer.mint()))
    } finally {
      await server.close()
    }
  }

  it('getAuth() on a server without the guard throws: UNKNOWN, never a pass', async () => {
    const { error } = await withInterceptors([])
    expect(error?.code).toBe(status.UNKNOWN)
  })

  it('an interceptor after the guard that replaces the metadata loses the token: UNKNOWN', async () => {
    const guard = bearerGuard({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      services: services(),
      logger: false,
    })
    const { ServerInterceptingCall } = await import('@grpc/grpc-js')
    const cloning: ServerInterceptor = (_method, call) =>
      new ServerInterceptingCall(call, {
        start: (next) => {
          next({
            onReceiveMetadata: (md, pass) => {
              pass(md.clone())
            },
          })
        },
      })
    expect((await withInterceptors([guard])).error).toBeUndefined()
    expect((await withInterceptors([guard, cloning])).error?.code).toBe(status.UNKNOWN)
  })
})

describe('several challenges, one trailer', () => {
  it('a 401 of an API that accepts DPoP offers both schemes (RFC 9449 §7.1)', async () => {
    const guard = bearerGuard({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      dpop: { origin: 'https://grpc.example.com' },
      services: services(),
      logger: false,
    })
    const server = await startServer({ interceptors: [guard] })
    try {
      const { error } = await unary(server.client(Shop), 'Get', metadata())
      const challenges = parseWwwAuthenticate(trailer(error, 'www-authenticate') ?? '')
      expect(challenges.map((c) => c.scheme)).toEqual(['Bearer', 'DPoP'])
      expect(challenges[1]?.params.algs).toMatch(/ES256/)
    } finally {
      await server.close()
    }
  })
})

describe('bidirectional streams', () => {
  it('are verified at their start; the handler reads the token', async () => {
    const token = await issuer.mint({ sub: 'frank' })
    const call = duplex(shop, 'Chat', bearer(token))
    const done = collect(call)
    call.write({ id: '1', sub: '', scopes: [] })
    call.end()
    const outcome = await done
    expect(outcome.status.code).toBe(status.OK)
    expect(outcome.messages).toEqual([{ id: '1', sub: 'frank', scopes: [] }])
  })

  it('are refused at their start without a token', async () => {
    const call = duplex(shop, 'Chat', metadata())
    const done = collect(call)
    call.end()
    const outcome = await done
    expect(outcome.status.code).toBe(status.UNAUTHENTICATED)
  })
})

describe('hostile metadata', () => {
  it('keys that name object internals, and binary entries, change nothing', async () => {
    const hostile = (authorization?: string) => {
      const md = metadata(authorization)
      md.add('__proto__', 'Bearer a') // a legal metadata key; twice, an array
      md.add('__proto__', 'Bearer b')
      md.add('constructor', 'Bearer x')
      md.add('hasownproperty', 'x')
      md.add('authorization-bin', Buffer.from('Bearer x'))
      return md
    }
    const anonymous = await unary(shop, 'Get', hostile())
    expect(anonymous.error?.code).toBe(status.UNAUTHENTICATED)
    expect(bearerChallenge(trailer(anonymous.error, 'www-authenticate')).params).toEqual({
      realm: AUDIENCE,
    })
    const token = await issuer.mint({ sub: 'gina' })
    const verified = await unary(shop, 'Get', hostile(`Bearer ${token}`))
    expect(verified.error).toBeUndefined()
    expect(verified.value?.sub).toBe('gina')
  })
})
