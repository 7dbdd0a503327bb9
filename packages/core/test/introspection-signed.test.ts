/**
 * RFC 9701 signed introspection answers: asked for when the authorization server offers them
 * (§7 metadata), verified with the issuer's keys (§5: `typ`, signature, `iss`, `aud`, `iat`,
 * `token_introspection`); anything that fails verification is a 503, never an answer.
 */
import { createTestIssuer, type TestIssuer, type TestKey } from '@bearer-guard/testing'
import { CompactSign } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createAccessTokenValidator, type IntrospectionSettings } from '../src/index.js'
import { AUDIENCE, expectInvalid, expectUnavailable } from './support/helpers.js'

/** The URL a fetch call names. */
function urlOf(input: string | URL | Request): string {
  return typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
}
const CLIENT = { clientId: 'orders-api', clientSecret: 's3cret' }
const JWT_ANSWER = 'application/token-introspection+jwt'
let signing: TestIssuer
let plain: TestIssuer

beforeAll(async () => {
  signing = await createTestIssuer({
    algorithm: 'ES256',
    signedIntrospection: true,
    clients: [CLIENT],
  })
  plain = await createTestIssuer({ algorithm: 'ES256', clients: [CLIENT] })
})
afterEach(() => {
  signing.fail('introspection', null)
  plain.fail('introspection', null)
})
afterAll(async () => {
  await signing.close()
  await plain.close()
})

/** What the validator sent and got, seen through its `fetch`. */
interface Exchange {
  readonly accept: string | null
  readonly type: string | null
}

function validator(
  at: TestIssuer,
  introspection: Partial<IntrospectionSettings> = {},
  exchanges: Exchange[] = [],
) {
  const recording: typeof fetch = async (input, init) => {
    const response = await fetch(input, init)
    if (urlOf(input).endsWith('/introspect')) {
      exchanges.push({
        accept: new Headers(init?.headers).get('accept'),
        type: response.headers.get('content-type'),
      })
    }
    return response
  }
  return createAccessTokenValidator({
    issuer: at.issuer,
    audience: AUDIENCE,
    fetch: recording,
    introspection: { ...CLIENT, ...introspection },
  })
}

const now = () => Math.floor(Date.now() / 1000)

/** A signed answer as an authorization server would make it, changed as a test says. */
async function answer(
  at: TestIssuer,
  changes: {
    header?: Record<string, unknown>
    payload?: Record<string, unknown>
    key?: TestKey
  } = {},
): Promise<string> {
  const key = changes.key ?? at.activeKey
  const payload = {
    iss: at.issuer,
    aud: CLIENT.clientId,
    iat: now(),
    token_introspection: { active: true, sub: 'alice', aud: AUDIENCE, exp: now() + 60 },
    ...changes.payload,
  }
  const header = { alg: key.alg, kid: key.kid, typ: 'token-introspection+jwt', ...changes.header }
  return await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(header)
    .sign(key.privateKey, { crit: { 'urn:example:x': true } })
}

function serve(at: TestIssuer, body: string, contentType = JWT_ANSWER): void {
  at.fail('introspection', { kind: 'body', body, contentType })
}

describe('RFC 9701 §4, §7: asked for when offered', () => {
  it('asks for a signed answer, verifies it with the issuer keys and accepts it', async () => {
    const exchanges: Exchange[] = []
    const auth = await validator(signing, {}, exchanges).verify(
      signing.mintOpaque({ scope: 'orders:read' }),
    )
    expect(auth.claims).toMatchObject({ active: true, scope: 'orders:read', iss: signing.issuer })
    expect(exchanges).toEqual([{ accept: JWT_ANSWER, type: JWT_ANSWER }])
  })

  it('an inactive signed answer is a 401', async () => {
    const token = signing.mintOpaque()
    signing.revoke(token)
    await expectInvalid(validator(signing).verify(token), 'ERR_TOKEN_INACTIVE')
  })

  it('asks for JSON when nothing is offered', async () => {
    const exchanges: Exchange[] = []
    await validator(plain, {}, exchanges).verify(plain.mintOpaque())
    expect(exchanges).toEqual([{ accept: 'application/json', type: 'application/json' }])
  })

  it('a signed answer nobody asked for is still verified, and accepted when it holds', async () => {
    serve(plain, await answer(plain))
    const auth = await validator(plain).verify('b3BhcXVl')
    expect(auth.claims.sub).toBe('alice')
  })

  it("accepts the 'application/' spelling of typ (RFC 7515 §4.1.9) and aud naming this API", async () => {
    serve(
      signing,
      await answer(signing, { header: { typ: JWT_ANSWER }, payload: { aud: [AUDIENCE] } }),
    )
    expect((await validator(signing).verify('b3BhcXVl')).claims.sub).toBe('alice')
  })
})

describe('RFC 9701 §5, §8: a signed answer that does not hold is a 503', () => {
  const cases: [string, (at: TestIssuer) => Promise<string>][] = [
    ['signed by a foreign key', async (at) => answer(at, { key: await at.generateKey('ES256') })],
    [
      'without typ (§8.1: an access token would pass)',
      (at) => answer(at, { header: { typ: undefined } }),
    ],
    ["typed 'JWT'", (at) => answer(at, { header: { typ: 'JWT' } })],
    ['from another issuer', (at) => answer(at, { payload: { iss: 'https://other.example.com' } })],
    ['for another resource server', (at) => answer(at, { payload: { aud: 'someone-else' } })],
    ['without aud', (at) => answer(at, { payload: { aud: undefined } })],
    ['issued in the future', (at) => answer(at, { payload: { iat: now() + 600 } })],
    ['without iat', (at) => answer(at, { payload: { iat: undefined } })],
    [
      'without token_introspection',
      (at) => answer(at, { payload: { token_introspection: undefined } }),
    ],
    [
      'with a critical header',
      (at) => answer(at, { header: { crit: ['urn:example:x'], 'urn:example:x': 1 } }),
    ],
    ['an encrypted (five-part) answer', () => Promise.resolve('a.b.c.d.e')],
  ]

  it.each(cases)('%s', async (_, make) => {
    serve(signing, await make(signing))
    await expectUnavailable(validator(signing).verify('b3BhcXVl'))
  })

  it('signed with an algorithm the server did not offer', async () => {
    const rsa = await signing.generateKey('RS256')
    signing.publishKey(rsa)
    try {
      serve(signing, await answer(signing, { key: rsa }))
      await expectUnavailable(validator(signing).verify('b3BhcXVl'))
    } finally {
      signing.unpublishKey(rsa.kid)
    }
  })
})

describe('requireSignedResponse', () => {
  it('an issuer that offers no signed answers: 503', async () => {
    await expectUnavailable(
      validator(plain, { requireSignedResponse: true }).verify(plain.mintOpaque()),
    )
  })

  it('a plain JSON answer is refused', async () => {
    serve(signing, JSON.stringify({ active: true }), 'application/json')
    await expectUnavailable(validator(signing, { requireSignedResponse: true }).verify('b3BhcXVl'))
  })

  it('with a configured endpoint, a signed answer is asked for without discovery', async () => {
    const exchanges: Exchange[] = []
    const v = validator(
      signing,
      { requireSignedResponse: true, endpoint: signing.introspectionEndpoint },
      exchanges,
    )
    expect((await v.verify(signing.mintOpaque())).claims.active).toBe(true)
    expect(exchanges[0]?.accept).toBe(JWT_ANSWER)
  })
})
