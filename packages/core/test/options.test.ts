import { describe, expect, it } from 'vitest'
import { resolveValidator } from '../src/adapter.js'
import {
  createAccessTokenValidator,
  type AccessTokenValidatorOptions,
  type ValidatorSource,
} from '../src/index.js'

const ok: AccessTokenValidatorOptions = { issuer: 'https://issuer.example', audience: 'api' }
const make = (o: Partial<Record<keyof AccessTokenValidatorOptions, unknown>>) => () =>
  createAccessTokenValidator({ ...ok, ...o } as AccessTokenValidatorOptions)

describe('options are checked once, at construction', () => {
  it('requires an issuer and an audience', () => {
    expect(make({ issuer: undefined })).toThrow(/"issuer" is required/)
    expect(() =>
      createAccessTokenValidator(null as unknown as AccessTokenValidatorOptions),
    ).toThrow(/options must be an object/)
    expect(make({ audience: undefined })).toThrow(/"audience" is required/)
    expect(make({ audience: [] })).toThrow(/"audience" is required/)
    expect(make({ audience: [''] })).toThrow(TypeError)
  })

  it('refuses plain http off loopback unless allowed', () => {
    expect(make({ issuer: 'http://issuer.example' })).toThrow(/allowInsecureHttp/)
    expect(make({ issuer: 'http://issuer.example', allowInsecureHttp: true })).not.toThrow()
    expect(make({ jwksUri: 'http://keys.example/jwks' })).toThrow(/"jwksUri"/)
    for (const issuer of ['http://127.0.0.1:4000', 'http://localhost:4000', 'http://[::1]:4000']) {
      expect(make({ issuer })).not.toThrow()
    }
    expect(make({ issuer: 'ftp://issuer.example' })).toThrow(/https/)
    expect(make({ issuer: 'not a url' })).toThrow(/absolute URL/)
    expect(make({ issuer: 'https://user:pw@issuer.example' })).toThrow(/credentials/)
  })

  it('refuses unknown algorithms and invalid numbers', () => {
    expect(make({ algorithms: ['RS1'] })).toThrow(/not supported/)
    expect(make({ algorithms: ['none'] })).toThrow(/not supported/)
    for (const key of [
      'clockTolerance',
      'fetchTimeout',
      'maxTokenLength',
      'keySetMaxAge',
      'maxResponseSize',
    ]) {
      expect(make({ [key]: -1 }), key).toThrow(TypeError)
      expect(make({ [key]: Number.NaN }), key).toThrow(TypeError)
    }
    expect(make({ fetchTimeout: 0 })).toThrow(/greater than 0/)
    expect(make({ clock: 5 })).toThrow(/clock/)
    expect(make({ fetch: 'x' })).toThrow(/fetch/)
    expect(make({ realm: 3 })).toThrow(/realm/)
  })

  it('defaults the realm to the first audience and makes no request at construction', () => {
    let calls = 0
    const validator = createAccessTokenValidator({
      ...ok,
      audience: ['https://api.example.com', 'urn:b'],
      fetch: () => {
        calls += 1
        return Promise.reject(new Error('unreachable'))
      },
    })
    expect(validator.realm).toBe('https://api.example.com')
    expect(calls).toBe(0)
    expect(createAccessTokenValidator({ ...ok, realm: 'orders' }).realm).toBe('orders')
  })
})

describe('resolveValidator: the one place adapters turn their options into a validator', () => {
  const express = { where: 'bearerGuard()', options: ['errors', 'logger'] }

  it('builds from options, passing the adapter’s own members on to nobody', () => {
    const validator = resolveValidator(
      { ...ok, allowFormBody: true, errors: 'next' } as AccessTokenValidatorOptions,
      express,
    )
    expect(validator.realm).toBe('api')
    expect(validator.allowFormBody).toBe(true)
    expect(resolveValidator(ok).allowFormBody).toBe(false)
  })

  it('returns a prebuilt validator as is, and refuses mixing it with options', () => {
    const prebuilt = createAccessTokenValidator(ok)
    expect(resolveValidator({ validator: prebuilt })).toBe(prebuilt)
    expect(() =>
      resolveValidator({ validator: prebuilt, issuer: ok.issuer } as unknown as ValidatorSource),
    ).toThrow(/not both/)
    expect(() => resolveValidator({ validator: {} } as unknown as ValidatorSource)).toThrow(
      /must come from createAccessTokenValidator/,
    )
    expect(() => resolveValidator(null as unknown as ValidatorSource)).toThrow(/must be an object/)
    expect(() => resolveValidator({ issuer: ok.issuer })).toThrow(/audience/)
  })
})

describe('unknown options are refused, naming the closest known one (issue 9, item 10)', () => {
  it('refuses a misspelt validator option at construction with a suggestion', () => {
    expect(make({ clockTolerence: 60 } as never)).toThrow(
      /createAccessTokenValidator\(\) has no option 'clockTolerence'; did you mean 'clockTolerance'\?/,
    )
    // A misspelt audience says it is misspelt, not merely that "audience" is required.
    expect(() =>
      createAccessTokenValidator({ issuer: ok.issuer, audiance: 'api' } as never),
    ).toThrow(/'audiance'; did you mean 'audience'/)
    expect(make({ jwksURI: 'https://x.example/jwks' } as never)).toThrow(/did you mean 'jwksUri'/)
  })

  it('names no suggestion when nothing is close', () => {
    expect(make({ colour: 'blue' } as never)).toThrow(/has no option 'colour'$/)
  })

  it('an adapter refuses keys that are neither its own nor the validator’s', () => {
    const fastify = { where: 'the bearerGuard plugin', options: ['errors', 'protect', 'hook'] }
    expect(() => resolveValidator({ ...ok, protcet: 'none' } as never, fastify)).toThrow(
      /the bearerGuard plugin has no option 'protcet'; did you mean 'protect'\?/,
    )
    expect(() => resolveValidator({ ...ok, clockTolerence: 1 } as never, fastify)).toThrow(
      /did you mean 'clockTolerance'/,
    )
    const prebuilt = createAccessTokenValidator(ok)
    expect(() =>
      resolveValidator({ validator: prebuilt, protcet: 'none' } as never, fastify),
    ).toThrow(/did you mean 'protect'/)
    expect(resolveValidator({ validator: prebuilt, protect: 'none' } as never, fastify)).toBe(
      prebuilt,
    )
  })
})

describe('issuer identifiers (issue 9, items 6 and 8)', () => {
  it('refuses an issuer with a query or a fragment (RFC 8414 §2)', () => {
    expect(make({ issuer: 'https://issuer.example/?tenant=a' })).toThrow(
      /query or fragment.*RFC 8414 §2/,
    )
    expect(make({ issuer: 'https://issuer.example/#x' })).toThrow(/query or fragment/)
    expect(make({ issuer: 'https://issuer.example/?' })).toThrow(/query or fragment/)
  })

  it('refuses a discovery URL given as the issuer, naming the identifier to use', () => {
    expect(
      make({ issuer: 'https://issuer.example/realms/a/.well-known/openid-configuration' }),
    ).toThrow(/discovery URL.*probably https:\/\/issuer\.example\/realms\/a\)/)
    expect(
      make({ issuer: 'https://issuer.example/.well-known/oauth-authorization-server/tenant' }),
    ).toThrow(/probably https:\/\/issuer\.example\/tenant\)/)
  })
})

describe('durations are in seconds everywhere (issue 9, item 10)', () => {
  it('fetchTimeout is in seconds: fractions allowed, 0 refused', () => {
    expect(make({ fetchTimeout: 0.25 })).not.toThrow()
    expect(make({ fetchTimeout: 0 })).toThrow(/greater than 0/)
  })
})
