/**
 * `bearer-guard explain` as a user runs it: the built bin in a child process, real tokens from a
 * real test issuer on loopback (discovery and JWKS over HTTP), or a JWKS file offline.
 */
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createAccessTokenValidator, isBearerGuardError } from '@bearer-guard/core'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { explainJson, explainToken, expectNoToken, run } from './support.js'

const audience = 'https://api.example.com'
let issuer: TestIssuer
let dir: string
let settings: string[]

beforeAll(async () => {
  issuer = await createTestIssuer({ audience })
  dir = mkdtempSync(join(tmpdir(), 'bearer-guard-cli-'))
  settings = ['--issuer', issuer.issuer, '--audience', audience]
})

afterAll(async () => {
  await issuer.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('the token', () => {
  test('read from standard input: accepted, exit 0, each check passes, the token never printed', async () => {
    const token = await issuer.mint({ scope: 'orders:read' })
    const result = await explainToken(token, [...settings, '--scope', 'orders:read'])
    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
    const sha = createHash('sha256').update(token).digest('hex').slice(0, 16)
    expect(result.stdout).toContain(`a token of ${token.length} characters, SHA-256 ${sha}`)
    for (const step of ['format', 'header', 'key', 'signature', 'time', 'issuer', 'audience']) {
      expect(result.stdout).toMatch(new RegExp(`^  pass +${step} `, 'm'))
    }
    expect(result.stdout).toMatch(
      /^ {2}pass +route +grants what the route needs: all of orders:read$/m,
    )
    expect(result.stdout).toContain('Verdict: ACCEPTED')
    // Discovery, then the JWKS, fetched by core as the API would.
    expect(result.stdout).toContain(`GET ${issuer.discoveryUrls.openid} (discovery): HTTP 200`)
    expect(result.stdout).toContain(`GET ${issuer.jwksUri} (jwks): HTTP 200`)
  })

  test('as an argument, and with a Bearer prefix on standard input', async () => {
    const token = await issuer.mint()
    const asArgument = await run(['explain', ...settings, token])
    expect(asArgument.code).toBe(0)
    // The argument is the user's own; still, nothing prints it back.
    expectNoToken(asArgument, token)
    const prefixed = await run(['explain', ...settings], `Bearer ${token}\n`)
    expect(prefixed.code).toBe(0)
    expectNoToken(prefixed, token)
  })

  test('expired: the time check fails in plain words, with the exact challenge core sends', async () => {
    const exp = Math.floor(Date.now() / 1000) - 600
    const token = await issuer.mint({ iat: exp - 300, exp })
    const at = new Date((exp + 192) * 1000).toISOString()
    const result = await explainToken(token, [...settings, '--now', at])
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(
      /^ {2}FAIL +time +expired 3 min 12 s ago; with the 30 s clock tolerance, refused since 2 min 42 s ago$/m,
    )
    expect(result.stdout).toMatch(/^ {2}later +issuer +would pass: /m)
    expect(result.stdout).toContain('Verdict: REFUSED, 401 invalid_token (ERR_TOKEN_EXPIRED)')
    expect(result.stdout).toContain('HTTP/1.1 401 Unauthorized')
    const validator = createAccessTokenValidator({
      issuer: issuer.issuer,
      audience,
      clock: () => Date.parse(at),
    })
    const error: unknown = await validator
      .verifyRequest({ headers: { authorization: `Bearer ${token}` } })
      .catch((e: unknown) => e)
    expect(isBearerGuardError(error)).toBe(true)
    const challenge = (error as { headers: Record<string, string> }).headers['WWW-Authenticate']
    expect(result.stdout).toContain(`  WWW-Authenticate: ${challenge ?? ''}\n`)
  })

  test('--now evaluates at another instant: the same token is valid then', async () => {
    const exp = Math.floor(Date.now() / 1000) - 600
    const token = await issuer.mint({ iat: exp - 300, exp })
    const result = await explainToken(token, [...settings, '--now', String(exp - 60)])
    expect(result.code).toBe(0)
  })

  test('--json: the explanation as JSON, with the fingerprint and never the token', async () => {
    const token = await issuer.mint({ aud: 'https://other.example.com' })
    const { result, explanation } = await explainJson(token, settings)
    expect(result.code).toBe(1)
    expect(explanation.token).toEqual({
      length: token.length,
      sha256: createHash('sha256').update(token).digest('hex').slice(0, 16),
    })
    expect(explanation.claims).toMatchObject({ aud: 'https://other.example.com' })
    expect(explanation.steps.map((s) => s.id)).toEqual([
      'format',
      'header',
      'key',
      'signature',
      'time',
      'issuer',
      'audience',
      'token-type',
      'claims',
      'scopes',
      'binding',
      'route',
    ])
    expect(explanation.steps.find((s) => s.id === 'audience')).toMatchObject({
      status: 'fail',
      code: 'ERR_TOKEN_AUDIENCE_INVALID',
      summary: expect.stringContaining("aud 'https://other.example.com' does not contain"),
    })
    expect(explanation.keys.fetches.map((f) => f.kind)).toEqual(['discovery', 'jwks'])
  })

  test('--no-claims leaves the decoded header and claims out', async () => {
    const token = await issuer.mint({ sub: 'alice@example.com' })
    const result = await explainToken(token, [...settings, '--no-claims'])
    expect(result.code).toBe(0)
    expect(result.stdout).not.toContain('alice@example.com')
    expect(result.stdout).not.toContain('Token, decoded')
  })

  test('claims cannot drive the terminal: control and bidi characters are printed escaped (CWE-150)', async () => {
    const token = await issuer.mint({ sub: 'x\u001b[2J\u009b31m\u202eevil\r\n' })
    for (const args of [settings, [...settings, '--json']]) {
      const result = await explainToken(token, args)
      for (const raw of ['\u001b', '\u009b', '\u202e', '\r'])
        expect(result.stdout).not.toContain(raw)
      expect(result.stdout).toContain('\\u001b')
      expect(result.stdout).toContain('\\u202e')
    }
  })
})

describe('keys and discovery', () => {
  test('keys unavailable: exit 3, the cause printed, 503 with Retry-After', async () => {
    const down = await createTestIssuer({ audience })
    down.fail('jwks', { kind: 'status', status: 502 })
    try {
      const token = await down.mint()
      const result = await explainToken(token, ['--issuer', down.issuer, '--audience', audience])
      expect(result.code).toBe(3)
      expect(result.stdout).toContain(`cause: ${down.jwksUri} answered HTTP 502`)
      expect(result.stdout).toMatch(/^ {2}FAIL +key +the issuer's signing keys cannot be obtained/m)
      expect(result.stdout).toContain('HTTP/1.1 503 Service Unavailable')
      expect(result.stdout).toContain('  Retry-After: 10\n')
    } finally {
      await down.close()
    }
  })

  test('an issuer configured with a trailing slash the discovery document lacks: the cause says so', async () => {
    const token = await issuer.mint()
    const result = await explainToken(token, [
      '--issuer',
      `${issuer.issuer}/`,
      '--audience',
      audience,
    ])
    expect(result.code).toBe(3)
    expect(result.stdout).toContain('the trailing slash differs')
    expect(result.stdout).toContain(`names the issuer '${issuer.issuer}', not '${issuer.issuer}/'`)
  })

  test('an unknown kid: the key set is read, no key has it, no published key verifies it', async () => {
    const token = await issuer.mint({}, { key: await issuer.generateKey() })
    const { explanation } = await explainJson(token, settings)
    expect(explanation.keys.fetches.map((f) => f.kind)).toEqual(['discovery', 'jwks'])
    const key = explanation.steps.find((s) => s.id === 'key')
    expect(key?.summary).toContain('no key of the issuer (1 key) has kid')
    expect(key?.details.join('\n')).toContain(`the kids of the key set: '${issuer.activeKey.kid}'`)
    expect(key?.details.join('\n')).toContain('signed by a key this issuer does not publish')
  })

  test('a wrong kid on a token a published key signed: the key that verifies is named', async () => {
    const token = await issuer.mint({}, { header: { kid: 'not-a-published-kid' } })
    const { explanation } = await explainJson(token, settings)
    expect(explanation.verdict.code).toBe('ERR_TOKEN_KEY_NOT_FOUND')
    const key = explanation.steps.find((s) => s.id === 'key')
    expect(key?.details.join('\n')).toContain(
      `but key '${issuer.activeKey.kid}' (RSA 2048 bits, RS256, use sig) of the same set verifies it`,
    )
  })
})

describe('offline, with a key file', () => {
  test('a JWKS file: nothing is fetched, the issuer may be down', async () => {
    const offline = await createTestIssuer({ audience, algorithm: 'ES256' })
    const token = await offline.mint()
    const jwks = join(dir, 'jwks.json')
    writeFileSync(jwks, JSON.stringify({ keys: offline.keys.map((k) => k.publicJwk) }))
    const name = offline.issuer
    await offline.close()
    const { result, explanation } = await explainJson(token, [
      '--issuer',
      name,
      '--audience',
      audience,
      '--jwks',
      jwks,
    ])
    expect(result.code).toBe(0)
    expect(explanation.keys).toMatchObject({ source: 'static', fetches: [] })
    expect(explanation.keys.keys).toMatchObject([{ kty: 'EC', crv: 'P-256', usable: true }])
  })

  test('a PEM public key: a key without kid verifies whatever kid the token names', async () => {
    const token = await issuer.mint()
    const pem = join(dir, 'key.pem')
    writeFileSync(pem, issuer.activeKey.publicKeyPem)
    const result = await explainToken(token, [...settings, '--jwks', pem])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(
      /^ {2}pass +key +no key has kid .*keys without a kid \(PEM\) verify any kid$/m,
    )
  })

  test('a key file holding a private key is refused as configuration (exit 2)', async () => {
    const token = await issuer.mint()
    const key = await issuer.generateKey()
    const file = join(dir, 'private.json')
    writeFileSync(file, JSON.stringify(key.privateKey.export({ format: 'jwk' })))
    const result = await explainToken(token, [...settings, '--jwks', file])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('private JWK')
  })
})

describe('settings from a preset or a config file', () => {
  test('a preset with its parameters, offline: cognito accepts its access token, refuses its ID token', async () => {
    const pool = 'eu-west-1_AbC'
    const cognito = await createTestIssuer({
      issuer: `https://cognito-idp.eu-west-1.amazonaws.com/${pool}`,
    })
    try {
      const jwks = join(dir, 'cognito.json')
      writeFileSync(jwks, JSON.stringify({ keys: cognito.keys.map((k) => k.publicJwk) }))
      const args = [
        '--preset',
        'cognito',
        '--param',
        `userPoolId=${pool}`,
        '--param',
        'clientIds=my-client',
        '--jwks',
        jwks,
      ]
      const access = await cognito.mintShaped('cognito', 'accessToken', {
        userPoolId: pool,
        clientId: 'my-client',
      })
      expect((await explainToken(access, args)).code).toBe(0)
      const id = await cognito.mintShaped('cognito', 'idToken', {
        userPoolId: pool,
        clientId: 'my-client',
      })
      const { result, explanation } = await explainJson(id, args)
      expect(result.code).toBe(1)
      expect(explanation.settings).toMatchObject({
        audienceClaim: 'client_id',
        audiences: ['my-client'],
      })
      expect(explanation.steps.find((s) => s.status === 'fail')).toMatchObject({
        id: 'audience',
        code: explanation.verdict.code,
      })
    } finally {
      await cognito.close()
    }
  })

  test('a preset online: --issuer and --audience are its parameters, keys found by discovery', async () => {
    const token = await issuer.mint()
    const result = await explainToken(token, ['--preset', 'kubernetes', ...settings])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`GET ${issuer.jwksUri} (jwks): HTTP 200`)
  })

  test('a config file holds validator options and a preset; flags win', async () => {
    const file = join(dir, 'config.json')
    writeFileSync(
      file,
      JSON.stringify({
        preset: {
          name: 'kubernetes',
          issuer: issuer.issuer,
          audience: 'https://wrong.example.com',
        },
        clockTolerance: 5,
      }),
    )
    const token = await issuer.mint()
    const { result, explanation } = await explainJson(token, [
      '--config',
      file,
      '--audience',
      audience,
    ])
    expect(result.code).toBe(0)
    expect(explanation.settings).toMatchObject({ clockTolerance: 5, audiences: [audience] })
  })
})

describe('usage and configuration errors: exit 2, a clear message, nothing explained', () => {
  test.each([
    [['explain', '--audiance', audience], "has no option 'audiance'; did you mean 'audience'?"],
    [
      ['explain', '--audience', audience],
      '--issuer and --audience, a --preset, or a --config file',
    ],
    [
      ['explain', '--preset', 'okt', '--audience', audience],
      "there is no preset 'okt'; did you mean 'okta'?",
    ],
    [
      ['explain', '--issuer', 'https://a.example', '--audience', audience, '--now', 'soon'],
      '--now takes an ISO 8601 instant',
    ],
    [
      ['explain', '--issuer', 'https://a.example', '--audience', audience, '--scope', 'a"b'],
      'scope tokens',
    ],
    [
      [
        'explain',
        '--issuer',
        'https://a.example/.well-known/openid-configuration',
        '--audience',
        audience,
      ],
      'is a discovery URL, not an issuer identifier',
    ],
    [['explain', '--issuer', 'https://a.example'], '"audience" is required'],
    [
      [
        'explain',
        '--issuer',
        'https://a.example',
        '--audience',
        audience,
        '--config',
        '/nonexistent.json',
      ],
      'cannot read the config file',
    ],
    [['explain', '--preset', 'auth0', '--param', 'domain'], '--param takes name=value'],
    [['explain', '--issuer', 'https://a.example', '--audience', audience], 'no token was given'],
    [['frobnicate'], "unknown command 'frobnicate'"],
  ])('%j', async (args, message) => {
    const result = await run(args, '')
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain(message)
  })

  test('an unknown option in the config file names the closest one', async () => {
    const file = join(dir, 'typo.json')
    writeFileSync(file, JSON.stringify({ issuer: issuer.issuer, audience, clockTolerence: 60 }))
    const result = await run(['explain', '--config', file], await issuer.mint())
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(
      "has no option 'clockTolerence'; did you mean 'clockTolerance'?",
    )
  })

  test('--help and --version answer with exit 0; no command prints the usage with exit 2', async () => {
    const help = await run(['explain', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Exit codes: 0 accepted; 1 refused (400, 401, 403); 2 usage')
    const version = await run(['--version'])
    expect(version.code).toBe(0)
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/)
    const none = await run([])
    expect(none.code).toBe(2)
    expect(none.stdout).toContain('Usage: bearer-guard explain')
  })
})
