/**
 * Misconfiguration is loud: everything `bearerGuard()` and `serviceAccess()` are given is checked
 * once, at start-up, with the closest known name for a typo. And the types say what the runtime
 * checks, where the service definition's type knows its methods.
 */
import { createAccessTokenValidator } from '@bearer-guard/core'
import type { MethodDefinition, ServerUnaryCall, ServiceDefinition } from '@grpc/grpc-js'
import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  bearerGuard,
  findAuth,
  getAuth,
  serviceAccess,
  type BearerGuardOptions,
  type VerifiedAccessToken,
} from '../src/index.js'
import { Shop, catalogService, shopService } from './support.js'

const base = { issuer: 'https://auth.example.com/', audience: 'https://api.example.com' }
const everyMethod = {
  Get: 'authenticated',
  Write: 'authenticated',
  Delete: 'authenticated',
  Audit: 'authenticated',
  Tick: 'authenticated',
  Upload: 'authenticated',
  Chat: 'authenticated',
} as const

describe('serviceAccess()', () => {
  it('refuses a method name the service does not have, naming the closest', () => {
    expect(() => serviceAccess(shopService, { ...everyMethod, Gett: 'public' })).toThrow(
      "bearer-guard: serviceAccess() of test.v1.Shop has no option 'Gett'; did you mean 'Get'?",
    )
  })

  it('refuses a declaration that leaves a method out, by name', () => {
    const { Chat: _chat, Upload: _upload, ...some } = everyMethod
    expect(() => serviceAccess(shopService, some)).toThrow(
      /declares no access for 'Upload', 'Chat': every method needs one/,
    )
  })

  it('refuses a policy given for the whole service', () => {
    expect(() => serviceAccess(shopService, { allOf: ['shop:read'] } as never)).toThrow(
      /got a policy where it needs one entry per method/,
    )
  })

  it('checks each policy as definePolicy() does, naming the method', () => {
    expect(() =>
      serviceAccess(shopService, { ...everyMethod, Write: { allOf: ['has space'] } }),
    ).toThrow(/serviceAccess\(\) of test.v1.Shop, 'Write': policy "allOf" must be/)
    expect(() => serviceAccess(shopService, { ...everyMethod, Write: 'private' as never })).toThrow(
      /'Write' must be 'public', 'optional', 'authenticated' or a policy/,
    )
  })

  it('refuses the client constructor and anything that is not a service definition', () => {
    expect(() => serviceAccess(Shop as never, 'public')).toThrow(/not the client constructor/)
    expect(() => serviceAccess({ Get: { path: 'nope' } } as never, 'public')).toThrow(
      /member 'Get' has no method path/,
    )
    expect(() => serviceAccess({}, 'public')).toThrow(/without methods/)
    expect(() => serviceAccess(shopService, 'everyone' as never)).toThrow(
      /needs 'public', 'optional', 'authenticated', or an object/,
    )
  })

  it('applies a service-wide access to every method', () => {
    expect(serviceAccess(catalogService, 'public')).toEqual({
      service: 'test.v1.Catalog',
      paths: ['/test.v1.Catalog/Browse', '/test.v1.Catalog/Ping'],
    })
  })
})

describe('bearerGuard()', () => {
  const services = [serviceAccess(shopService, everyMethod)]

  it('refuses an unknown option with the closest name', () => {
    expect(() =>
      bearerGuard({ ...base, services, clockTolerence: 5 } as unknown as BearerGuardOptions),
    ).toThrow(/has no option 'clockTolerence'; did you mean 'clockTolerance'/)
    expect(() =>
      bearerGuard({ ...base, service: services } as unknown as BearerGuardOptions),
    ).toThrow(/did you mean 'services'/)
  })

  it('needs services made by serviceAccess(), each once', () => {
    expect(() => bearerGuard({ ...base } as unknown as BearerGuardOptions)).toThrow(
      /needs "services": an array of serviceAccess/,
    )
    expect(() => bearerGuard({ ...base, services: [] })).toThrow(/needs "services"/)
    const forged = { service: 'test.v1.Shop', paths: ['/test.v1.Shop/Get'] }
    expect(() => bearerGuard({ ...base, services: [forged] })).toThrow(
      /must come from serviceAccess/,
    )
    expect(() =>
      bearerGuard({ ...base, services: [...services, serviceAccess(shopService, 'public')] }),
    ).toThrow(/declares test.v1.Shop twice/)
  })

  it('refuses token sources a gRPC call does not have', () => {
    expect(() => bearerGuard({ ...base, services, allowQuery: true })).toThrow(
      /cannot use 'allowQuery'/,
    )
    expect(() => bearerGuard({ ...base, services, allowFormBody: true })).toThrow(
      /cannot use 'allowFormBody'/,
    )
    const validator = createAccessTokenValidator({ ...base, allowFormBody: true })
    expect(() => bearerGuard({ validator, services })).toThrow(/cannot use 'allowFormBody'/)
  })

  it('checks the logger', () => {
    expect(() => bearerGuard({ ...base, services, logger: {} as never })).toThrow(
      /"logger" must have a warn\(message\) method, or be false/,
    )
  })

  it('takes a prebuilt validator, but not with validator options beside it', () => {
    const validator = createAccessTokenValidator(base)
    expect(typeof bearerGuard({ validator, services })).toBe('function')
    expect(() =>
      bearerGuard({ validator, services, audience: 'x' } as unknown as BearerGuardOptions),
    ).toThrow(/either a prebuilt "validator" or validator options/)
  })
})

describe('types', () => {
  it('getAuth() is the verified token; findAuth() may be undefined', () => {
    expectTypeOf(getAuth).parameter(0).toExtend<{ metadata: unknown }>()
    expectTypeOf<ReturnType<typeof getAuth>>().toEqualTypeOf<VerifiedAccessToken>()
    expectTypeOf<ReturnType<typeof findAuth>>().toEqualTypeOf<VerifiedAccessToken | undefined>()
    expectTypeOf<ServerUnaryCall<unknown, unknown>>().toExtend<Parameters<typeof getAuth>[0]>()
  })

  it('a typed service definition checks method names at compile time', () => {
    type Typed = ServiceDefinition<{ ListOrders: unknown; CreateOrder: unknown }>
    const typed = {
      ListOrders: shopService.Get as MethodDefinition<unknown, unknown>,
      CreateOrder: shopService.Write as MethodDefinition<unknown, unknown>,
    } as unknown as Typed
    // @ts-expect-error -- 'ListOrder' is not a method of the service
    expect(() => serviceAccess(typed, { ListOrder: 'public', CreateOrder: 'public' })).toThrow()
    // @ts-expect-error -- 'CreateOrder' is missing
    expect(() => serviceAccess(typed, { ListOrders: 'public' })).toThrow()
  })
})
