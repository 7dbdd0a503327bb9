/**
 * DPoP requests for tests over HTTP (RFC 9449): the `Authorization` and `DPoP` headers of one
 * request, and a clock the test moves by hand across server-nonce steps.
 */
import type { DpopKey, DpopProofFlaw } from '@bearer-guard/testing'

/** A clock moved by hand (milliseconds since the epoch), for a validator's `clock` option. */
export interface SteppedClock {
  readonly now: () => number
  advance(ms: number): void
}

/**
 * A clock at the start of a nonce step of `stepSeconds` (core's `dpop.nonce.step`), so a test
 * decides when the step rolls. It may run up to one step ahead of real time: mint tokens that
 * live longer than two steps.
 */
export function steppedClock(stepSeconds: number): SteppedClock {
  const step = stepSeconds * 1000
  let current = Math.ceil(Date.now() / step) * step
  return {
    now: () => current,
    advance(ms: number) {
      current += ms
    },
  }
}

/** What the proof of {@link dpopHeaders} is for; the defaults make a valid proof. */
export interface DpopCall {
  /** The origin the API is configured with (`dpop.origin`, the examples' `PUBLIC_ORIGIN`). */
  readonly origin: string
  /** The request path; the proof's `htu` is `origin` + its path, without the query. */
  readonly path: string
  readonly method?: string
  /** A `DPoP-Nonce` the server handed out. */
  readonly nonce?: string
  /** Seconds since the epoch; default: the key's clock, now. */
  readonly iat?: number
  readonly flaw?: DpopProofFlaw
}

/** The headers of a DPoP request: `Authorization: DPoP <token>` and one `DPoP` proof by `key`. */
export async function dpopHeaders(
  key: DpopKey,
  token: string,
  call: DpopCall,
): Promise<Record<string, string>> {
  const method = call.method ?? 'GET'
  const proof = await key.proof({
    htm: method,
    htu: call.origin + call.path,
    accessToken: token,
    nonce: call.nonce,
    iat: call.iat,
    flaw: call.flaw,
  })
  return { authorization: `DPoP ${token}`, dpop: proof }
}
