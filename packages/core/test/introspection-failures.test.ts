/**
 * An introspection endpoint that cannot be reached, or answers anything but an RFC 7662 answer,
 * gets the request a 503 with `Retry-After`: never a 401 (the token may be good) and never a 500.
 * Timeouts, size limits and no redirects, as for key sets. A cached answer keeps answering.
 */
import { createServer } from 'node:http'
import { createTestIssuer, type Fault, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { onKeySetFailure, type KeySetFailure } from '../src/adapter.js'
import {
  createAccessTokenValidator,
  type AccessTokenValidatorOptions,
  type IntrospectionSettings,
} from '../src/index.js'
import {
  AUDIENCE,
  expectInvalid,
  expectUnavailable,
  manualClock,
  sleep,
} from './support/helpers.js'

/** The URL a fetch call names. */
function urlOf(input: string | URL | Request): string {
  return typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
}
const CLIENT = { clientId: 'orders-api', clientSecret: 's3cret' }
const clock = manualClock()
let issuer: TestIssuer

beforeAll(async () => {
  issuer = await createTestIssuer({ clock: clock.now, clients: [CLIENT] })
})
afterEach(() => {
  issuer.fail('introspection', null)
  issuer.fail('all', null)
})
afterAll(() => issuer.close())

function validator(
  introspection: Partial<IntrospectionSettings> = {},
  options: Partial<AccessTokenValidatorOptions> = {},
) {
  return createAccessTokenValidator({
    issuer: issuer.issuer,
    audience: AUDIENCE,
    clock: clock.now,
    fetchTimeout: 0.3,
    introspection: { ...CLIENT, ...introspection },
    ...options,
  })
}

describe('503 with Retry-After, never 401 or 500', () => {
  const faults: [string, Fault][] = [
    ['HTTP 500', { kind: 'status', status: 500, body: 'oops' }],
    ['HTTP 503', { kind: 'status', status: 503 }],
    ['a redirect (never followed)', { kind: 'status', status: 302, headers: { location: '/x' } }],
    ['an HTML error page', { kind: 'garbage' }],
    ['a connection reset', { kind: 'reset' }],
    ['no answer within fetchTimeout', { kind: 'hang' }],
    ['a JSON array', { kind: 'body', body: '[]' }],
    ['truncated JSON', { kind: 'body', body: '{"active":tr' }],
    [
      'active as the string "true" (RFC 7662 §2.2: a boolean)',
      { kind: 'body', body: '{"active":"true"}' },
    ],
    ['active as the number 1', { kind: 'body', body: '{"active":1}' }],
    ['no active member', { kind: 'body', body: '{"sub":"alice"}' }],
    ['another media type', { kind: 'body', body: '{"active":true}', contentType: 'text/plain' }],
    [
      'an answer larger than maxResponseSize',
      { kind: 'body', body: JSON.stringify({ active: true, pad: 'x'.repeat(300_000) }) },
    ],
    [
      'a signed answer nobody can verify',
      { kind: 'body', body: 'a.b.c', contentType: 'application/token-introspection+jwt' },
    ],
  ]

  it.each(faults)('%s', async (_, fault) => {
    issuer.fail('introspection', fault)
    const token = issuer.mintOpaque()
    const error = await expectUnavailable(validator().verify(token))
    expect(error.message).not.toContain(token)
    expect(error.body.error).toBe('temporarily_unavailable')
  })

  it('the endpoint refusing the client credentials (RFC 7662 §2.3) is a 503 and a log line naming them', async () => {
    const failures: KeySetFailure[] = []
    const v = validator({ clientSecret: 'wrong' })
    onKeySetFailure(v, (failure) => failures.push(failure))
    const token = issuer.mintOpaque()
    await expectUnavailable(v.verify(token))
    expect(failures).toHaveLength(1)
    expect(failures[0]?.message).toContain('cannot introspect access tokens at issuer')
    expect(failures[0]?.message).toContain(
      "the client credentials of 'orders-api' (client_secret_basic) were refused",
    )
    expect(failures[0]?.message).not.toContain('wrong')
    expect(failures[0]?.message).not.toContain(token)
  })

  it('an unreachable endpoint', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const address = closed.address()
    await new Promise((resolve) => closed.close(resolve))
    const port = typeof address === 'object' && address !== null ? address.port : 1
    await expectUnavailable(
      validator({ endpoint: `http://127.0.0.1:${port}/introspect` }).verify(issuer.mintOpaque()),
    )
  })

  it('discovery failing: 503', async () => {
    issuer.fail('discovery', { kind: 'status', status: 500 })
    await expectUnavailable(validator().verify(issuer.mintOpaque()))
  })

  it('a configured endpoint needs no discovery', async () => {
    issuer.fail('discovery', { kind: 'status', status: 500 })
    issuer.resetCounts()
    const auth = await validator({ endpoint: issuer.introspectionEndpoint }).verify(
      issuer.mintOpaque(),
    )
    expect(auth.claims.active).toBe(true)
    expect(issuer.requests.discovery).toBe(0)
  })

  it('a discovery document without introspection_endpoint: 503 naming the member', async () => {
    const bare = createServer((request, response) => {
      const origin = `http://127.0.0.1:${String((bare.address() as { port: number }).port)}`
      response.writeHead(request.url?.includes('.well-known') ? 200 : 404, {
        'content-type': 'application/json',
      })
      response.end(JSON.stringify({ issuer: origin, jwks_uri: `${origin}/jwks` }))
    })
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve))
    try {
      const origin = `http://127.0.0.1:${String((bare.address() as { port: number }).port)}`
      const failures: KeySetFailure[] = []
      const v = createAccessTokenValidator({
        issuer: origin,
        audience: AUDIENCE,
        introspection: CLIENT,
      })
      onKeySetFailure(v, (failure) => failures.push(failure))
      await expectUnavailable(v.verify('b3BhcXVl'))
      expect(failures[0]?.message).toContain('has no introspection_endpoint')
    } finally {
      await new Promise((resolve) => bare.close(resolve))
    }
  })
})

describe('while the endpoint fails', () => {
  it('a cached answer keeps answering; a new token gets 503', async () => {
    const v = validator()
    const cached = issuer.mintOpaque()
    await v.verify(cached)
    issuer.fail('introspection', { kind: 'status', status: 500 })
    expect((await v.verify(cached)).claims.active).toBe(true)
    await expectUnavailable(v.verify(issuer.mintOpaque()))
  })

  it('pauses after a failure (1 s, doubling): requests meanwhile get 503 without a call', async () => {
    const v = validator()
    issuer.fail('introspection', { kind: 'status', status: 500 })
    issuer.resetCounts()
    await expectUnavailable(v.verify(issuer.mintOpaque()))
    expect(issuer.requests.introspection).toBe(1)
    issuer.fail('introspection', null)
    await expectUnavailable(v.verify(issuer.mintOpaque()))
    expect(issuer.requests.introspection).toBe(1)
    clock.advance(1000)
    expect((await v.verify(issuer.mintOpaque())).claims.active).toBe(true)
    expect(issuer.requests.introspection).toBe(2)
  })

  it('concurrent failures count as one step of the pause', async () => {
    const v = validator()
    issuer.fail('introspection', { kind: 'status', status: 500 })
    await Promise.allSettled(Array.from({ length: 20 }, () => v.verify(issuer.mintOpaque())))
    issuer.fail('introspection', null)
    clock.advance(1000)
    expect((await v.verify(issuer.mintOpaque())).claims.active).toBe(true)
  })

  it('one log line per failure episode', async () => {
    const v = validator()
    const failures: KeySetFailure[] = []
    onKeySetFailure(v, (failure) => failures.push(failure))
    issuer.fail('introspection', { kind: 'garbage' })
    for (let i = 0; i < 3; i++) {
      await expectUnavailable(v.verify(issuer.mintOpaque()))
      clock.advance(5000)
    }
    expect(failures).toHaveLength(1)
    expect(failures[0]).toMatchObject({ issuer: issuer.issuer, servingStaleKeys: false })
    expect(failures[0]?.message).toContain('did not answer valid JSON')
    issuer.fail('introspection', null)
    clock.advance(60_000)
    await v.verify(issuer.mintOpaque())
    issuer.fail('introspection', { kind: 'status', status: 500 })
    await expectUnavailable(v.verify(issuer.mintOpaque()))
    expect(failures).toHaveLength(2)
  })

  it('an inactive answer is still a 401 (the endpoint works)', async () => {
    const token = issuer.mintOpaque()
    issuer.revoke(token)
    await expectInvalid(validator().verify(token), 'ERR_TOKEN_INACTIVE')
  })

  it('ready() rejects with 503 while the endpoint cannot be found, and works once it can', async () => {
    const v = validator()
    issuer.fail('discovery', { kind: 'status', status: 500 })
    await expectUnavailable(v.ready())
    // Promise.all rejected with the first failure; let the other discovery settle too.
    await sleep(100)
    issuer.fail('discovery', null)
    await v.ready()
  })
})

describe('a custom fetch', () => {
  it('that follows redirects anyway: the answer is refused (redirected)', async () => {
    const following: typeof fetch = async (input, init) => {
      const response = await fetch(input, init)
      Object.defineProperty(response, 'redirected', { value: true })
      return response
    }
    await expectUnavailable(validator({}, { fetch: following }).verify(issuer.mintOpaque()))
  })

  it('that ignores the abort signal: the timeout still holds', async () => {
    const stalled: typeof fetch = (input, init) =>
      urlOf(input).endsWith('/introspect')
        ? new Promise<Response>(() => undefined)
        : fetch(input, init)
    const started = Date.now()
    await expectUnavailable(validator({}, { fetch: stalled }).verify(issuer.mintOpaque()))
    expect(Date.now() - started).toBeLessThan(3000)
  })

  it('whose body stalls after the headers: the timeout still holds', async () => {
    const stalled: typeof fetch = async (input, init) => {
      if (!urlOf(input).endsWith('/introspect')) return fetch(input, init)
      const body = new ReadableStream<Uint8Array>({ start: () => undefined })
      return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } })
    }
    await expectUnavailable(validator({}, { fetch: stalled }).verify(issuer.mintOpaque()))
  })
})
