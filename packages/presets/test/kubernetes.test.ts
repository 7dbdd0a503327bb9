/** kubernetes() with projected service-account tokens: static keys, a JWKS URL, and discovery. */
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { kubernetes } from '../src/index.js'
import { expectInvalid, validatorOf } from './support/helpers.js'

const ISSUER = 'https://kubernetes.default.svc.cluster.local'
const AUDIENCE = 'orders-api'

let cluster: TestIssuer
beforeAll(async () => {
  cluster = await createTestIssuer({ issuer: ISSUER })
})
afterAll(async () => {
  await cluster.close()
})

/** The cluster's public keys as `kubectl get --raw /openid/v1/jwks` prints them. */
const jwks = () => ({ keys: cluster.keys.map((key) => key.publicJwk) })
const pod = (options: Record<string, unknown> = {}) =>
  cluster.mintShaped('kubernetes', 'accessToken', { audience: AUDIENCE, ...options })

describe('kubernetes()', () => {
  it('is data: the issuer, the keys as given (or discovery), the service accounts as subjects', () => {
    expect(
      kubernetes({ issuer: ISSUER, audience: AUDIENCE, serviceAccounts: ['billing:invoicer'] }),
    ).toEqual([
      {
        issuer: ISSUER,
        audience: [AUDIENCE],
        requiredClaimValues: { sub: ['system:serviceaccount:billing:invoicer'] },
        scopeClaims: [],
      },
    ])
    const keys = jwks()
    const [entry] = kubernetes({ issuer: ISSUER, audience: AUDIENCE, keys })
    // Static keys are the caller's object, passed on as is.
    expect(entry?.keys).toBe(keys)
    expect(Object.isFrozen(keys)).toBe(false)
  })

  it('accepts a pod’s projected token with static keys, unchanged preset', async () => {
    const validator = validatorOf(kubernetes({ issuer: ISSUER, audience: AUDIENCE, keys: jwks() }))
    const auth = await validator.verify(await pod())
    expect(auth.claims.sub).toBe('system:serviceaccount:default:orders')
    expect(auth.scopes.size).toBe(0)
  })

  it('accepts with a JWKS URL, and by discovery when the issuer serves it', async () => {
    const viaUrl = validatorOf(
      kubernetes({ issuer: ISSUER, audience: AUDIENCE, jwksUri: cluster.jwksUri }),
    )
    expect(await viaUrl.verify(await pod())).toBeTruthy()
    // A cluster whose issuer is its own URL, discovered as Kubernetes' issuer discovery serves it.
    const discoverable = await createTestIssuer()
    try {
      const validator = validatorOf(kubernetes({ issuer: discoverable.issuer, audience: AUDIENCE }))
      const token = await discoverable.mintShaped('kubernetes', 'accessToken', {
        issuer: discoverable.issuer,
        audience: AUDIENCE,
      })
      expect(await validator.verify(token)).toBeTruthy()
      expect(discoverable.requests.discovery).toBeGreaterThan(0)
    } finally {
      await discoverable.close()
    }
  })

  it('accepts the legacy non-URL issuer with static keys', async () => {
    const legacy = 'kubernetes/serviceaccount'
    const validator = validatorOf(kubernetes({ issuer: legacy, audience: AUDIENCE, keys: jwks() }))
    expect(await validator.verify(await pod({ issuer: legacy }))).toBeTruthy()
  })

  it('refuses other service accounts, other audiences (the API server’s), and other clusters', async () => {
    const validator = validatorOf(
      kubernetes({
        issuer: ISSUER,
        audience: AUDIENCE,
        keys: jwks(),
        serviceAccounts: ['default:orders', 'billing:invoicer'],
      }),
    )
    expect(await validator.verify(await pod())).toBeTruthy()
    await expectInvalid(
      validator.verify(
        await pod({ namespace: 'default', serviceAccount: { name: 'intruder', uid: 'u' } }),
      ),
      'ERR_TOKEN_CLAIM_INVALID',
    )
    await expectInvalid(
      validator.verify(await pod({ audience: ['https://kubernetes.default.svc.cluster.local'] })),
      'ERR_TOKEN_AUDIENCE_INVALID',
    )
    await expectInvalid(
      validator.verify(await pod({ issuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/OTHER' })),
      'ERR_TOKEN_ISSUER_INVALID',
    )
  })

  it('checks its options when called', () => {
    expect(() =>
      kubernetes({ issuer: ISSUER, audience: AUDIENCE, keys: jwks(), jwksUri: cluster.jwksUri }),
    ).toThrow(/one of "keys" and "jwksUri"/)
    expect(() =>
      kubernetes({ issuer: ISSUER, audience: AUDIENCE, serviceAccounts: ['orders'] }),
    ).toThrow(/'<namespace>:<name>'/)
    expect(() => kubernetes({ issuer: ISSUER, audience: AUDIENCE, keys: 42 } as never)).toThrow(
      /"keys" must be/,
    )
    expect(() =>
      kubernetes({ issuer: ISSUER, audience: AUDIENCE, serviceAccount: 'a:b' } as never),
    ).toThrow(/did you mean 'serviceAccounts'\?/)
  })
})
