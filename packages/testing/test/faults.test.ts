import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createTestIssuer } from '../src/index.js'
import type { Fault, TestIssuer } from '../src/index.js'

let issuer: TestIssuer
beforeEach(async () => {
  issuer = await createTestIssuer({ algorithm: 'ES256' })
})
afterEach(() => issuer.close())

async function jwksStatus(): Promise<number> {
  return (await fetch(issuer.jwksUri)).status
}

describe('fail()', () => {
  it('status: answers with the status, body and headers given', async () => {
    issuer.fail('jwks', { kind: 'status', status: 500, body: 'boom', headers: { 'x-a': 'b' } })
    const response = await fetch(issuer.jwksUri)
    expect(response.status).toBe(500)
    expect(await response.text()).toBe('boom')
    expect(response.headers.get('x-a')).toBe('b')
    expect(response.headers.get('content-type')).toBe('text/plain')
    expect(issuer.requests.jwks).toBe(1)
  })

  it('status: a redirect is served as is, not followed by the issuer', async () => {
    issuer.fail('discovery', {
      kind: 'status',
      status: 302,
      headers: { location: 'https://evil.example/jwks' },
    })
    const response = await fetch(issuer.discoveryUrls.openid, { redirect: 'manual' })
    expect(response.status).toBe(302)
    expect(response.headers.get('location')).toBe('https://evil.example/jwks')
    expect(await response.text()).toBe('')
  })

  it('targets one endpoint, or both with "all"; null restores service', async () => {
    const notFound: Fault = { kind: 'status', status: 404 }
    issuer.fail('discovery', notFound)
    expect((await fetch(issuer.discoveryUrls.openid)).status).toBe(404)
    expect((await fetch(issuer.discoveryUrls.oauth)).status).toBe(404)
    expect(await jwksStatus()).toBe(200)

    issuer.fail('all', { kind: 'status', status: 503 })
    expect((await fetch(issuer.discoveryUrls.oauth)).status).toBe(503)
    expect(await jwksStatus()).toBe(503)

    issuer.fail('jwks', null)
    expect(await jwksStatus()).toBe(200)
    expect((await fetch(issuer.discoveryUrls.oauth)).status).toBe(503)
    issuer.fail('all', null)
    expect((await fetch(issuer.discoveryUrls.oauth)).status).toBe(200)
    // Faults never hide requests from the counters.
    expect(issuer.requests).toEqual({ discovery: 5, jwks: 3, token: 0, introspection: 0, other: 0 })
  })

  it('hang: never answers; the client gives up with its own timeout', async () => {
    issuer.fail('jwks', { kind: 'hang' })
    const started = performance.now()
    await expect(fetch(issuer.jwksUri, { signal: AbortSignal.timeout(200) })).rejects.toMatchObject(
      { name: 'TimeoutError' },
    )
    expect(performance.now() - started).toBeGreaterThanOrEqual(190)
    expect(issuer.requests.jwks).toBe(1)
    // Discovery is unaffected.
    expect((await fetch(issuer.discoveryUrls.openid)).status).toBe(200)
  })

  it('hang: a held request is served once the fault is cleared', async () => {
    issuer.fail('jwks', { kind: 'hang' })
    const pending = fetch(issuer.jwksUri)
    await vi.waitFor(() => {
      expect(issuer.requests.jwks).toBe(1)
    })
    issuer.fail('jwks', null)
    const response = await pending
    expect(response.status).toBe(200)
    expect(((await response.json()) as { keys: unknown[] }).keys).toHaveLength(1)
  })

  it('delay: answers correctly after the delay', async () => {
    issuer.fail('jwks', { kind: 'delay', ms: 300 })
    const started = performance.now()
    const response = await fetch(issuer.jwksUri)
    expect(performance.now() - started).toBeGreaterThanOrEqual(290)
    expect(response.status).toBe(200)
    const { keys } = (await response.json()) as { keys: { kid: string }[] }
    expect(keys.map((key) => key.kid)).toEqual([issuer.activeKey.kid])
  })

  it('garbage: 200 that claims JSON but is not', async () => {
    issuer.fail('discovery', { kind: 'garbage' })
    const response = await fetch(issuer.discoveryUrls.openid)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/json')
    const text = await response.text()
    expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError)
  })

  it('reset: the connection is destroyed without an answer', async () => {
    issuer.fail('jwks', { kind: 'reset' })
    await expect(fetch(issuer.jwksUri)).rejects.toThrow(TypeError)
    expect(issuer.requests.jwks).toBe(1)
    issuer.fail('jwks', null)
    expect(await jwksStatus()).toBe(200)
  })

  it('body: 200 with exactly the given body and content type', async () => {
    const huge = JSON.stringify({
      keys: Array.from({ length: 5000 }, (_, i) => ({ kid: `k${i}` })),
    })
    issuer.fail('jwks', { kind: 'body', body: huge })
    let response = await fetch(issuer.jwksUri)
    expect(response.headers.get('content-type')).toBe('application/json')
    expect(await response.text()).toBe(huge)

    issuer.fail('jwks', { kind: 'body', body: '{"keys":"nope"}', contentType: 'text/html' })
    response = await fetch(issuer.jwksUri)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/html')
    expect(await response.json()).toEqual({ keys: 'nope' })
  })

  it.each([
    [{ kind: 'status', status: 99 }],
    [{ kind: 'status', status: 500, body: 1 }],
    [{ kind: 'delay', ms: -1 }],
    [{ kind: 'body' }],
    [{ kind: 'explode' }],
    ['hang'],
  ])('rejects the malformed fault %o', (fault) => {
    expect(() => {
      issuer.fail('jwks', fault as unknown as Fault)
    }).toThrow(TypeError)
    expect(() => {
      issuer.fail('token' as 'jwks', null)
    }).toThrow(/endpoint/)
  })
})

describe('close()', () => {
  it('returns promptly while a request hangs, and the client sees the connection end', async () => {
    issuer.fail('all', { kind: 'hang' })
    const pending = fetch(issuer.jwksUri).then(
      () => 'answered',
      () => 'failed',
    )
    await vi.waitFor(() => {
      expect(issuer.requests.jwks).toBe(1)
    })
    const started = performance.now()
    await issuer.close()
    expect(performance.now() - started).toBeLessThan(500)
    expect(await pending).toBe('failed')
    await expect(fetch(issuer.jwksUri)).rejects.toThrow(TypeError)
  })

  it('returns promptly with a delayed answer pending and idle keep-alive connections', async () => {
    expect(await jwksStatus()).toBe(200) // leaves a keep-alive connection open
    issuer.fail('jwks', { kind: 'delay', ms: 60_000 })
    const pending = fetch(issuer.jwksUri).catch(() => 'failed')
    await vi.waitFor(() => {
      expect(issuer.requests.jwks).toBe(2)
    })
    const started = performance.now()
    await Promise.all([issuer.close(), issuer.close()])
    expect(performance.now() - started).toBeLessThan(500)
    expect(await pending).toBe('failed')
  })
})
