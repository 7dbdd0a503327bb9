import { LRUCache } from 'lru-cache'
import { InvalidTokenError, KeySetUnavailableError } from '../challenge/errors.js'
import { mayBeIssuer } from '../claims/issuer.js'
import type { IssuerMatch } from '../claims/issuer.js'
import type { DecodedJws } from '../jws/decode.js'
import type { KeySource } from '../keys/key-source.js'
import type { IssuerOptions } from '../options/validator-options.js'
import type { ResolvedResolver } from '../options/resolve.js'
import type { Verified } from './jwt.js'

/**
 * One issuer's verifier of JWTs: `JwtVerifier` (signature and claims), or `IntrospectionVerifier`
 * for an issuer whose JWTs are introspected (`introspection.tokens: 'jwt'`).
 */
export interface IssuerVerifier {
  /** The issuer as configured (a template for multi-tenant issuers). */
  readonly issuer: string
  readonly match: IssuerMatch
  /** The issuer's keys (loaded by `ready()`). */
  readonly keys: KeySource
  verify(token: string, jws: DecodedJws): Verified | Promise<Verified>
}

/** Picks the verifier of a token's issuer; a promise only while a resolver is asked. */
export interface IssuerSelection {
  select(jws: DecodedJws): IssuerVerifier | Promise<IssuerVerifier>
  /** The verifiers configured statically (the resolver's come and go). */
  readonly configured: readonly IssuerVerifier[]
}

function unknownIssuer(): InvalidTokenError {
  return new InvalidTokenError(
    'ERR_TOKEN_ISSUER_INVALID',
    'The access token was not issued by an accepted issuer',
  )
}

/**
 * One issuer: every token goes to its verifier, whose claim check refuses another `iss`. (No
 * selection by the unverified `iss` is needed, and errors keep the order of a single-issuer
 * validator: the algorithm before the issuer.)
 */
export function singleIssuer(verifier: IssuerVerifier): IssuerSelection {
  return { select: () => verifier, configured: [verifier] }
}

/**
 * Several issuers, and optionally a resolver for tenants known only at run time. The unverified
 * `iss` only selects among the issuers the application allows: a token naming any other is
 * refused without a request to anything it names. The selected verifier then checks `iss` again,
 * after the signature, with that issuer's keys only.
 */
export function manyIssuers(
  verifiers: readonly IssuerVerifier[],
  resolver: ResolvedResolver | undefined,
  build: (entry: IssuerOptions) => IssuerVerifier,
): IssuerSelection {
  const exact = new Map<string, IssuerVerifier>()
  const templates: IssuerVerifier[] = []
  for (const verifier of verifiers) {
    if (verifier.match.kind === 'exact') exact.set(verifier.issuer, verifier)
    else templates.push(verifier)
  }

  function configured(iss: string): IssuerVerifier | undefined {
    const found = exact.get(iss)
    if (found !== undefined || templates.length === 0) return found
    return templates.find((verifier) => mayBeIssuer(verifier.match, iss))
  }

  if (resolver === undefined) {
    return {
      configured: verifiers,
      select(jws) {
        const { iss } = jws.payload
        const found = typeof iss === 'string' ? configured(iss) : undefined
        if (found === undefined) throw unknownIssuer()
        return found
      },
    }
  }

  const { resolve, maxIssuers, unknownTtl } = resolver
  const resolved = new LRUCache<string, IssuerVerifier>({ max: maxIssuers })
  // Unknown issuers, remembered for unknownTtl so a flood of made-up `iss` values costs the
  // application's lookup once per value and period, in bounded memory.
  const unknown = new LRUCache<string, true>({
    max: Math.max(1000, maxIssuers),
    ttl: Math.max(1, unknownTtl),
    ttlAutopurge: false,
  })
  const inflight = new Map<string, Promise<IssuerVerifier>>()

  function lookUp(iss: string): Promise<IssuerVerifier> {
    let pending = inflight.get(iss)
    if (pending !== undefined) return pending
    pending = Promise.resolve()
      .then(() => resolve(iss))
      .then(
        (entry) => {
          if (entry === undefined) {
            if (unknownTtl > 0) unknown.set(iss, true)
            throw unknownIssuer()
          }
          const verifier = build(entry)
          // The resolver must answer for the issuer it was asked about, never another.
          if (!mayBeIssuer(verifier.match, iss)) throw unknownIssuer()
          resolved.set(iss, verifier)
          return verifier
        },
        (error: unknown) => {
          throw new KeySetUnavailableError(
            'The issuer of the access token cannot be looked up now; try again later',
            10,
            { cause: error },
          )
        },
      )
      .finally(() => inflight.delete(iss))
    inflight.set(iss, pending)
    return pending
  }

  return {
    configured: verifiers,
    select(jws) {
      const { iss } = jws.payload
      if (typeof iss !== 'string' || iss === '') throw unknownIssuer()
      const found = configured(iss) ?? resolved.get(iss)
      if (found !== undefined) return found
      if (unknown.has(iss)) throw unknownIssuer()
      return lookUp(iss)
    },
  }
}
