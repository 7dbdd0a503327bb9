/**
 * One authorization server's introspection endpoint (RFC 7662 §2): found by discovery (RFC 8414
 * §2) unless configured, called with client authentication and the limits of key-set fetches (a
 * hard timeout, a size cap, no redirects), its answer read as RFC 7662 JSON or as an RFC 9701
 * signed JWT. Anything but a well-formed answer is a failure: the request gets 503, never 401.
 */
import { KeySetUnavailableError } from '../challenge/errors.js'
import { verifySignature, algorithmSpec } from '../jws/algorithms.js'
import { decodeJws, signingInput } from '../jws/decode.js'
import { discoverMetadata, discoveredUrl } from '../keys/discovery.js'
import {
  FetchFailure,
  expiry,
  networkReason,
  readLimited,
  type FetchLimits,
} from '../keys/fetch-json.js'
import type { KeySource } from '../keys/key-source.js'
import type { KeySetFailure } from '../keys/remote.js'
import { authenticate, type ClientCredentials } from './client-auth.js'

/** RFC 9701 §4: the media type of a signed answer, and of the `Accept` that asks for one. */
const JWT_ANSWER = 'application/token-introspection+jwt'
/** RFC 9701 §5 spells `typ` without the `application/` prefix RFC 7515 §4.1.9 makes optional. */
const JWT_ANSWER_TYPES = new Set(['token-introspection+jwt', JWT_ANSWER])
const MAX_BACKOFF = 30_000

/** Settings of an {@link IntrospectionEndpoint}; times in milliseconds. */
export interface IntrospectionEndpointSettings {
  readonly issuer: string
  /** The configured endpoint; `undefined`: from discovery. */
  readonly endpoint: string | undefined
  readonly credentials: ClientCredentials
  readonly limits: FetchLimits
  readonly allowInsecureHttp: boolean
  /** Refuse plain JSON answers; ask for signed ones whatever discovery says. */
  readonly requireSigned: boolean
  /** The issuer's keys and algorithms: what verifies a signed answer. */
  readonly keys: KeySource
  readonly algorithms: ReadonlySet<string>
  /** The `aud` values a signed answer may name: the client id and this API's audiences. */
  readonly audiences: readonly string[]
  /** Seconds. */
  readonly clockTolerance: number
  readonly retryAfter: number
  readonly clock: () => number
  readonly onFailure: ((failure: KeySetFailure) => void) | undefined
}

/** Where the answers come from, once known. */
interface Target {
  readonly url: string
  /** The algorithms signed answers are asked for and accepted with; empty: ask for JSON. */
  readonly signing: ReadonlySet<string>
}

/** An untrusted value of an answer as a log may show it: printable ASCII, bounded. */
function shown(value: string): string {
  const text = value.replace(/[^\x20-\x7e]/g, '?')
  return `'${text.length > 64 ? `${text.slice(0, 64)}…` : text}'`
}

/**
 * An authorization server's introspection endpoint. `introspect` resolves with the RFC 7662
 * members of the answer, `active` checked to be a boolean; it rejects with a
 * {@link KeySetUnavailableError} (503, `Retry-After`) when no such answer can be had. After a
 * failure, requests are answered 503 at once for a growing pause (1 s doubling to 30 s), so a dead
 * server does not hold every request for the fetch timeout.
 */
export class IntrospectionEndpoint {
  readonly #s: IntrospectionEndpointSettings
  #target: Target | undefined
  #discovery: Promise<Target> | undefined
  #failures = 0
  #lastFailureAt = Number.NEGATIVE_INFINITY
  #nextAttemptAt = 0

  constructor(settings: IntrospectionEndpointSettings) {
    this.#s = settings
    if (settings.endpoint !== undefined && !settings.requireSigned) {
      this.#target = { url: settings.endpoint, signing: new Set() }
    } else if (settings.endpoint !== undefined) {
      this.#target = { url: settings.endpoint, signing: settings.algorithms }
    }
  }

  /** Finds the endpoint now if discovery is needed (readiness); rejects when that fails. */
  async load(): Promise<void> {
    try {
      await this.#find()
    } catch (error) {
      throw this.#failed(error, this.#s.clock())
    }
  }

  /** The RFC 7662 members of the answer about `token`. */
  async introspect(token: string): Promise<Record<string, unknown>> {
    const started = this.#s.clock()
    if (started < this.#nextAttemptAt) {
      throw this.#unavailable(undefined, (this.#nextAttemptAt - started) / 1000)
    }
    try {
      const members = await this.#exchange(await this.#find(), token)
      this.#failures = 0
      this.#nextAttemptAt = 0
      return members
    } catch (error) {
      throw this.#failed(error, started)
    }
  }

  #find(): Promise<Target> {
    if (this.#target !== undefined) return Promise.resolve(this.#target)
    this.#discovery ??= this.#discover().finally(() => {
      this.#discovery = undefined
    })
    return this.#discovery
  }

  async #discover(): Promise<Target> {
    const { issuer, limits, allowInsecureHttp, algorithms, requireSigned } = this.#s
    const metadata = await discoverMetadata(issuer, limits)
    const url =
      this.#s.endpoint ?? discoveredUrl(metadata, 'introspection_endpoint', allowInsecureHttp)
    // RFC 9701 §7: the server offers signed answers with these algorithms.
    const offered = metadata.document.introspection_signing_alg_values_supported
    const signing = new Set(
      Array.isArray(offered)
        ? offered.filter((alg): alg is string => typeof alg === 'string' && algorithms.has(alg))
        : [],
    )
    if (requireSigned && signing.size === 0) {
      throw new FetchFailure(
        `the discovery document at ${metadata.url} offers no signed introspection answers (RFC 9701 introspection_signing_alg_values_supported) with an accepted algorithm, and requireSignedResponse is set`,
      )
    }
    this.#target = { url, signing }
    return this.#target
  }

  async #exchange(target: Target, token: string): Promise<Record<string, unknown>> {
    const { credentials, issuer, limits, clock } = this.#s
    const auth = authenticate(credentials, issuer, clock())
    // RFC 7662 §2.1: a POSTed form with the token and a hint of its type (RFC 7009 §2.1).
    const body = new URLSearchParams({ token, token_type_hint: 'access_token', ...auth.params })
    const answer = await post(
      target.url,
      body.toString(),
      {
        accept: target.signing.size > 0 ? JWT_ANSWER : 'application/json',
        'content-type': 'application/x-www-form-urlencoded',
        ...auth.headers,
      },
      limits,
    )
    if (answer.status !== 200) {
      const refused = answer.status === 401 || answer.status === 403
      throw new FetchFailure(
        `${target.url} answered HTTP ${answer.status}${refused ? `: the client credentials of '${credentials.clientId}' (${credentials.method}) were refused (RFC 7662 §2.3)` : ''}`,
      )
    }
    let members: unknown
    if (answer.type === JWT_ANSWER) {
      members = await this.#verified(target, answer.bytes)
    } else if (answer.type === 'application/json' && !this.#s.requireSigned) {
      members = parseJson(answer.bytes, target.url)
    } else {
      throw new FetchFailure(
        `${target.url} answered ${answer.type === '' ? 'without a media type' : shown(answer.type)}, not ${this.#s.requireSigned ? JWT_ANSWER : 'application/json'}`,
      )
    }
    if (typeof members !== 'object' || members === null || Array.isArray(members)) {
      throw new FetchFailure(`${target.url} did not answer a JSON object (RFC 7662 §2.2)`)
    }
    // RFC 7662 §2.2: `active` is REQUIRED, a boolean. `"true"` or `1` is no answer to trust.
    const { active } = members as Record<string, unknown>
    if (typeof active !== 'boolean') {
      throw new FetchFailure(`the answer of ${target.url} has no boolean 'active' (RFC 7662 §2.2)`)
    }
    return members as Record<string, unknown>
  }

  /**
   * RFC 9701 §5: a JWT typed `token-introspection+jwt`, signed with the issuer's keys by an
   * accepted algorithm, its `iss` the issuer, its `aud` this resource server, an `iat` not in the
   * future, and the RFC 7662 members in `token_introspection`. §8.1: without the `typ` check, an
   * access token of the same issuer would pass for an answer.
   */
  async #verified(target: Target, bytes: Uint8Array): Promise<unknown> {
    const { issuer, keys, audiences, clock, clockTolerance } = this.#s
    const bad = (why: string) =>
      new FetchFailure(`the signed answer of ${target.url} ${why} (RFC 9701 §5)`)
    let jws
    try {
      jws = decodeJws(Buffer.from(bytes).toString('latin1').trim())
    } catch {
      throw bad('is not a compact JWS (encrypted answers are not supported)')
    }
    const { alg, typ, kid, crit } = jws.header
    if (typeof typ !== 'string' || !JWT_ANSWER_TYPES.has(typ.toLowerCase())) {
      throw bad("is not typed 'token-introspection+jwt'")
    }
    const accepted = target.signing.size > 0 ? target.signing : this.#s.algorithms
    const spec = typeof alg === 'string' && accepted.has(alg) ? algorithmSpec(alg) : undefined
    if (spec === undefined) throw bad('is signed with an algorithm that is not accepted')
    if (crit !== undefined || (kid !== undefined && typeof kid !== 'string')) {
      throw bad('has a crit or non-string kid header')
    }
    const candidates = await keys.candidates(spec, kid)
    const data = signingInput(jws)
    if (!candidates.some((key) => verifySignature(spec, key, data, jws.signature))) {
      throw bad('is not signed by a key of the issuer')
    }
    const { iss, aud, iat, token_introspection: members } = jws.payload
    if (iss !== issuer) throw bad(`names another issuer than '${issuer}'`)
    const named = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : []
    if (!named.some((value) => typeof value === 'string' && audiences.includes(value))) {
      throw bad('is meant for another audience than this resource server')
    }
    if (typeof iat !== 'number' || iat - clockTolerance > clock() / 1000) {
      throw bad("has no 'iat', or one in the future")
    }
    return members
  }

  /** Records a failure (one report per episode) and makes the 503 the request gets. */
  #failed(error: unknown, started: number): KeySetUnavailableError {
    const now = this.#s.clock()
    // Requests that were in flight together fail together: one step of the pause, not many.
    if (started > this.#lastFailureAt) {
      if (this.#failures === 0) this.#report(error)
      this.#failures += 1
      this.#lastFailureAt = now
      this.#nextAttemptAt = now + Math.min(MAX_BACKOFF, 1000 * 2 ** (this.#failures - 1))
    }
    return this.#unavailable(error, this.#s.retryAfter / 1000)
  }

  #report(error: unknown): void {
    const { onFailure, issuer } = this.#s
    if (onFailure === undefined) return
    const cause = error instanceof Error ? error.message : String(error)
    try {
      onFailure({
        issuer,
        message: `bearer-guard: cannot introspect access tokens at issuer '${issuer}': ${cause}; requests whose token needs introspection get 503 until it answers (answers cached earlier keep serving)`,
        servingStaleKeys: false,
        error,
      })
    } catch {
      // A throwing logger must not turn a 503 into something else.
    }
  }

  #unavailable(cause: unknown, retryAfter: number): KeySetUnavailableError {
    return new KeySetUnavailableError(
      'The authorization server cannot introspect the access token now; try again later',
      Math.max(retryAfter, this.#s.retryAfter / 1000),
      { cause },
    )
  }
}

function parseJson(bytes: Uint8Array, url: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    throw new FetchFailure(`${url} did not answer valid JSON`)
  }
}

/** An answer: its status, its media type (lower case, without parameters) and its body. */
interface Answer {
  readonly status: number
  readonly type: string
  readonly bytes: Uint8Array
}

/** POSTs a form with the limits of key-set fetches: a hard timeout, a size cap, no redirects. */
async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  limits: FetchLimits,
): Promise<Answer> {
  const signal = AbortSignal.timeout(limits.timeout)
  const expired = expiry(signal)
  let response: Response
  try {
    const pending = limits.fetch(url, { method: 'POST', redirect: 'manual', signal, headers, body })
    // A response arriving after the deadline is discarded; release its connection.
    pending.then(
      (late) => {
        if (signal.aborted && !late.bodyUsed) late.body?.cancel().catch(() => undefined)
      },
      () => undefined,
    )
    response = await Promise.race([pending, expired])
  } catch (error) {
    throw new FetchFailure(`${url} could not be reached: ${networkReason(error, limits)}`, {
      cause: error,
    })
  }
  try {
    // `redirect: 'manual'` is only a request: a custom fetch may follow redirects anyway.
    if (response.redirected || (response.status >= 300 && response.status < 400)) {
      throw new FetchFailure(`${url} redirected; redirects are refused`)
    }
    const type =
      (response.headers.get('content-type') ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? ''
    let bytes: Uint8Array = new Uint8Array(0)
    if (response.status === 200) {
      try {
        bytes = await readLimited(response, limits.maxBytes, expired)
      } catch (error) {
        if (error instanceof FetchFailure) throw new FetchFailure(`${url}: ${error.message}`)
        throw new FetchFailure(`${url} could not be read: ${networkReason(error, limits)}`, {
          cause: error,
        })
      }
    }
    return { status: response.status, type, bytes }
  } finally {
    if (response.body && !response.bodyUsed) await response.body.cancel().catch(() => undefined)
  }
}
