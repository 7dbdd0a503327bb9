/**
 * The steps after the claims: the key's issuer binding, the granted scopes, the sender binding
 * and the route's needs. Each mirrors the core stage named in its comment.
 */
import { keyName } from './steps-jws.js'
import type { KeyInfo } from './keys.js'
import { TENANT_PLACEHOLDER, type IssuerRules } from './rules.js'
import { fail, own, pass, skip, type Context, type Found, type RouteNeeds } from './steps.js'
import { shown } from './words.js'

type Payload = Readonly<Record<string, unknown>>

/** core: verifiers/jwt.ts (`boundIssuerMatches`): a key bound to an issuer verifies its tokens only. */
export function keyIssuerStep(signer: KeyInfo, payload: Payload): Found {
  const bound = signer.issuer as string
  const { iss, tid } = payload
  const ok = bound.includes(TENANT_PLACEHOLDER)
    ? typeof tid === 'string' && iss === bound.replace(TENANT_PLACEHOLDER, tid)
    : iss === bound
  return ok
    ? pass(
        'key-issuer',
        `key ${keyName(signer)} is bound to ${bound}, and the token is that issuer's`,
      )
    : fail(
        'key-issuer',
        'ERR_TOKEN_ISSUER_INVALID',
        `key ${keyName(signer)} is bound to ${bound}: it cannot sign tokens of iss ${shown(iss)}`,
      )
}

/** The granted scopes, closed over the scope hierarchy (core: claims/scopes.ts `readScopes`). */
export function scopesStep(
  issuer: IssuerRules,
  payload: Payload,
): { readonly step: Found; readonly granted: ReadonlySet<string> | undefined } {
  const granted = new Set<string>()
  const sources: string[] = []
  for (const path of issuer.scopeClaims) {
    let value: unknown = payload
    for (const member of path) {
      value =
        typeof value === 'object' && value !== null && !Array.isArray(value)
          ? own(value as Payload, member)
          : undefined
    }
    const name = path.join('.')
    if (value === undefined) continue
    if (typeof value === 'string') {
      for (const scope of value.split(' ')) if (scope !== '') granted.add(scope)
    } else if (Array.isArray(value) && value.every((s) => typeof s === 'string')) {
      for (const scope of value) if (scope !== '') granted.add(scope)
    } else {
      return {
        granted: undefined,
        step: fail(
          'scopes',
          'ERR_TOKEN_CLAIM_INVALID',
          `the ${name} claim is neither a string nor an array of strings`,
        ),
      }
    }
    sources.push(name)
  }
  const direct = [...granted]
  const implied: string[] = []
  const hierarchy = issuer.scopeHierarchy
  if (hierarchy !== undefined) {
    const pending = [...direct]
    for (let scope = pending.pop(); scope !== undefined; scope = pending.pop()) {
      for (const child of Object.hasOwn(hierarchy, scope) ? (hierarchy[scope] ?? []) : []) {
        if (granted.has(child)) continue
        granted.add(child)
        implied.push(child)
        pending.push(child)
      }
    }
  }
  const from = issuer.scopeClaims.map((path) => path.join('.')).join(', ')
  return {
    granted,
    step: pass(
      'scopes',
      direct.length === 0
        ? `no scopes granted (read from ${from})`
        : `granted: ${direct.join(' ')} (from ${sources.join(', ')})`,
      implied.length === 0 ? [] : [`also granted through scopeHierarchy: ${implied.join(' ')}`],
    ),
  }
}

/** core: binding/stage.ts (`bind`, Bearer scheme): what a sender-constrained token needs. */
export function bindingStep(c: Context, payload: Payload): Found {
  const cnf = own(payload, 'cnf')
  if (typeof cnf === 'object' && cnf !== null) {
    if (Object.hasOwn(cnf, 'jkt')) {
      return fail(
        'binding',
        'ERR_TOKEN_BINDING_MISMATCH',
        'bound to a DPoP key (cnf.jkt): refused as a Bearer token (RFC 9449 §7.2)',
        [
          'the client must send it as Authorization: DPoP <token> with a DPoP proof signed by that key; explain presents it as Bearer',
        ],
      )
    }
    if (Object.hasOwn(cnf, 'x5t#S256')) {
      return fail(
        'binding',
        'ERR_TOKEN_BINDING_MISMATCH',
        "bound to a client certificate (cnf 'x5t#S256', RFC 8705 §3): valid only on a TLS connection presenting it; explain presents none",
      )
    }
  }
  if (c.rules.dpopRequired) {
    return fail(
      'binding',
      'ERR_DPOP_REQUIRED',
      'a bearer token, and this API accepts DPoP-bound tokens only (dpop.required, RFC 9449)',
    )
  }
  return pass('binding', 'a bearer token: not bound to a key or a certificate (no cnf)')
}

/** core: policy/policy.ts (`authorize`: allOf, then anyOf). */
export function routeStep(
  route: RouteNeeds | undefined,
  granted: ReadonlySet<string> | undefined,
): Found {
  if (route === undefined) {
    return skip('route', 'no route needs given (--scope): any valid token is accepted')
  }
  if (granted === undefined) return skip('route', 'the granted scopes cannot be read')
  const { allOf, anyOf } = route
  if (allOf !== undefined) {
    const missing = allOf.filter((scope) => !granted.has(scope))
    if (missing.length > 0) {
      return fail(
        'route',
        'ERR_INSUFFICIENT_SCOPE',
        `missing ${missing.join(' ')}: the route needs all of ${allOf.join(' ')}`,
      )
    }
  }
  if (anyOf !== undefined && !anyOf.some((scope) => granted.has(scope))) {
    return fail(
      'route',
      'ERR_INSUFFICIENT_SCOPE',
      `none of ${anyOf.join(' ')}: the route needs one of them`,
    )
  }
  const met = [
    ...(allOf === undefined ? [] : [`all of ${allOf.join(' ')}`]),
    ...(anyOf === undefined ? [] : [`one of ${anyOf.filter((s) => granted.has(s)).join(' ')}`]),
  ]
  return pass('route', `grants what the route needs: ${met.join('; ')}`)
}
