import { describe, expect, it } from 'vitest'
import {
  createAccessTokenValidator,
  resolveValidator,
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
  it('builds from options, ignoring the adapter’s own members', () => {
    const validator = resolveValidator({
      ...ok,
      allowFormBody: true,
      errors: 'next',
    } as AccessTokenValidatorOptions)
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
    expect(() => resolveValidator({ issuer: ok.issuer } as ValidatorSource)).toThrow(/audience/)
  })
})
