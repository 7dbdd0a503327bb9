/**
 * Random requests for the property-based tests (fuzz.test.ts) and the long run
 * (scripts/fuzz-long.mjs): three families of `Authorization` values, an oracle that says from
 * RFC 6750 / CONTRACT.md alone (not from the implementation) what each must get, and a runner
 * that sends many cases over keep-alive HTTP with bounded concurrency.
 */
import { encodeToken } from '@bearer-guard/testing'
import fc from 'fast-check'
import {
  b64u,
  refusalProblem,
  TOKEN68,
  type Client,
  type ExpectedRefusal,
  type Reply,
} from './hostile.js'

/** What the cases are built from: one valid token (accepted on every route) and its parts. */
export interface FuzzContext {
  /** A valid access token carrying every scope the example routes need. */
  readonly token: string
  readonly header: Readonly<Record<string, unknown>>
  readonly claims: Readonly<Record<string, unknown>>
  readonly kid: string
}

/** Builds the context from a valid token. */
export function fuzzContext(token: string): FuzzContext {
  const [h, p] = token.split('.') as [string, string]
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>
  return { token, header, claims, kid: String(header.kid) }
}

/** The scopes a fuzz token carries: every route of CONTRACT.md answers 2xx with it. */
export const ALL_SCOPES = 'orders:read orders:write orders:admin reports:read'

export type CaseKind = 'header' | 'mutation' | 'structured'

/** One request: an `Authorization` value (latin1, one byte per char) on a route. */
export interface FuzzCase {
  readonly kind: CaseKind
  readonly method: string
  readonly path: string
  readonly authorization: string
}

const ROUTES: readonly (readonly [string, string])[] = [
  ['GET', '/me'],
  ['GET', '/orders'],
  ['POST', '/orders'],
  ['DELETE', '/orders/1'],
  ['GET', '/reports'],
]
const route = fc.constantFrom(...ROUTES)
const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

// Every byte Node's HTTP client and server accept in a header value: HTAB, SP, VCHAR, obs-text.
const legalChar = fc.oneof(
  fc.constantFrom('\t', ' '),
  fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
)
const latin1 = (maxLength: number) => fc.string({ unit: legalChar, maxLength })
/** Unicode text as its UTF-8 bytes (what a client sends), minus bytes no header may hold. */
const utf8Bytes = fc
  .string({ unit: 'grapheme', maxLength: 40 })
  .map((s) =>
    Buffer.from(
      Buffer.from(s, 'utf8').filter((byte) => byte === 0x09 || (byte >= 0x20 && byte !== 0x7f)),
    ).toString('latin1'),
  )
const tokenChar = fc.constantFrom(
  ...'ABCXYZabcxyz0189-_.~+/='.split(''),
  ...' ,;"\\\t:@()<>[]{}?'.split(''),
)
const tokenish = fc.string({ unit: tokenChar, maxLength: 80 })
const base64urlText = (maxLength: number) =>
  fc.string({
    unit: fc.constantFrom(...BASE64URL_ALPHABET.split('')),
    maxLength,
  })
const jwtish = fc.array(base64urlText(60), { minLength: 1, maxLength: 6 }).map((p) => p.join('.'))
const scheme = fc.constantFrom(
  'Bearer',
  'bearer',
  'BEARER',
  'BeArEr',
  'Bearer,',
  'Bearer:',
  'Bearer=',
  'Basic',
  'Digest',
  'DPoP',
  'Token',
  'Bearerx',
  '',
)
const separator = fc.constantFrom(' ', '  ', '\t', ', ', ' , ', '')

/** Arbitrary `Authorization` values: raw bytes, UTF-8 text, scheme + separator + token-ish. */
export function headerCase(): fc.Arbitrary<FuzzCase> {
  const value = fc.oneof(
    latin1(120),
    utf8Bytes,
    fc
      .tuple(scheme, separator, fc.oneof(tokenish, latin1(60), utf8Bytes, jwtish))
      .map(([s, sep, t]) => `${s}${sep}${t}`),
    // Past the guard's 8192-character limit, within Node's 16 KiB of headers.
    fc.integer({ min: 8000, max: 12_000 }).map((n) => `Bearer ${'a'.repeat(n)}`),
  )
  return fc
    .tuple(route, value)
    .map(([[method, path], authorization]) => ({ kind: 'header', method, path, authorization }))
}

type Json = ReturnType<typeof fc.jsonValue> extends fc.Arbitrary<infer T> ? T : never
const jsonValue: fc.Arbitrary<Json> = fc.jsonValue({ maxDepth: 2 })
const extraMembers = fc.dictionary(fc.string({ maxLength: 10 }), jsonValue, { maxKeys: 3 })

function headerOverrides(context: FuzzContext): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(
      fc.record(
        {
          alg: fc.oneof(
            fc.constantFrom('none', 'None', 'NONE', 'HS256', 'HS512', 'RS256', 'RS384', 'PS256'),
            fc.constantFrom('ES256', 'EdDSA', 'rs256', '', 'RSA-OAEP'),
            jsonValue,
          ),
          kid: fc.oneof(fc.constant(context.kid), fc.string(), jsonValue),
          typ: fc.oneof(
            fc.constantFrom('at+jwt', 'JWT', 'application/at+jwt', 'dpop+jwt'),
            jsonValue,
          ),
          cty: fc.constantFrom('JWT', 'at+jwt'),
          jku: fc.constantFrom('http://127.0.0.1:1/jwks', 'https://attacker.example/jwks'),
          x5u: fc.constant('http://127.0.0.1:1/cert.pem'),
          jwk: fc.object({ maxDepth: 1 }),
          crit: fc.oneof(fc.constant(['b64']), fc.array(fc.string(), { maxLength: 2 }), jsonValue),
          b64: fc.oneof(fc.boolean(), jsonValue),
          enc: fc.constant('A256GCM'),
        },
        { requiredKeys: [] },
      ),
      extraMembers,
    )
    .map(([known, extra]) => ({ ...known, ...extra }))
}

function claimOverrides(): fc.Arbitrary<Record<string, unknown>> {
  const numberish = fc.oneof(
    fc.integer(),
    fc.double(),
    fc.constantFrom(1e308, -1e308, 0, Number.MAX_SAFE_INTEGER + 2),
    jsonValue,
  )
  return fc
    .tuple(
      fc.record(
        {
          iss: fc.oneof(fc.constantFrom('https://evil.example.com', ''), jsonValue),
          aud: fc.oneof(
            fc.constantFrom('test-client', 'https://other.example.com', ['x'], []),
            jsonValue,
          ),
          exp: numberish,
          nbf: numberish,
          iat: numberish,
          sub: jsonValue,
          client_id: jsonValue,
          scope: fc.oneof(fc.constantFrom('admin', ALL_SCOPES), jsonValue),
          scp: jsonValue,
          nonce: fc.string(),
        },
        { requiredKeys: [] },
      ),
      extraMembers,
    )
    .map(([known, extra]) => ({ ...known, ...extra }))
}

type Mutation =
  | { readonly op: 'flip' | 'insert'; readonly at: number; readonly char: string }
  | { readonly op: 'delete'; readonly at: number; readonly count: number }
  | { readonly op: 'truncate'; readonly at: number }
  | { readonly op: 'segments'; readonly order: readonly number[] }
  | { readonly op: 'header' | 'payload'; readonly members: Record<string, unknown> }
  | { readonly op: 'signature-bit'; readonly at: number }
  | { readonly op: 'respell'; readonly segment: number; readonly bits: number }
  | { readonly op: 'frame'; readonly before: string; readonly after: string }

function applyMutation(token: string, m: Mutation, context: FuzzContext): string {
  switch (m.op) {
    case 'flip': {
      const at = m.at % Math.max(token.length, 1)
      return token.slice(0, at) + m.char + token.slice(at + 1)
    }
    case 'insert': {
      const at = m.at % (token.length + 1)
      return token.slice(0, at) + m.char + token.slice(at)
    }
    case 'delete': {
      const at = m.at % Math.max(token.length, 1)
      return token.slice(0, at) + token.slice(at + m.count)
    }
    case 'truncate':
      return token.slice(0, m.at % (token.length + 1))
    case 'segments': {
      const parts = token.split('.')
      return m.order.map((i) => parts[i % parts.length] ?? '').join('.')
    }
    case 'header':
    case 'payload': {
      const parts = token.split('.')
      const base = m.op === 'header' ? context.header : context.claims
      parts[m.op === 'header' ? 0 : 1] = b64u(JSON.stringify({ ...base, ...m.members }))
      return parts.join('.')
    }
    case 'signature-bit': {
      const parts = token.split('.')
      const signature = Buffer.from(parts.at(-1) ?? '', 'base64url')
      if (signature.length === 0) return token
      const bit = m.at % (signature.length * 8)
      signature[bit >> 3]! ^= 1 << (bit & 7)
      parts[parts.length - 1] = signature.toString('base64url')
      return parts.join('.')
    }
    case 'respell': {
      // Another spelling of the same bytes: the last character's unused low bits changed.
      const parts = token.split('.')
      const index = m.segment % parts.length
      const segment = parts[index] ?? ''
      const unused = { 2: 0b1111, 3: 0b11 }[segment.length % 4]
      const value = BASE64URL_ALPHABET.indexOf(segment.at(-1) ?? '')
      if (unused === undefined || value === -1) return token
      const respelled = BASE64URL_ALPHABET[(value & ~unused) | (m.bits & unused)]!
      parts[index] = segment.slice(0, -1) + respelled
      return parts.join('.')
    }
    case 'frame':
      return m.before + token + m.after
  }
}

/** Mutations of the valid token: edits, segment shuffles, re-encoded header or payload. */
export function mutationCase(context: FuzzContext): fc.Arbitrary<FuzzCase> {
  const at = fc.nat({ max: 100_000 })
  const char = fc.oneof(
    fc.constantFrom(...BASE64URL_ALPHABET.split('')),
    fc.constantFrom(...'.=+/~ \t,"\\%'.split('')),
  )
  // White space of HTTP (SP, HTAB) and of JavaScript only (U+00A0, U+0085 is not).
  const frame = fc.constantFrom('', ' ', '\t', '\xa0', '\x85', ' \xa0')
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    { arbitrary: fc.record({ op: fc.constant('flip' as const), at, char }), weight: 4 },
    { arbitrary: fc.record({ op: fc.constant('insert' as const), at, char }), weight: 2 },
    {
      arbitrary: fc.record({
        op: fc.constant('delete' as const),
        at,
        count: fc.integer({ min: 1, max: 4 }),
      }),
      weight: 2,
    },
    { arbitrary: fc.record({ op: fc.constant('truncate' as const), at }), weight: 1 },
    {
      arbitrary: fc.record({
        op: fc.constant('segments' as const),
        order: fc.array(fc.nat({ max: 4 }), { minLength: 1, maxLength: 5 }),
      }),
      weight: 1,
    },
    {
      arbitrary: fc.record({
        op: fc.constant('header' as const),
        members: headerOverrides(context),
      }),
      weight: 2,
    },
    {
      arbitrary: fc.record({ op: fc.constant('payload' as const), members: claimOverrides() }),
      weight: 2,
    },
    { arbitrary: fc.record({ op: fc.constant('signature-bit' as const), at }), weight: 1 },
    {
      arbitrary: fc.record({
        op: fc.constant('respell' as const),
        segment: fc.nat({ max: 2 }),
        bits: fc.nat({ max: 15 }),
      }),
      weight: 1,
    },
    {
      arbitrary: fc.record({
        op: fc.constant('frame' as const),
        before: frame,
        after: frame,
      }),
      weight: 1,
    },
  )
  return fc.array(mutation, { minLength: 1, maxLength: 3 }).map((mutations) => {
    const token = mutations.reduce((t, m) => applyMutation(t, m, context), context.token)
    return { kind: 'mutation', method: 'GET', path: '/me', authorization: `Bearer ${token}` }
  })
}

/** Tokens built from random parts: random or real-looking header and payload, any signature. */
export function structuredCase(context: FuzzContext): fc.Arbitrary<FuzzCase> {
  const object = fc.object({ maxDepth: 2, maxKeys: 6 })
  const header = fc.oneof(
    object,
    headerOverrides(context),
    headerOverrides(context).map((members) => ({ ...context.header, ...members })),
    jsonValue,
    fc.string(),
  )
  const payload = fc.oneof(
    object,
    claimOverrides().map((members) => ({ ...context.claims, ...members })),
    jsonValue,
    fc.string(),
  )
  const signature = fc.oneof(
    fc.base64String({ maxLength: 400 }),
    fc.uint8Array({ maxLength: 520 }).map((bytes) => Buffer.from(bytes).toString('base64url')),
    fc.constant(context.token.split('.')[2]!),
    fc.constant(''),
  )
  return fc
    .tuple(route, header, payload, signature)
    .map(([[method, path], h, p, s]) => ({
      kind: 'structured' as const,
      method,
      path,
      authorization: `Bearer ${encodeToken({ header: h, payload: p, signature: s })}`,
    }))
    .filter((c) => c.authorization.length < 12_000)
}

/** Every family, for the long run. */
export function anyCase(context: FuzzContext): fc.Arbitrary<FuzzCase> {
  return fc.oneof(headerCase(), mutationCase(context), structuredCase(context))
}

/**
 * How a case ended: refused as it must be, or the original token accepted (as it must be).
 * Anything else is a violation, reported in `problem`.
 */
export type Outcome = 'refused' | 'accepted-original'

export interface Verdict {
  readonly outcome: Outcome
  /** What is wrong, when the reply breaks CONTRACT.md. */
  readonly problem?: string
  /** True when a token that is not the original was accepted (2xx or 403). */
  readonly forgery: boolean
}

const OWS = /^[ \t]+|[ \t]+$/g
const TCHARS = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

type Expectation =
  | { readonly kind: 'no-credentials' }
  | { readonly kind: 'invalid_request'; readonly dpop: boolean }
  | { readonly kind: 'token'; readonly token: string; readonly dpop: boolean }
  | { readonly kind: 'any-refusal' }

/**
 * What RFC 6750 §2.1 (`"Bearer" 1*SP b64token`) and CONTRACT.md say a request with this
 * `Authorization` value must get, after the OWS trimming every HTTP parser does. The examples
 * accept the RFC 9449 `DPoP` scheme too (`DPOP=allowed`, their default), with the same token
 * syntax; a token sent with it, and no DPoP proof, is never accepted.
 */
export function expectation(authorization: string): Expectation {
  const value = authorization.replace(OWS, '')
  if (value === '') return { kind: 'no-credentials' }
  const space = value.indexOf(' ')
  const scheme = space === -1 ? value : value.slice(0, space)
  const dpop = scheme.toLowerCase() === 'dpop'
  if (scheme.toLowerCase() !== 'bearer' && !dpop) {
    // Another scheme; a "scheme" that is not a token is malformed, and either refusal will do.
    return TCHARS.test(scheme) ? { kind: 'no-credentials' } : { kind: 'any-refusal' }
  }
  const token = space === -1 ? '' : value.slice(space + 1).replace(OWS, '')
  if (token === '') return { kind: 'invalid_request', dpop }
  return TOKEN68.test(token) ? { kind: 'token', token, dpop } : { kind: 'invalid_request', dpop }
}

const INVALID_TOKEN: ExpectedRefusal = { status: 401, error: 'invalid_token' }
const INVALID_REQUEST: ExpectedRefusal = { status: 400, error: 'invalid_request' }
const NO_CREDENTIALS: ExpectedRefusal = { status: 401, error: undefined }
/** With the DPoP scheme: the error may be in the DPoP challenge, or be `invalid_dpop_proof`. */
const DPOP_INVALID_TOKEN: ExpectedRefusal = { ...INVALID_TOKEN, dpop: true }
const DPOP_INVALID_REQUEST: ExpectedRefusal = { ...INVALID_REQUEST, dpop: true }

const accepted = (reply: Reply): boolean =>
  (reply.status >= 200 && reply.status < 300) || reply.status === 403

/** Judges one reply against the oracle; `original` is the one valid token. */
export function judge(fuzzCase: FuzzCase, reply: Reply, original: string): Verdict {
  const expected = expectation(fuzzCase.authorization)
  const refused = (refusal: ExpectedRefusal | undefined): Verdict => {
    const problem = refusalProblem(reply, refusal)
    return problem === undefined
      ? { outcome: 'refused', forgery: false }
      : { outcome: 'refused', problem, forgery: accepted(reply) }
  }
  switch (expected.kind) {
    case 'no-credentials':
      return refused(NO_CREDENTIALS)
    case 'any-refusal':
      return refused(undefined)
    case 'invalid_request':
      return refused(expected.dpop ? DPOP_INVALID_REQUEST : INVALID_REQUEST)
    case 'token': {
      // Without a proof, no token is accepted with the DPoP scheme, not even the original.
      if (expected.dpop) return refused(DPOP_INVALID_TOKEN)
      if (expected.token === original) {
        return reply.status >= 200 && reply.status < 300
          ? { outcome: 'accepted-original', forgery: false }
          : {
              outcome: 'refused',
              problem: `the original token got ${reply.status}`,
              forgery: false,
            }
      }
      return refused(INVALID_TOKEN)
    }
  }
}

/** Counts of a campaign against one example. */
export interface CampaignStats {
  cases: number
  readonly byKind: Record<CaseKind, number>
  readonly statuses: Record<number, number>
  readonly outcomes: Record<Outcome, number>
  serverErrors: number
  forgeries: number
  transportErrors: number
  /** The first few violations, with their input. */
  readonly problems: {
    readonly problem: string
    readonly case: FuzzCase
    readonly status: number
  }[]
  durationMs: number
  /** True when the time budget ran out before every case was sent. */
  timedOut: boolean
}

/**
 * Draws `total` cases from `arbitrary` (deterministically: chunk `i` uses seed `seed + i`) and
 * sends them through `client` with `concurrency` requests in flight, until done or `deadline`.
 */
export async function runCampaign(options: {
  readonly client: Client
  readonly arbitrary: fc.Arbitrary<FuzzCase>
  readonly original: string
  readonly total: number
  readonly seed: number
  readonly concurrency: number
  /** `Date.now()` after which no new case is sent. */
  readonly deadline: number
  readonly onProgress?: (stats: CampaignStats) => void
}): Promise<CampaignStats> {
  const stats: CampaignStats = {
    cases: 0,
    byKind: { header: 0, mutation: 0, structured: 0 },
    statuses: {},
    outcomes: { refused: 0, 'accepted-original': 0 },
    serverErrors: 0,
    forgeries: 0,
    transportErrors: 0,
    problems: [],
    durationMs: 0,
    timedOut: false,
  }
  const started = Date.now()
  const CHUNK = 1000
  let chunk: FuzzCase[] = []
  let drawn = 0
  let chunkIndex = 0
  const next = (): FuzzCase | undefined => {
    if (drawn >= options.total) return undefined
    if (chunk.length === 0) {
      const size = Math.min(CHUNK, options.total - drawn)
      chunk = fc.sample(options.arbitrary, { seed: options.seed + chunkIndex++, numRuns: size })
      chunk.reverse()
    }
    drawn++
    return chunk.pop()
  }
  const record = (problem: string, fuzzCase: FuzzCase, status: number): void => {
    if (stats.problems.length < 20) stats.problems.push({ problem, case: fuzzCase, status })
  }

  const worker = async (): Promise<void> => {
    for (;;) {
      if (Date.now() > options.deadline) {
        stats.timedOut = drawn < options.total
        return
      }
      const fuzzCase = next()
      if (fuzzCase === undefined) return
      let reply: Reply
      try {
        reply = await options.client.send(fuzzCase)
      } catch (error) {
        stats.cases++
        stats.transportErrors++
        record(`transport: ${error instanceof Error ? error.message : String(error)}`, fuzzCase, 0)
        continue
      }
      stats.cases++
      stats.byKind[fuzzCase.kind]++
      stats.statuses[reply.status] = (stats.statuses[reply.status] ?? 0) + 1
      if (reply.status >= 500) stats.serverErrors++
      const verdict = judge(fuzzCase, reply, options.original)
      stats.outcomes[verdict.outcome]++
      if (verdict.forgery) stats.forgeries++
      if (verdict.problem !== undefined) record(verdict.problem, fuzzCase, reply.status)
      if (stats.cases % 5000 === 0) options.onProgress?.(stats)
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker))
  stats.durationMs = Date.now() - started
  return stats
}
