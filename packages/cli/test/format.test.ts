/**
 * The words of an explanation: durations, and what the text says when explain's own reading
 * ever disagrees with core's verdict (the verdict stays core's).
 */
import { describe, expect, test } from 'vitest'
import type { Explanation } from '../src/explanation.js'
import { formatExplanation, printable } from '../src/text.js'
import { duration, relative } from '../src/words.js'

describe('durations in words', () => {
  test.each([
    [0, '0 s'],
    [45_999, '45 s'],
    [60_000, '1 min'],
    [192_000, '3 min 12 s'],
    [3_780_000, '1 h 3 min'],
    [7_200_000, '2 h'],
    [356_400_000, '4 d 3 h'],
  ])('%i ms is %s', (ms, words) => {
    expect(duration(ms)).toBe(words)
  })

  test('relative to the instant of evaluation', () => {
    expect(relative(1_000_000, 1_192_000)).toBe('3 min 12 s ago')
    expect(relative(1_192_000, 1_000_000)).toBe('in 3 min 12 s')
    expect(relative(1_000_400, 1_000_000)).toBe('now')
  })
})

const explanation: Explanation = {
  token: { length: 10, sha256: '0123456789abcdef' },
  header: undefined,
  claims: undefined,
  at: Date.UTC(2030, 0, 1),
  settings: {
    issuers: ['https://auth.example.com/'],
    audiences: ['https://api.example.com'],
    audienceClaim: 'aud',
    clockTolerance: 30,
    route: {},
  },
  keys: { source: 'none', fetches: [], keys: [] },
  steps: [
    {
      id: 'time',
      status: 'fail',
      reached: true,
      code: 'ERR_TOKEN_EXPIRED',
      summary: 'expired',
      details: [],
    },
  ],
  verdict: {
    outcome: 'refused',
    status: 401,
    code: 'ERR_TOKEN_AUDIENCE_INVALID',
    error: 'invalid_token',
    description: 'The access token is not intended for this API (audience)',
    headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
    causes: [],
  },
  agrees: false,
}

describe('the text', () => {
  test("a disagreement is said, and the verdict printed is core's", () => {
    const text = formatExplanation(explanation)
    expect(text).toContain('Verdict: REFUSED, 401 invalid_token (ERR_TOKEN_AUDIENCE_INVALID)')
    expect(text).toContain("the verdict above is the validator's. Please report this")
  })

  test('no disagreement note when they agree', () => {
    expect(formatExplanation({ ...explanation, agrees: true })).not.toContain('Please report')
  })

  test('every unsafe character is escaped, printable text kept', () => {
    expect(printable('a\u001b[31mb\u0085c\u200fd\u2066e é')).toBe(
      'a\\u001b[31mb\\u0085c\\u200fd\\u2066e é',
    )
  })
})
