/**
 * A failure the test issuer's discovery, JWKS or introspection endpoint can be told to produce
 * (see `TestIssuer.fail`).
 *
 * - `status`: answer with this status, `body` (default `''`) and `headers` (default none), e.g.
 *   500, 404, or 302 with a `Location` header.
 * - `hang`: accept the request and never answer, until the issuer is closed or the fault is
 *   cleared or replaced (the request is then served by the new state).
 * - `delay`: answer correctly after `ms` milliseconds.
 * - `garbage`: 200 with `Content-Type: application/json` and a body that is not JSON.
 * - `reset`: destroy the connection without answering.
 * - `body`: 200 with exactly this body and `contentType` (default `application/json`), e.g. huge
 *   JSON or JSON of the wrong shape.
 */
export type Fault =
  | {
      readonly kind: 'status'
      readonly status: number
      readonly body?: string
      readonly headers?: Readonly<Record<string, string>>
    }
  | { readonly kind: 'hang' }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'garbage' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'body'; readonly body: string; readonly contentType?: string }

/**
 * The endpoints faults can be injected into; `'all'` means both discovery and JWKS (not the
 * introspection endpoint, which is named on its own).
 */
export type FaultEndpoint = 'discovery' | 'jwks' | 'introspection' | 'all'

/** The body served by a `garbage` fault. */
export const GARBAGE_BODY = '<html><body><h1>502 Bad Gateway</h1></body></html>'

/** Throws a `TypeError` unless `fault` is a well-formed {@link Fault} or `null`. */
export function assertFault(fault: unknown): asserts fault is Fault | null {
  if (fault === null) return
  const bad = (why: string): never => {
    throw new TypeError(`fail(): invalid fault: ${why}`)
  }
  if (typeof fault !== 'object') return bad('expected an object or null')
  const candidate = fault as Record<string, unknown>
  switch (candidate.kind) {
    case 'status': {
      const { status, body, headers } = candidate
      if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) {
        bad('status must be an integer from 200 to 599')
      }
      if (body !== undefined && typeof body !== 'string') bad('body must be a string')
      if (headers !== undefined && (typeof headers !== 'object' || headers === null)) {
        bad('headers must be an object of strings')
      }
      return
    }
    case 'delay': {
      const { ms } = candidate
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
        bad('ms must be a non-negative number of milliseconds')
      }
      return
    }
    case 'body':
      if (typeof candidate.body !== 'string') bad('body must be a string')
      if (candidate.contentType !== undefined && typeof candidate.contentType !== 'string') {
        bad('contentType must be a string')
      }
      return
    case 'hang':
    case 'garbage':
    case 'reset':
      return
    default:
      bad('kind must be one of status, hang, delay, garbage, reset, body')
  }
}
