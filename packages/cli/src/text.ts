/**
 * An explanation as text for a terminal, and as JSON. Everything printed passes through
 * {@link printable}: claims are the token's own, untrusted content, and an escape sequence in a
 * claim must not reach the terminal (CWE-150).
 */
import type { Explanation, ExplainStep } from './explanation.js'
import { count, instant, relative, shown } from './words.js'

/** C0 and C1 controls, DEL, and invisible or bidirectional formatting characters. */
const UNSAFE =
  // Matching control characters is the point: they must never reach the terminal raw.
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g
/** The same, less C0 controls: `JSON.stringify` escapes those inside strings already. */
const UNSAFE_IN_JSON =
  /[\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g

function escape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
}

/** A line as it may reach a terminal: unsafe characters as `\uXXXX`. */
export function printable(line: string): string {
  return line.replace(UNSAFE, escape)
}

/** Options of {@link formatExplanation}. */
export interface FormatOptions {
  /** Print the decoded header and claims. Default: `true`. */
  readonly claims?: boolean
}

const TIME_CLAIMS = new Set(['exp', 'nbf', 'iat', 'auth_time'])
const STATUS_WORD: Readonly<Record<ExplainStep['status'], string>> = {
  pass: 'pass',
  fail: 'FAIL',
  skip: 'skip',
}
const REASON: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  503: 'Service Unavailable',
}

function pad(text: string, width: number): string {
  return text.length >= width ? `${text} ` : text.padEnd(width)
}

function claimLines(claims: Readonly<Record<string, unknown>>, at: number): string[] {
  const names = Object.keys(claims)
  const width = Math.min(24, Math.max(...names.map((n) => n.length), 3) + 2)
  return names.map((name) => {
    const value = claims[name]
    const when =
      TIME_CLAIMS.has(name) && typeof value === 'number' && Number.isFinite(value)
        ? `  ${instant(value)}, ${relative(value * 1000, at)}`
        : ''
    return `  ${pad(name, width)}${shown(value, 200)}${when}`
  })
}

/**
 * The explanation as text: the token's fingerprint, its decoded header and claims, the
 * settings, each check with pass or FAIL in core's order, and core's verdict with the exact
 * `WWW-Authenticate`. Never the token itself.
 */
export function formatExplanation(e: Explanation, options: FormatOptions = {}): string {
  const out: string[] = []
  out.push(
    `bearer-guard explain: a token of ${e.token.length} characters, SHA-256 ${e.token.sha256}... (the token itself is never printed)`,
    '',
  )
  if (options.claims !== false) {
    out.push('Token, decoded on this machine (unverified unless the signature check passes)')
    out.push(`  header  ${e.header === undefined ? '(does not decode)' : shown(e.header, 300)}`)
    if (e.claims === undefined) out.push('  claims  (do not decode)')
    else out.push(...claimLines(e.claims, e.at))
    out.push('')
  }
  out.push('Settings')
  out.push(`  issuer     ${e.settings.issuers.join(', ')}`)
  out.push(
    `  audience   ${e.settings.audiences.join(', ')}${e.settings.audienceClaim === 'aud' ? '' : ` (in claim ${e.settings.audienceClaim})`}`,
  )
  const keyLines = keysLines(e)
  out.push(
    `  keys       ${keyLines[0] ?? ''}`,
    ...keyLines.slice(1).map((l) => `             ${l}`),
  )
  out.push(
    `  time       ${new Date(e.at).toISOString()}, clock tolerance ${e.settings.clockTolerance} s`,
  )
  const { allOf, anyOf } = e.settings.route
  if (allOf !== undefined || anyOf !== undefined) {
    const needs = [
      ...(allOf === undefined ? [] : [`all of ${allOf.join(' ')}`]),
      ...(anyOf === undefined ? [] : [`one of ${anyOf.join(' ')}`]),
    ]
    out.push(`  route      needs ${needs.join(', and ')}`)
  }
  out.push('', 'Checks, in the order the API runs them')
  for (const step of e.steps) {
    const word = step.reached ? STATUS_WORD[step.status] : 'later'
    const summary = step.reached
      ? step.summary
      : step.status === 'fail'
        ? `would fail next: ${step.summary}`
        : step.status === 'pass'
          ? `would pass: ${step.summary}`
          : step.summary
    out.push(`  ${pad(word, 7)}${pad(step.id, 18)}${summary}`)
    if (step.reached) for (const detail of step.details) out.push(`${' '.repeat(27)}${detail}`)
  }
  out.push('', ...verdictLines(e))
  return `${out.map(printable).join('\n')}\n`
}

function keysLines(e: Explanation): string[] {
  const lines: string[] = []
  const { source, fetches, keys } = e.keys
  if (source === 'secret') return ['a shared HMAC secret (secret)']
  if (source === 'none') return ['(no accepted issuer selected)']
  if (source === 'static')
    lines.push(
      `static: ${count(keys.length, 'key')} from --jwks or the keys option, nothing fetched`,
    )
  else if (fetches.length === 0)
    lines.push(`${source === 'discovery' ? 'discovery' : 'jwksUri'}: no request made`)
  for (const f of fetches) {
    const answer = f.error ?? (f.status === undefined ? 'no answer' : `HTTP ${f.status}`)
    lines.push(`GET ${f.url} (${f.kind}): ${answer}`)
  }
  if (source !== 'static' && keys.length > 0)
    lines.push(`the key set holds ${count(keys.length, 'key')}`)
  for (const key of keys) {
    const what = [
      key.kty +
        (key.crv === undefined ? '' : ` ${key.crv}`) +
        (key.bits === undefined ? '' : ` ${key.bits} bits`),
      ...(key.alg === undefined ? [] : [key.alg]),
      ...(key.use === undefined ? [] : [`use ${key.use}`]),
    ].join(', ')
    lines.push(
      `  kid ${key.kid === undefined ? '(none)' : shown(key.kid)}: ${what}${key.usable ? '' : `; skipped: ${key.note ?? ''}`}`,
    )
  }
  return lines
}

function verdictLines(e: Explanation): string[] {
  const v = e.verdict
  const lines: string[] = []
  if (v.outcome === 'accepted') {
    lines.push('Verdict: ACCEPTED. The API would serve this request (200).')
  } else {
    const what = v.outcome === 'unavailable' ? 'UNAVAILABLE' : 'REFUSED'
    lines.push(
      `Verdict: ${what}, ${v.status}${v.error === undefined ? '' : ` ${v.error}`} (${v.code ?? ''})`,
      `  ${v.description ?? ''}`,
    )
    for (const cause of v.causes) lines.push(`  cause: ${cause}`)
    lines.push('', 'The API answers:', `  HTTP/1.1 ${v.status} ${REASON[v.status] ?? ''}`)
    for (const [name, value] of Object.entries(v.headers)) lines.push(`  ${name}: ${value}`)
  }
  if (!e.agrees) {
    lines.push(
      '',
      "Note: explain's own reading of the token does not match the validator's verdict at the same step; the verdict above is the validator's. Please report this as a bug of explain.",
    )
  }
  return lines
}

/** The explanation as JSON, with unsafe characters escaped even where JSON allows them raw. */
export function explanationJson(e: Explanation): string {
  return `${JSON.stringify(e, null, 2).replace(UNSAFE_IN_JSON, escape)}\n`
}
