import { definePolicy, type AccessPolicy, type AccessTokenClaims } from '@bearer-guard/core'
import { assertKnownOptions } from '@bearer-guard/core/adapter'
import type { ServiceDefinition } from '@grpc/grpc-js'

/**
 * What calling one method needs:
 *
 * - `'public'`: nothing. No token is read, a sent one is ignored (e.g. `grpc.health.v1.Health`).
 * - `'optional'`: nothing, but a token that is sent must be valid (else the call is refused);
 *   the handler reads it with `findAuth(call)`, `undefined` for an anonymous caller.
 * - `'authenticated'`: any valid access token.
 * - an {@link AccessPolicy} of `@bearer-guard/core`: a valid access token that satisfies it —
 *   scopes (`allOf`, `anyOf`), a `claims` check, step-up (`acr`, `maxAge`, RFC 9470).
 */
export type MethodAccess<Claims extends AccessTokenClaims = AccessTokenClaims> =
  'public' | 'optional' | 'authenticated' | AccessPolicy<Claims>

/** One requirement for every method of a service (a policy is declared per method). */
export type ServiceWideAccess = 'public' | 'optional' | 'authenticated'

/**
 * The requirement of each method of a service, keyed by the method names of its service
 * definition (`ListOrders`, as in the `.proto` file). Every method must be listed: a method
 * added to the service later is refused at start-up until it is declared.
 */
export type MethodAccessMap<S, Claims extends AccessTokenClaims = AccessTokenClaims> = {
  readonly [M in keyof S & string]: MethodAccess<Claims>
}

/** The access rules of one service, made by {@link serviceAccess} for `bearerGuard({ services })`. */
export interface ServiceAccess {
  /** The fully-qualified service name, e.g. `orders.v1.Orders`. */
  readonly service: string
  /** The method paths it declares, e.g. `/orders.v1.Orders/ListOrders`. */
  readonly paths: readonly string[]
}

/** How the guard treats a call: whether to verify, whether anonymity is allowed, a policy. */
export interface Rule {
  readonly verify: boolean
  readonly optional: boolean
  readonly policy: AccessPolicy | undefined
  /** Whether the method streams (either way): such calls end when their token expires. */
  readonly streaming: boolean
}

const PUBLIC_RULE: Rule = Object.freeze({
  verify: false,
  optional: true,
  policy: undefined,
  streaming: false,
})

// The rules behind each ServiceAccess, out of reach of the application: an object that
// serviceAccess() did not make (or that was altered) cannot declare anything.
const rulesOf = new WeakMap<ServiceAccess, ReadonlyMap<string, Rule>>()

const SERVICE_WIDE = new Set(['public', 'optional', 'authenticated'])
const POLICY_MEMBERS = new Set([
  'allOf',
  'anyOf',
  'acr',
  'maxAge',
  'claims',
  'description',
  'refuse',
])
// gRPC over HTTP/2: `:path` is "/" Service-Name "/" Method-Name (grpc/doc/PROTOCOL-HTTP2.md).
const METHOD_PATH = /^\/([^/]+)\/([^/]+)$/

interface MethodShape {
  readonly path: string
  readonly streaming: boolean
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

/** The methods of a service definition, checked: `{ name → path, streaming }`. */
function methodsOf(service: unknown): { name: string; methods: Map<string, MethodShape> } {
  if (typeof service === 'function' && isObject((service as { service?: unknown }).service)) {
    throw new TypeError(
      'bearer-guard: serviceAccess() needs the service definition (e.g. Orders.service, as given to server.addService()), not the client constructor',
    )
  }
  if (!isObject(service)) {
    throw new TypeError(
      'bearer-guard: serviceAccess() needs a service definition (e.g. Orders.service, as given to server.addService())',
    )
  }
  const methods = new Map<string, MethodShape>()
  let name: string | undefined
  for (const [method, definition] of Object.entries(service)) {
    const path = isObject(definition) ? definition.path : undefined
    const match = typeof path === 'string' ? METHOD_PATH.exec(path) : null
    if (match === null || !isObject(definition)) {
      throw new TypeError(
        `bearer-guard: serviceAccess() got something that is not a service definition: its member '${printable(method)}' has no method path ('/package.Service/Method')`,
      )
    }
    const service = match[1] as string
    if (name !== undefined && service !== name) {
      throw new TypeError(
        `bearer-guard: serviceAccess() got a service definition with methods of two services ('${name}', '${service}')`,
      )
    }
    name = service
    methods.set(method, {
      path: path as string,
      streaming: definition.requestStream === true || definition.responseStream === true,
    })
  }
  if (name === undefined) {
    throw new TypeError('bearer-guard: serviceAccess() got a service definition without methods')
  }
  return { name, methods }
}

function ruleFor(access: unknown, streaming: boolean, where: string): Rule {
  switch (access) {
    case 'public':
      return PUBLIC_RULE
    case 'optional':
      return Object.freeze({ verify: true, optional: true, policy: undefined, streaming })
    case 'authenticated':
      return Object.freeze({ verify: true, optional: false, policy: undefined, streaming })
    default:
      break
  }
  if (!isObject(access)) {
    throw new TypeError(
      `bearer-guard: ${where} must be 'public', 'optional', 'authenticated' or a policy ({ allOf: […] }…)`,
    )
  }
  let policy: AccessPolicy
  try {
    policy = definePolicy(access as AccessPolicy)
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^bearer-guard: /, '') : ''
    throw new TypeError(`bearer-guard: ${where}: ${reason}`, { cause: error })
  }
  return Object.freeze({ verify: true, optional: false, policy, streaming })
}

/**
 * Declares what calling each method of a gRPC service needs, next to the service definition,
 * for `bearerGuard({ services: [...] })`. Checked here, once: a method name the service does not
 * have is refused with the closest one (`ListOrder` → `ListOrders`), a method left out is refused
 * by name, and each policy is checked as `definePolicy()` checks it.
 *
 * @param service The service definition, as given to `server.addService()`: `Orders.service`
 * from `@grpc/proto-loader` + `loadPackageDefinition()`, or generated code's definition.
 * @param access `'public'`, `'optional'` or `'authenticated'` for every method, or an object
 * with one {@link MethodAccess} per method name.
 * @throws `TypeError` for anything that is not a service definition, an unknown or missing
 * method name, or an invalid requirement.
 *
 * @example
 * ```ts
 * const orders = serviceAccess(ordersService, {
 *   ListOrders: { allOf: ['orders:read'] },
 *   CreateOrder: { allOf: ['orders:write'] },
 *   DeleteOrder: { allOf: ['orders:write', 'orders:admin'] },
 *   WatchOrders: { allOf: ['orders:read'] },
 * })
 * const health = serviceAccess(healthService, 'public')
 * ```
 */
export function serviceAccess<S extends ServiceDefinition>(
  service: S,
  access: ServiceWideAccess | MethodAccessMap<S>,
): ServiceAccess {
  const { name, methods } = methodsOf(service)
  const where = `serviceAccess() of ${name}`
  const rules = new Map<string, Rule>()
  if (typeof access === 'string' && SERVICE_WIDE.has(access)) {
    for (const [method, shape] of methods) {
      rules.set(shape.path, ruleFor(access, shape.streaming, `${where}, '${method}'`))
    }
  } else {
    if (!isObject(access)) {
      throw new TypeError(
        `bearer-guard: ${where} needs 'public', 'optional', 'authenticated', or an object with the access of each method`,
      )
    }
    const keys = Object.keys(access)
    if (keys.length > 0 && keys.every((key) => POLICY_MEMBERS.has(key) && !methods.has(key))) {
      throw new TypeError(
        `bearer-guard: ${where} got a policy where it needs one entry per method: declare the policy for each method ({ ${[...methods.keys()][0] ?? 'Method'}: { allOf: […] }, … })`,
      )
    }
    assertKnownOptions(access, new Set(methods.keys()), where)
    const missing = [...methods.keys()].filter((method) => !Object.hasOwn(access, method))
    if (missing.length > 0) {
      throw new TypeError(
        `bearer-guard: ${where} declares no access for ${missing.map((m) => `'${m}'`).join(', ')}: every method needs one ('public' when it needs no token)`,
      )
    }
    for (const [method, shape] of methods) {
      rules.set(
        shape.path,
        ruleFor(
          (access as Record<string, unknown>)[method],
          shape.streaming,
          `${where}, '${method}'`,
        ),
      )
    }
  }
  const declared: ServiceAccess = Object.freeze({
    service: name,
    paths: Object.freeze([...rules.keys()]),
  })
  rulesOf.set(declared, rules)
  return declared
}

/**
 * The rule of every declared method path, from `bearerGuard({ services })`.
 *
 * @throws `TypeError` when `services` is not a non-empty array of {@link serviceAccess} results,
 * or declares a service twice.
 */
export function accessTable(services: unknown): ReadonlyMap<string, Rule> {
  if (!Array.isArray(services) || services.length === 0) {
    throw new TypeError(
      'bearer-guard: bearerGuard() needs "services": an array of serviceAccess(…), one per service of the server',
    )
  }
  const table = new Map<string, Rule>()
  const seen = new Set<string>()
  for (const entry of services as unknown[]) {
    const declared = entry as ServiceAccess
    const rules = isObject(entry) ? rulesOf.get(declared) : undefined
    if (rules === undefined) {
      throw new TypeError(
        'bearer-guard: every entry of "services" must come from serviceAccess(definition, access)',
      )
    }
    const { service } = declared
    if (seen.has(service)) {
      throw new TypeError(`bearer-guard: "services" declares ${service} twice`)
    }
    seen.add(service)
    for (const [path, rule] of rules) table.set(path, rule)
  }
  return table
}

/** The rule of a `public` method: nothing is read or verified. */
export function isPublic(rule: Rule): boolean {
  return rule === PUBLIC_RULE
}

function printable(text: string): string {
  const shown = text.replace(/[^\x20-\x7e]/g, '?')
  return shown.length > 64 ? `${shown.slice(0, 64)}…` : shown
}
