/**
 * A strict parser of `WWW-Authenticate` (RFC 9110 §11.6.1), so tests compare challenge
 * parameters instead of matching strings:
 *
 *     challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *     auth-param = token BWS "=" BWS ( token / quoted-string )
 *
 * Parameter names are case-insensitive and returned in lower case; a repeated parameter, an
 * unterminated quoted-string or any other syntax error throws.
 */

/** One challenge of a `WWW-Authenticate` header. */
export interface Challenge {
  /** The auth-scheme, as sent (compare case-insensitively). */
  readonly scheme: string
  /** The token68 form of the challenge, when it has one instead of parameters. */
  readonly token68?: string
  /** The auth-params, names in lower case, quoted-string values unescaped. */
  readonly params: Readonly<Record<string, string>>
}

const TCHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/
const TOKEN68_CHAR = /[A-Za-z0-9._~+/-]/

class Scanner {
  pos = 0
  constructor(readonly text: string) {}

  // A method, not a getter: TypeScript would narrow a getter across the calls that move `pos`.
  atEnd(): boolean {
    return this.pos >= this.text.length
  }

  peek(offset = 0): string {
    return this.text.charAt(this.pos + offset)
  }

  /** Skips optional whitespace (SP / HTAB). */
  ows(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++
  }

  token(): string {
    const start = this.pos
    while (!this.atEnd() && TCHAR.test(this.peek())) this.pos++
    return this.text.slice(start, this.pos)
  }

  fail(what: string): never {
    throw new SyntaxError(
      `WWW-Authenticate: ${what} at ${this.pos} in ${JSON.stringify(this.text)}`,
    )
  }

  quotedString(): string {
    this.pos++ // opening DQUOTE
    let value = ''
    for (;;) {
      if (this.atEnd()) this.fail('unterminated quoted-string')
      const ch = this.peek()
      this.pos++
      if (ch === '"') return value
      if (ch === '\\') {
        if (this.atEnd()) this.fail('unterminated quoted-pair')
        value += this.peek()
        this.pos++
      } else {
        value += ch
      }
    }
  }

  /** True when an auth-param (`token BWS "="`, not a token68's trailing `=`) starts here. */
  atParam(): boolean {
    const saved = this.pos
    try {
      if (this.token() === '') return false
      this.ows()
      if (this.peek() !== '=') return false
      while (this.peek() === '=') this.pos++
      this.ows()
      return !this.atEnd() && this.peek() !== ','
    } finally {
      this.pos = saved
    }
  }
}

/** Parses a `WWW-Authenticate` field value into its challenges, in order. */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const s = new Scanner(header)
  const challenges: Challenge[] = []
  for (;;) {
    // Empty list elements (`, ,`) are allowed by the list syntax.
    while (s.peek() === ',' || s.peek() === ' ' || s.peek() === '\t') s.pos++
    if (s.atEnd()) break
    const scheme = s.token()
    if (scheme === '') s.fail('expected an auth-scheme')
    const params: Record<string, string> = {}
    let token68: string | undefined
    if (s.peek() === ' ') {
      s.ows()
      if (s.atParam()) {
        for (;;) {
          const name = s.token().toLowerCase()
          s.ows()
          s.pos++ // "="
          s.ows()
          const quoted = s.peek() === '"'
          const value = quoted ? s.quotedString() : s.token()
          if (!quoted && value === '') s.fail('expected a parameter value')
          if (Object.hasOwn(params, name)) s.fail(`repeated parameter "${name}"`)
          params[name] = value
          s.ows()
          if (s.atEnd()) break
          if (s.peek() !== ',') s.fail('expected ","')
          // A comma ends this parameter; what follows is another parameter or a new challenge.
          while (s.peek() === ',' || s.peek() === ' ' || s.peek() === '\t') s.pos++
          if (!s.atParam()) break
        }
      } else if (!s.atEnd() && s.peek() !== ',') {
        const start = s.pos
        while (TOKEN68_CHAR.test(s.peek())) s.pos++
        while (s.peek() === '=') s.pos++
        if (s.pos === start) s.fail('expected token68 or auth-params')
        token68 = s.text.slice(start, s.pos)
        s.ows()
      }
    }
    if (!s.atEnd() && s.peek() !== ',' && !TCHAR.test(s.peek())) s.fail('unexpected character')
    if (!s.atEnd() && s.peek() !== ',' && token68 !== undefined)
      s.fail('expected "," after token68')
    challenges.push(token68 === undefined ? { scheme, params } : { scheme, token68, params })
  }
  if (challenges.length === 0) s.fail('no challenge')
  return challenges
}

/**
 * The single challenge of `scheme` (compared case-insensitively) in a response's
 * `WWW-Authenticate`; throws when the header is missing, unparsable, or holds no or several
 * challenges of that scheme.
 */
export function challengeOf(header: string | null | undefined, scheme: string): Challenge {
  if (header === null || header === undefined) throw new Error('no WWW-Authenticate header')
  const wanted = scheme.toLowerCase()
  const found = parseWwwAuthenticate(header).filter((c) => c.scheme.toLowerCase() === wanted)
  if (found.length !== 1) throw new Error(`expected one ${scheme} challenge in ${header}`)
  return found[0]!
}

/**
 * The single `Bearer` challenge of a response's `WWW-Authenticate`; throws when the header is
 * missing, unparsable, or holds no or several `Bearer` challenges.
 */
export function bearerChallenge(header: string | null | undefined): Challenge {
  return challengeOf(header, 'Bearer')
}

/**
 * The single `DPoP` challenge (RFC 9449 §7.1) of a response's `WWW-Authenticate`; throws when the
 * header is missing, unparsable, or holds no or several `DPoP` challenges.
 */
export function dpopChallenge(header: string | null | undefined): Challenge {
  return challengeOf(header, 'DPoP')
}
