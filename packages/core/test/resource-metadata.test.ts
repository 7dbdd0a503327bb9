/**
 * RFC 9728 protected resource metadata: `resource` is the default audience, every 401 and 403
 * challenge carries `resource_metadata` (§5.1), and the document (§2) is served at the well-known
 * path inserted between host and path (§3.1).
 */
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseWwwAuthenticate } from '../../../test/support/www-authenticate.js'
import { resourceMetadata } from '../src/adapter.js'
import { authorize, createAccessTokenValidator } from '../src/index.js'
import { rejection } from './support/helpers.js'

let issuer: TestIssuer
const RESOURCE = 'https://api.example.com/mcp'
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: RESOURCE })
})
afterAll(async () => {
  await issuer.close()
})

const make = (extra: Record<string, unknown> = {}) =>
  createAccessTokenValidator({ issuer: issuer.issuer, resource: RESOURCE, ...extra })

describe('RFC 9728', () => {
  it('uses the resource as the default audience', async () => {
    expect(await make().verify(await issuer.mint())).toBeTruthy()
    const other = await issuer.mint({ aud: 'https://api.example.com/other' })
    expect((await rejection(make().verify(other))).code).toBe('ERR_TOKEN_AUDIENCE_INVALID')
  })

  it('puts resource_metadata in every 401 (with and without an error) and 403 (§5.1)', async () => {
    const expected = 'https://api.example.com/.well-known/oauth-protected-resource/mcp'
    const none = await rejection(make().verifyRequest({ headers: {} }))
    const bad = await rejection(
      make().verifyRequest({ headers: { authorization: 'Bearer x.y.z' } }),
    )
    const auth = await make().verify(await issuer.mint())
    const forbidden = await rejection(
      Promise.resolve().then(() => {
        authorize(auth, { allOf: ['orders:read'] })
      }),
    )
    for (const error of [none, bad, forbidden]) {
      const [challenge] = parseWwwAuthenticate(error.challenge)
      expect(challenge?.params.resource_metadata).toBe(expected)
    }
  })

  it('builds the document (§2) and its path (§3.1)', () => {
    const metadata = resourceMetadata(make({ dpop: { origin: 'https://api.example.com' } }), [
      'orders:read',
      'admin',
      'orders:read',
    ])
    expect(metadata?.path).toBe('/.well-known/oauth-protected-resource/mcp')
    expect(metadata?.document).toMatchObject({
      resource: RESOURCE,
      authorization_servers: [issuer.issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: ['admin', 'orders:read'],
      dpop_signing_alg_values_supported: expect.arrayContaining(['ES256', 'EdDSA', 'RS256']),
    })
    expect(
      resourceMetadata(createAccessTokenValidator({ issuer: issuer.issuer, audience: 'a' })),
    ).toBe(undefined)
  })

  it('takes the metadata URL from resourceMetadataUrl, and refuses a resource with a fragment', () => {
    const there = make({
      resourceMetadataUrl: 'http://127.0.0.1:4100/.well-known/oauth-protected-resource/mcp',
    })
    expect(resourceMetadata(there)?.path).toBe('/.well-known/oauth-protected-resource/mcp')
    expect(() => make({ resource: 'https://api.example.com/#x' })).toThrow(/RFC 9728/)
    expect(() => make({ resource: 'http://api.example.com/' })).toThrow(
      /http:\/\/ on a non-loopback host/,
    )
  })
})
