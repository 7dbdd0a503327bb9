import {
  authorize,
  createAccessTokenValidator,
  definePolicy,
  isBearerGuardError,
  type AccessTokenValidatorOptions,
  type AnyBearerGuardError,
} from '@bearer-guard/core'
import { deriveSteps, markReached } from './derive.js'
import type { Explanation, Verdict } from './explanation.js'
import { describeKey, fetchOf, keyStateOf } from './key-state.js'
import { recordingFetch } from './record-fetch.js'
import { resolveRules, type IssuerRules } from './rules.js'
import type { Context, KeyState, RouteNeeds } from './steps.js'
import { decodeForDisplay, decodeToken, fingerprint } from './token.js'

/** Options of {@link explain}. */
export interface ExplainOptions {
  /**
   * The API's validator options, exactly as it passes them to `createAccessTokenValidator` (or
   * to an adapter). Required. Their `clock` and `tokenCache` are replaced (the token is evaluated
   * once, at {@link ExplainOptions.now}); their `fetch` is wrapped to record the key requests.
   */
  readonly validator: AccessTokenValidatorOptions
  /**
   * What the route needs, as given to `authorize`: `allOf` (every scope) and/or `anyOf` (at least
   * one). Default: none (any valid token is accepted).
   */
  readonly route?: RouteNeeds
  /** The instant to evaluate the token at, in milliseconds since the epoch. Default: now. */
  readonly now?: number
}

/**
 * Explains why an API with these settings accepts or refuses `token`: every check in the order
 * core runs it, with the values compared, and core's own verdict (status, error code, and the
 * exact `WWW-Authenticate` and `Retry-After` the API sends). The verdict always comes from core
 * (`createAccessTokenValidator` with the given options, then `authorize`); the steps explain it,
 * and `agrees` says whether their first failure carries the code core refused with.
 *
 * Discovery and keys are fetched by core, as the API would fetch them; give static `keys` to
 * work offline. The explanation never contains the token, only its length and a SHA-256 prefix;
 * it does contain the decoded claims and header.
 *
 * @throws `TypeError` for invalid validator options or route needs (core's checks).
 *
 * @example
 * ```ts
 * const explanation = await explain(token, {
 *   validator: { issuer: 'https://auth.example.com/', audience: 'https://api.example.com' },
 *   route: { allOf: ['orders:read'] },
 * })
 * explanation.verdict.status // 200, 401, 403, 503…
 * explanation.steps.find((step) => step.status === 'fail')?.summary
 * ```
 */
export async function explain(token: string, options: ExplainOptions): Promise<Explanation> {
  if (typeof token !== 'string') throw new TypeError('bearer-guard: explain() needs a token string')
  const at = options.now ?? Date.now()
  if (!Number.isFinite(at))
    throw new TypeError('bearer-guard: explain() "now" must be a number of milliseconds')
  if (options.validator.issuerResolver !== undefined) {
    throw new TypeError(
      'bearer-guard: explain() explains configured issuers: give the entry your issuerResolver returns for this token as "issuer"',
    )
  }
  const route = routeOf(options.route)
  const recorder = recordingFetch(
    options.validator.fetch,
    (options.validator.maxResponseSize ?? 262_144) + 1,
  )
  const validator = createAccessTokenValidator({
    ...options.validator,
    clock: () => at,
    fetch: recorder.fetch,
    tokenCache: false,
  })
  const rules = resolveRules(options.validator)

  let verdict: Verdict
  try {
    const auth = await validator.verifyRequest({
      method: 'GET',
      url: '/',
      headers: { authorization: `Bearer ${token}` },
    })
    if (route !== undefined) authorize(auth, route)
    verdict = ACCEPTED
  } catch (error) {
    if (!isBearerGuardError(error)) throw error
    verdict = verdictOf(error)
  }

  const decoded = decodeToken(token)
  const keyStates = new Map<IssuerRules, KeyState>()
  const keysOf = (issuer: IssuerRules): KeyState => {
    let state = keyStates.get(issuer)
    if (state === undefined) {
      state = keyStateOf(issuer, recorder.records)
      keyStates.set(issuer, state)
    }
    return state
  }
  const context: Context = { token, decoded, rules, at, keysOf, route }
  const derived = await deriveSteps(context)
  const steps = markReached(derived.steps, verdict)
  const firstFailure = steps.find((step) => step.status === 'fail')

  const display = decoded.ok
    ? { header: decoded.header, payload: decoded.payload }
    : decodeForDisplay(token)
  const issuer = derived.issuer ?? rules.issuers[0]
  const keys = derived.issuer === undefined ? undefined : keysOf(derived.issuer)
  return {
    token: fingerprint(token),
    header: display.header,
    claims: display.payload,
    at,
    settings: {
      issuers: rules.issuers.map((r) => r.issuer),
      audiences: issuer?.audience.values ?? [],
      audienceClaim: issuer?.audience.claim ?? 'aud',
      clockTolerance: rules.clockTolerance,
      route: route ?? {},
    },
    keys: {
      source: derived.issuer === undefined ? 'none' : derived.issuer.keys.kind,
      fetches: recorder.records.map((r) => fetchOf(r, issuer)),
      keys: keys === undefined || keys.kind === 'secret' ? [] : keys.keys.map(describeKey),
    },
    steps,
    verdict,
    agrees: firstFailure?.code === verdict.code,
  }
}

const ACCEPTED: Verdict = Object.freeze({
  outcome: 'accepted',
  status: 200,
  code: undefined,
  error: undefined,
  description: undefined,
  headers: Object.freeze({}),
  causes: Object.freeze([]),
})

function routeOf(route: RouteNeeds | undefined): RouteNeeds | undefined {
  if (route === undefined || (route.allOf === undefined && route.anyOf === undefined)) {
    return undefined
  }
  // Core's checks: scope tokens (RFC 6749 §3.3), non-empty lists.
  return definePolicy({
    ...(route.allOf === undefined ? {} : { allOf: route.allOf }),
    ...(route.anyOf === undefined ? {} : { anyOf: route.anyOf }),
  })
}

function verdictOf(error: AnyBearerGuardError): Verdict {
  const causes: string[] = []
  let cause: unknown = error.cause
  for (let depth = 0; depth < 4 && cause instanceof Error; depth++) {
    // A network error's own message ("fetch failed") adds nothing to core's sentence about it.
    if (!causes.some((text) => text.includes(cause instanceof Error ? cause.message : ''))) {
      causes.push(cause.message)
    }
    cause = cause.cause
  }
  return {
    outcome: error.status === 503 ? 'unavailable' : 'refused',
    status: error.status,
    code: error.code,
    error: error.error,
    description: error.message,
    headers: { ...error.headers },
    causes,
  }
}
