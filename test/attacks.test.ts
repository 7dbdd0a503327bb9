/**
 * Hostile input, one named test per attack, against every example API (support/examples.ts),
 * each started as a user would. Every example runs twice: against an RS256 issuer and against an
 * ES256 issuer (for HMAC-with-the-EC-public-key confusion and foreign EC keys).
 *
 * Tokens that must reach the verifier exactly as written (duplicate members, non-UTF-8 bytes,
 * numbers JSON.stringify cannot produce) are signed by hand with node:crypto over raw bytes.
 *
 * Decisions asserted here, beyond CONTRACT.md:
 * - A finite `exp` however far in the future (1e308) is a valid NumericDate: such a token is
 *   accepted when everything else is valid (bounding lifetimes is `maxTokenAge`'s job). A number
 *   that overflows to Infinity (1e400) is not a NumericDate: refused.
 * - Headers and URLs larger than Node's limits never reach the guard: Node answers 431 (or 400).
 *   Any status but 5xx and 2xx is accepted there, and the server must keep serving.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import {
  createTestIssuer,
  encodeToken,
  generateTestKey,
  type TestIssuer,
  type TestKey,
} from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { examples } from './support/examples.js'
import {
  b64u,
  createClient,
  rawExchange,
  refusalProblem,
  signJws,
  type Client,
  type ExpectedRefusal,
  type Reply,
} from './support/hostile.js'
import { startExample, stopCleanly, type RunningExample } from './support/process.js'

const AUDIENCE = 'https://api.example.com'
const now = (): number => Math.floor(Date.now() / 1000)
const INVALID_TOKEN: ExpectedRefusal = { status: 401, error: 'invalid_token' }
const INVALID_REQUEST: ExpectedRefusal = { status: 400, error: 'invalid_request' }

/**
 * An attacker's key server: answers every request with a JWKS holding the attacker's key, and
 * counts. A guard that follows `jku`, `x5u` or a URL-shaped `kid` shows up here.
 */
let attacker: TestKey
let keyServer: Server
let keyServerUrl: string
let keyServerHits = 0

beforeAll(async () => {
  attacker = await generateTestKey('RS256', { kid: 'attacker-key' })
  keyServer = createServer((_req, res) => {
    keyServerHits++
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ keys: [attacker.publicJwk] }))
  })
  keyServer.listen(0, '127.0.0.1')
  await once(keyServer, 'listening')
  keyServerUrl = `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}`
})

afterAll(async () => {
  keyServer.closeAllConnections()
  keyServer.close()
  await once(keyServer, 'close')
})

describe.each(examples)('hostile input: $name', (example) => {
  let rs: TestIssuer
  let ec: TestIssuer
  let foreignRs: TestKey
  let foreignEc: TestKey
  let api: RunningExample
  let apiEc: RunningExample
  let client: Client
  let clientEc: Client
  const statuses: { readonly what: string; readonly status: number }[] = []

  beforeAll(async () => {
    ;[rs, ec] = await Promise.all([
      createTestIssuer({ audience: AUDIENCE }),
      createTestIssuer({ algorithm: 'ES256', audience: AUDIENCE }),
    ])
    ;[foreignRs, foreignEc] = await Promise.all([rs.generateKey(), ec.generateKey()])
    ;[api, apiEc] = await Promise.all([
      startExample(example.dir, { ...example.env, ISSUER: rs.issuer, AUDIENCE }),
      startExample(example.dir, { ...example.env, ISSUER: ec.issuer, AUDIENCE }),
    ])
    client = createClient(api.url)
    clientEc = createClient(apiEc.url)
  })

  afterAll(async () => {
    client.close()
    clientEc.close()
    try {
      for (const running of [api, apiEc] as (RunningExample | undefined)[]) {
        await stopCleanly(running, example.dir)
      }
    } finally {
      await Promise.all([rs.close(), ec.close()])
    }
  })

  type Target = 'rs' | 'ec'

  async function send(
    token: string,
    options: { target?: Target; path?: string; method?: string } = {},
  ): Promise<Reply> {
    const target = options.target === 'ec' ? clientEc : client
    const reply = await target.send({
      method: options.method ?? 'GET',
      path: options.path ?? '/me',
      authorization: `Bearer ${token}`,
    })
    statuses.push({ what: `${options.path ?? '/me'} ${token.slice(0, 80)}`, status: reply.status })
    return reply
  }

  /** Sends the token and asserts a CONTRACT.md refusal (by default 401 invalid_token). */
  async function expectRefused(
    token: string,
    options: { target?: Target; expected?: ExpectedRefusal; path?: string } = {},
  ): Promise<Reply> {
    const reply = await send(token, options)
    expect(reply.status, `accepted: ${token.slice(0, 200)}`).not.toBe(200)
    expect(
      refusalProblem(reply, options.expected ?? INVALID_TOKEN),
      `${token.slice(0, 200)}\n${reply.text}`,
    ).toBeUndefined()
    return reply
  }

  /** The claims `mint` would use, for hand-built payloads. */
  const claims = (issuer: TestIssuer, extra: Record<string, unknown> = {}) => ({
    iss: issuer.issuer,
    sub: 'user-123',
    aud: AUDIENCE,
    client_id: 'test-client',
    iat: now(),
    exp: now() + 300,
    jti: randomUUID(),
    ...extra,
  })
  const header = (key: TestKey, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...extra })
  /** A JSON object text with `tail` (raw JSON members) appended. */
  const withMembers = (value: Record<string, unknown>, tail: string): string =>
    `${JSON.stringify(value).slice(0, -1)},${tail}}`
  const signedByRs = (headerText: string | Uint8Array, payload: string | Uint8Array) =>
    signJws(headerText, payload, rs.activeKey.privateKey, 'RS256')

  it('accepts correctly signed tokens (the baseline every refusal is measured against)', async () => {
    expect((await send(await rs.mint({ scope: 'orders:read' }))).status).toBe(200)
    expect((await send(await ec.mint(), { target: 'ec' })).status).toBe(200)
    // The hand signer used below produces tokens the guard accepts.
    const handMade = signedByRs(header(rs.activeKey), JSON.stringify(claims(rs)))
    expect((await send(handMade)).status).toBe(200)
    const handMadeEc = signJws(
      header(ec.activeKey),
      JSON.stringify(claims(ec)),
      ec.activeKey.privateKey,
      'ES256',
    )
    expect((await send(handMadeEc, { target: 'ec' })).status).toBe(200)
  })

  it('alg "none" in any casing is refused, with or without a signature', async () => {
    const valid = await rs.mint({ scope: 'orders:read' })
    const [, payload, signature] = valid.split('.') as [string, string, string]
    for (const alg of ['none', 'None', 'NONE', 'nOnE', 'none ', ' none']) {
      const head = b64u(JSON.stringify({ alg, kid: rs.activeKey.kid, typ: 'at+jwt' }))
      await expectRefused(`${head}.${payload}.`)
      await expectRefused(`${head}.${payload}.${signature}`)
    }
  })

  it('HS256/HS384/HS512 signed with the RSA public key (PEM, JWK, DER, modulus) is refused', async () => {
    const key = rs.activeKey
    const secrets: [string, string | Uint8Array][] = [
      ['PEM', key.publicKeyPem],
      ['PEM without the final newline', key.publicKeyPem.trim()],
      ['JWK JSON', JSON.stringify(key.publicJwk)],
      ['SPKI DER', key.publicKey.export({ type: 'spki', format: 'der' })],
      ['PKCS#1 PEM', key.publicKey.export({ type: 'pkcs1', format: 'pem' })],
      ['modulus bytes', Buffer.from(String(key.publicJwk.n), 'base64url')],
    ]
    for (const [, secret] of secrets) {
      for (const alg of ['HS256', 'HS384', 'HS512']) {
        await expectRefused(await rs.mint({ scope: 'orders:read' }, { secret, header: { alg } }))
      }
    }
  })

  it('HS256/HS384/HS512 signed with the EC public key (PEM, JWK, DER, point) is refused', async () => {
    const key = ec.activeKey
    const jwk = key.publicJwk
    const point = Buffer.concat([
      Buffer.from([4]),
      Buffer.from(String(jwk.x), 'base64url'),
      Buffer.from(String(jwk.y), 'base64url'),
    ])
    const secrets: (string | Uint8Array)[] = [
      key.publicKeyPem,
      JSON.stringify(jwk),
      key.publicKey.export({ type: 'spki', format: 'der' }),
      point,
      Buffer.from(String(jwk.x), 'base64url'),
    ]
    for (const secret of secrets) {
      for (const alg of ['HS256', 'HS384', 'HS512']) {
        await expectRefused(await ec.mint({}, { secret, header: { alg } }), { target: 'ec' })
      }
    }
  })

  it('a signature by a foreign key carrying the real kid is refused', async () => {
    await expectRefused(await rs.mint({}, { key: foreignRs, header: { kid: rs.activeKey.kid } }))
    await expectRefused(await ec.mint({}, { key: foreignEc, header: { kid: ec.activeKey.kid } }), {
      target: 'ec',
    })
    // Another key type under the real kid: an EC signature where an RSA key is published.
    await expectRefused(await rs.mint({}, { key: foreignEc, header: { kid: rs.activeKey.kid } }))
  })

  it('the real key with an alg its JWK does not allow (PS256, RS384 for an RS256 key) is refused', async () => {
    await expectRefused(await rs.mint({}, { header: { alg: 'PS256' } }))
    await expectRefused(await rs.mint({}, { header: { alg: 'RS384' } }))
  })

  it('a signature transplanted from another valid token is refused', async () => {
    const [head, payload] = (await rs.mint({ scope: 'orders:admin orders:write' })).split('.')
    const signature = (await rs.mint({ scope: 'profile' })).split('.')[2]!
    await expectRefused(`${head!}.${payload!}.${signature}`)
  })

  it.each(['jku', 'x5u'])(
    'a key URL named in the token (%s) is never fetched, whatever the kid',
    async (member) => {
      const before = keyServerHits
      const url = `${keyServerUrl}/${member}/keys.json`
      for (const kid of [attacker.kid, rs.activeKey.kid, undefined]) {
        await expectRefused(await rs.mint({}, { key: attacker, header: { [member]: url, kid } }))
      }
      expect(keyServerHits).toBe(before)
    },
  )

  it('a key embedded in the token (jwk) is not trusted, whatever the kid', async () => {
    for (const kid of [attacker.kid, rs.activeKey.kid, undefined]) {
      await expectRefused(
        await rs.mint({}, { key: attacker, header: { jwk: attacker.publicJwk, kid } }),
      )
    }
  })

  it('a certificate chain embedded in the token (x5c) is not trusted', async () => {
    // The attacker's SPKI in an x5c entry: what matters is that nothing in the token is used as a key.
    const x5c = [attacker.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')]
    for (const kid of [attacker.kid, rs.activeKey.kid, undefined]) {
      await expectRefused(await rs.mint({}, { key: attacker, header: { x5c, kid } }))
    }
  })

  it.each<[string, Record<string, unknown>]>([
    ['crit naming a registered claim', { crit: ['exp'], exp: now() + 60 }],
    ['crit naming an unknown extension', { crit: ['http://example.com/ext'] }],
    ['an empty crit', { crit: [] }],
    ['crit that is not an array', { crit: 'b64' }],
    ['crit naming b64 with b64 true', { crit: ['b64'], b64: true }],
  ])(
    'critical header parameters are refused even when validly signed: %s',
    async (_what, extra) => {
      await expectRefused(signedByRs(header(rs.activeKey, extra), JSON.stringify(claims(rs))))
    },
  )

  it('b64: false (RFC 7797 unencoded payload) is refused in every form', async () => {
    const key = rs.activeKey.privateKey
    const payload = JSON.stringify(claims(rs, { scope: 'orders:read' }))
    const unencoded = header(rs.activeKey, { b64: false, crit: ['b64'] })
    // Detached payload: an empty middle segment.
    await expectRefused(
      signJws(unencoded, payload, key, 'RS256', { unencoded: true, detached: true }),
    )
    // The payload in the token as is: JSON is not token68, so this is a malformed request.
    await expectRefused(signJws(unencoded, payload, key, 'RS256', { unencoded: true }), {
      expected: INVALID_REQUEST,
    })
    // b64: false without crit, signed over the usual encoded form: still not accepted.
    await expectRefused(signedByRs(header(rs.activeKey, { b64: false }), payload))
    // Signed over the raw payload but sent encoded: a verifier honouring b64 would accept it.
    const rawSigned = signJws(unencoded, payload, key, 'RS256', { unencoded: true, detached: true })
    const [head, , signature] = rawSigned.split('.')
    await expectRefused(`${head!}.${b64u(payload)}.${signature!}`)
  })

  it('JWE-shaped five-part tokens are refused', async () => {
    const part = () => b64u(randomUUID())
    for (const jweHeader of [
      { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: rs.activeKey.kid },
      { alg: 'dir', enc: 'A128CBC-HS256' },
      { alg: 'RS256', kid: rs.activeKey.kid, typ: 'at+jwt' },
    ]) {
      await expectRefused(
        `${b64u(JSON.stringify(jweHeader))}.${part()}.${part()}.${part()}.${part()}`,
      )
    }
    // A valid JWS with two empty segments appended.
    await expectRefused(`${await rs.mint({ scope: 'orders:read' })}..`)
  })

  it('a nested JWT (cty: JWT, payload a JWT) is refused', async () => {
    const inner = await rs.mint({ scope: 'orders:read' })
    const nested = header(rs.activeKey, { cty: 'JWT' })
    // The payload is the inner token's text: not a JSON object.
    await expectRefused(signedByRs(nested, inner))
    // The payload is the inner token as a JSON string.
    await expectRefused(signedByRs(nested, JSON.stringify(inner)))
    // An unsigned outer token around a valid inner one.
    await expectRefused(
      encodeToken({ header: { alg: 'none', cty: 'JWT' }, payload: inner, signature: '' }),
    )
  })

  const duplicates: [string, (key: TestKey, issuer: TestIssuer) => [string, string]][] = [
    [
      'two "scope" members in the payload',
      (key, issuer) => [
        header(key),
        withMembers(claims(issuer, { scope: 'profile' }), '"scope":"orders:write orders:admin"'),
      ],
    ],
    [
      'two "aud" members in the payload (the first one foreign)',
      (key, issuer) => {
        const { aud: _aud, ...rest } = claims(issuer)
        return [
          header(key),
          withMembers({ aud: 'https://other.example.com', ...rest }, `"aud":"${AUDIENCE}"`),
        ]
      },
    ],
    [
      'two "exp" members in the payload (the first one past)',
      (key, issuer) => {
        const { exp: _exp, ...rest } = claims(issuer)
        return [header(key), withMembers({ exp: now() - 3600, ...rest }, `"exp":${now() + 300}`)]
      },
    ],
    [
      'a duplicate hidden by an escape ("sc\\u006fpe")',
      (key, issuer) => [
        header(key),
        withMembers(claims(issuer, { scope: 'profile' }), '"sc\\u006fpe":"orders:admin"'),
      ],
    ],
    [
      'two "kid" members in the header (the first one unknown)',
      (key, issuer) => [
        `{"alg":"RS256","kid":"unknown","typ":"at+jwt","kid":"${key.kid}"}`,
        JSON.stringify(claims(issuer)),
      ],
    ],
    [
      'two "alg" members in the header ("none" first)',
      (key, issuer) => [
        `{"alg":"none","kid":"${key.kid}","typ":"at+jwt","alg":"RS256"}`,
        JSON.stringify(claims(issuer)),
      ],
    ],
  ]

  it.each(duplicates)(
    'duplicate JSON members are refused even when validly signed: %s',
    async (_what, build) => {
      const [headerText, payloadText] = build(rs.activeKey, rs)
      await expectRefused(signedByRs(headerText, payloadText), { path: '/me' })
    },
  )

  it.each<[string, Record<string, unknown>]>([
    ['exp as a string', { exp: String(now() + 300) }],
    ['exp as a boolean', { exp: true }],
    ['exp as null', { exp: null }],
    ['exp as an array', { exp: [now() + 300] }],
    ['nbf as a string', { nbf: String(now() - 10) }],
    ['iat as a string', { iat: String(now()) }],
    ['aud as a number', { aud: 42 }],
    ['aud as an array holding a number', { aud: [AUDIENCE, 42] }],
    ['aud as an empty array', { aud: [] }],
    ['aud as an object', { aud: { 0: AUDIENCE } }],
    ['iss as an array', { iss: ['ISSUER'] }],
    ['iss as an object', { iss: { iss: 'ISSUER' } }],
    ['sub as a number', { sub: 123 }],
    ['client_id as an object', { client_id: { id: 'test-client' } }],
    ['jti as a number', { jti: 7 }],
    ['scope as an object', { scope: { 'orders:read': true } }],
    ['scope as an array holding a number', { scope: ['orders:read', 1] }],
    ['scp as a number', { scp: 1 }],
    ['scp as an array holding an object', { scp: ['orders:read', {}] }],
  ])('claims of the wrong type are refused even when validly signed: %s', async (_what, extra) => {
    // The placeholder becomes the real issuer: only the type is wrong.
    const payload = JSON.stringify(claims(rs, extra)).replaceAll(
      '"ISSUER"',
      JSON.stringify(rs.issuer),
    )
    await expectRefused(signedByRs(header(rs.activeKey), payload))
  })

  it.each<[string, string]>([
    ['exp 1e400 (overflows to Infinity)', '"exp":1e400'],
    ['exp 1e999999', '"exp":1e999999'],
    ['exp -1e400 (-Infinity)', '"exp":-1e400'],
    ['nbf -1e400 (-Infinity)', '"nbf":-1e400'],
    ['iat 1e400', '"iat":1e400'],
    ['exp NaN (not JSON)', '"exp":NaN'],
    ['exp Infinity (not JSON)', '"exp":Infinity'],
    ['exp -1e308 (finite, long past)', '"exp":-1e308'],
    ['nbf 1e308 (finite, far future)', '"nbf":1e308'],
  ])('out-of-range numbers are refused even when validly signed: %s', async (_what, member) => {
    const name = member.slice(1, member.indexOf('"', 1))
    const base: Record<string, unknown> = claims(rs)
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- replaced by `member`
    delete base[name]
    await expectRefused(signedByRs(header(rs.activeKey), withMembers(base, member)))
  })

  it('a far-future but finite exp (1e308, MAX_VALUE, 1e23) is valid: accepted when all else is', async () => {
    for (const exp of ['1e308', '1.7976931348623157e308', '99999999999999999999999']) {
      const base: Record<string, unknown> = claims(rs, { scope: 'orders:read' })
      delete base.exp
      const token = signedByRs(header(rs.activeKey), withMembers(base, `"exp":${exp}`))
      // Twice: the second answer may come from the verified-token cache.
      for (let attempt = 0; attempt < 2; attempt++) {
        const reply = await send(token, { path: '/orders' })
        expect(reply.status, `exp ${exp}: ${reply.text}`).toBe(200)
      }
    }
  })

  it.each<[string, string]>([
    ['a path traversal', '../../etc/passwd'],
    ['an encoded path traversal', '..%2f..%2fetc%2fpasswd'],
    ['SQL', "' OR 1=1 --"],
    ['SQL with a statement', "x'; DROP TABLE keys; --"],
    ['a NUL byte', `x\u0000y`],
    ['the real kid followed by NUL', 'REAL-KID\u0000'],
    ['a URL of the attacker key server', 'KEY-SERVER-URL'],
    ['a JNDI lookup', '${jndi:ldap://KEY-SERVER-HOST/a}'],
    ['a UNC path', '\\\\attacker\\share\\key.pem'],
    ['__proto__', '__proto__'],
    ['constructor', 'constructor'],
    ['3000 characters', 'k'.repeat(3000)],
    ['non-ASCII text', 'ｋｉｄ\u202e'],
    ['an empty string', ''],
  ])('a hostile kid is refused and never used as a path, query or URL: %s', async (_what, raw) => {
    const kid = raw
      .replace('REAL-KID', rs.activeKey.kid)
      .replace('KEY-SERVER-URL', `${keyServerUrl}/kid`)
      .replace('KEY-SERVER-HOST', keyServerUrl.slice('http://'.length))
    const before = keyServerHits
    // Signed by the real key: only the kid is wrong.
    await expectRefused(signedByRs(header(rs.activeKey, { kid }), JSON.stringify(claims(rs))))
    // And signed by the attacker, whose key the key server would hand out.
    await expectRefused(
      signJws(header(attacker, { kid }), JSON.stringify(claims(rs)), attacker.privateKey, 'RS256'),
    )
    expect(keyServerHits).toBe(before)
  })

  it('many unknown kids cost at most one JWKS refetch (no amplification)', async () => {
    const before = rs.requests.jwks
    for (let i = 0; i < 20; i++) {
      await expectRefused(await rs.mint({}, { key: foreignRs, header: { kid: `unknown-${i}` } }))
    }
    expect(rs.requests.jwks - before).toBeLessThanOrEqual(1)
  })

  it.each<[string, Record<string, unknown>]>([
    ['alg as an array', { alg: ['RS256'] }],
    ['alg as an object', { alg: { name: 'RS256' } }],
    ['alg in lower case', { alg: 'rs256' }],
    ['alg with a trailing space', { alg: 'RS256 ' }],
    ['kid as a number', { kid: 123 }],
    ['kid as null', { kid: null }],
    ['kid as an array', { kid: ['KID'] }],
    ['typ as a number', { typ: 5 }],
    ['typ of an ID token variant', { typ: 'id_token+jwt' }],
  ])(
    'header members of the wrong type or spelling are refused even when validly signed: %s',
    async (_what, extra) => {
      const headerText = header(rs.activeKey, extra).replace(
        '"KID"',
        JSON.stringify(rs.activeKey.kid),
      )
      await expectRefused(signedByRs(headerText, JSON.stringify(claims(rs))))
    },
  )

  it.each<[string, number[]]>([
    ['a lone 0xFF byte', [0xff]],
    ['an overlong "/" (C0 AF)', [0xc0, 0xaf]],
    ['a UTF-16 surrogate in UTF-8 (ED A0 80)', [0xed, 0xa0, 0x80]],
    ['a truncated sequence (E2 82)', [0xe2, 0x82]],
    ['latin1 "é" (E9)', [0xe9]],
  ])('non-UTF-8 bytes are refused even when validly signed: %s', async (_what, bytes) => {
    const text = JSON.stringify(claims(rs, { name: '@@' }))
    const at = text.indexOf('@@')
    const payload = Buffer.concat([
      Buffer.from(text.slice(0, at)),
      Buffer.from(bytes),
      Buffer.from(text.slice(at + 2)),
    ])
    await expectRefused(signedByRs(header(rs.activeKey), payload))
    // The same bytes in the header.
    const head = header(rs.activeKey, { x: '@@' })
    const hat = head.indexOf('@@')
    const headBytes = Buffer.concat([
      Buffer.from(head.slice(0, hat)),
      Buffer.from(bytes),
      Buffer.from(head.slice(hat + 2)),
    ])
    await expectRefused(signedByRs(headBytes, JSON.stringify(claims(rs))))
  })

  it('a byte-order mark before the JSON of a validly signed payload is refused', async () => {
    const payload = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(JSON.stringify(claims(rs))),
    ])
    await expectRefused(signedByRs(header(rs.activeKey), payload))
  })

  it('non-ASCII bytes in the Authorization header are refused as invalid_request', async () => {
    const valid = await rs.mint({ scope: 'orders:read' })
    // Sent as latin1, one byte per char: what a client sending raw bytes puts on the wire.
    for (const bytes of ['\xff\xfe', '\xc3\xbc' /* "ü" in UTF-8 */, '\x80', '\x85']) {
      const reply = await client.send({ path: '/me', authorization: `Bearer ${valid}${bytes}` })
      statuses.push({ what: 'non-ASCII Authorization', status: reply.status })
      expect(refusalProblem(reply, INVALID_REQUEST), reply.text).toBeUndefined()
    }
  })

  // KNOWN BUG (reported, not fixed here): the token is cut out of the header with
  // String.prototype.trim(), which also strips U+00A0 (the byte 0xA0, obs-text): a token68
  // followed or preceded by it is accepted instead of refused as not token68.
  it('a no-break space (0xA0) around the token is refused as invalid_request', async () => {
    const valid = await rs.mint({ scope: 'orders:read' })
    for (const authorization of [`Bearer ${valid}\xa0`, `Bearer \xa0${valid}`]) {
      const reply = await client.send({ path: '/me', authorization })
      statuses.push({ what: 'no-break space', status: reply.status })
      expect(reply.status).toBe(400)
    }
  })

  it('control bytes (NUL, CR, DEL) in the Authorization header are refused by Node with 400', async () => {
    const port = Number(new URL(api.url).port)
    for (const bytes of ['\u0000', '\u007f', '\u0001', '\r']) {
      const head = `GET /me HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer abc${bytes}def\r\n\r\n`
      const { reply } = await rawExchange(port, Buffer.from(head, 'latin1'))
      statuses.push({ what: 'control byte', status: reply?.status ?? 0 })
      // Node's parser refuses these bytes (400, no challenge) before any application code runs.
      expect(reply?.status, JSON.stringify(reply)).toBe(400)
    }
    expect((await send(await rs.mint())).status).toBe(200)
  })

  /**
   * Sends an oversized request on a raw socket, up to three times until an answer is read: a
   * server refusing early closes while the request is still being written, and the reset can
   * race the answer. Resolves with the status, or 0 when every attempt ended in a dropped
   * connection (also a refusal: nothing reached the application).
   */
  async function oversized(text: string): Promise<{ status: number; reply?: Reply; how: string }> {
    const port = Number(new URL(api.url).port)
    let how = ''
    for (let attempt = 0; attempt < 3; attempt++) {
      const { reply, error } = await rawExchange(port, Buffer.from(text, 'latin1'))
      how += `attempt ${attempt}: ${reply === undefined ? 'no answer' : String(reply.status)} ${String(error)}\n`
      if (reply !== undefined) return { status: reply.status, reply, how }
      expect(['ECONNRESET', 'EPIPE'], how).toContain(error)
    }
    return { status: 0, how }
  }

  it('a multi-megabyte Authorization header is refused before the guard, and the server keeps serving', async () => {
    const { status, how } = await oversized(
      `GET /me HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer ${'a'.repeat(3 * 1024 * 1024)}\r\n\r\n`,
    )
    statuses.push({ what: 'multi-megabyte header', status })
    expect([0, 400, 401, 431], how).toContain(status)
    expect((await send(await rs.mint())).status).toBe(200)
  })

  it('a multi-megabyte token in the URL query is refused, and the server keeps serving', async () => {
    const token = `${'a'.repeat(1024 * 1024)}.${'b'.repeat(1024 * 1024)}.c`
    const { status, how } = await oversized(
      `GET /me?access_token=${token} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    )
    statuses.push({ what: 'multi-megabyte query', status })
    expect([0, 400, 401, 414, 431], how).toContain(status)
    expect((await send(await rs.mint())).status).toBe(200)
  })

  it('a token past the length limit (within Node header limits) is refused as invalid_token', async () => {
    const [head, , signature] = (await rs.mint()).split('.')
    const payload = b64u(JSON.stringify(claims(rs, { pad: 'p'.repeat(11_000) })))
    await expectRefused(`${head!}.${payload}.${signature!}`)
    // And validly signed: the limit holds before the signature is even looked at.
    await expectRefused(
      signedByRs(header(rs.activeKey), JSON.stringify(claims(rs, { pad: 'p'.repeat(11_000) }))),
    )
  })

  it('a multi-megabyte body with a bad token is refused, never a 2xx or 5xx', async () => {
    const body = `{"item":"${'x'.repeat(3 * 1024 * 1024)}"}`
    const { status, reply, how } = await oversized(
      `POST /orders HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer a.b.c\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    )
    statuses.push({ what: 'multi-megabyte body', status })
    // The guard refuses first (401); a framework that parses bodies before guards may say 413.
    expect([0, 401, 413], how).toContain(status)
    if (reply?.status === 401) expect(refusalProblem(reply, INVALID_TOKEN)).toBeUndefined()
    expect((await send(await rs.mint())).status).toBe(200)
  })

  it('an ID token of the same issuer (aud = client id, nonce) is refused as an access token', async () => {
    const idClaims = {
      aud: 'test-client',
      azp: 'test-client',
      nonce: 'n-0S6_WzA2Mj',
      auth_time: now() - 60,
      at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q',
      scope: 'orders:read',
    }
    for (const typ of ['JWT', undefined]) {
      await expectRefused(await rs.mint(idClaims, { header: { typ } }), { path: '/orders' })
    }
  })

  it('a __proto__ claim grants no scope and pollutes nothing', async () => {
    const payload = withMembers(
      claims(rs),
      '"__proto__":{"scope":"orders:write orders:admin reports:read"},"constructor":{"prototype":{"scope":"admin"}}',
    )
    const reply = await send(signedByRs(header(rs.activeKey), payload), {
      path: '/orders/1',
      method: 'DELETE',
    })
    expect(
      refusalProblem(reply, { status: 403, error: 'insufficient_scope' }),
      reply.text,
    ).toBeUndefined()
    // Nothing leaked into Object.prototype of the server: a scope-less token still lacks scopes.
    const after = await send(await rs.mint(), { path: '/reports' })
    expect(refusalProblem(after, { status: 403, error: 'insufficient_scope' })).toBeUndefined()
  })

  // KNOWN BUG (reported, not fixed here): base64url decoding ignores the unused low bits of the
  // last character, so a signature segment re-spelled with other trailing bits still verifies.
  it('a non-canonical base64url spelling of a valid signature is refused', async () => {
    const token = await rs.mint({ scope: 'orders:read' })
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const last = alphabet.indexOf(token.at(-1)!)
    // 256 signature bytes are 342 characters, the last carrying 2 bits and 4 unused ones.
    const respelled = token.slice(0, -1) + alphabet[last ^ 1]!
    const reply = await send(respelled)
    expect(reply.status).toBe(401)
  })

  it('still accepts valid tokens after every attack', async () => {
    expect((await send(await rs.mint({ scope: 'orders:read' }), { path: '/orders' })).status).toBe(
      200,
    )
    expect((await send(await ec.mint(), { target: 'ec' })).status).toBe(200)
  })

  it('fetched no URL named in a token, and the issuers saw no stray request', () => {
    expect(keyServerHits).toBe(0)
    expect(rs.requests.other).toBe(0)
    expect(ec.requests.other).toBe(0)
  })

  it('answered no attack with a 5xx', () => {
    expect(statuses.filter(({ status }) => status >= 500)).toEqual([])
  })
})
