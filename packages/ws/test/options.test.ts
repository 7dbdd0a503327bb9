/**
 * Misconfiguration is loud: every option is checked once, when the guard is created, and an
 * unknown key is refused with the closest known name.
 */
import { createServer } from 'node:http'
import { createAccessTokenValidator } from '@bearer-guard/core'
import { afterAll, describe, expect, it } from 'vitest'
import { WebSocketServer, type WebSocket } from 'ws'
import { bearerGuard, type WebSocketGuardOptions } from '../src/index.js'

const base = { issuer: 'https://auth.example.com/', audience: 'https://api.example.com' }
const wss = new WebSocketServer({ noServer: true })
afterAll(() => {
  wss.close()
})

function create(options: Record<string, unknown>): unknown {
  return bearerGuard({
    ...base,
    wss,
    logger: false,
    ...options,
  } as unknown as WebSocketGuardOptions<WebSocket>)
}

describe('options', () => {
  it.each([
    [{ subprotcol: true }, /has no option 'subprotcol'; did you mean 'subprotocol'\?/],
    [{ firstMesage: true }, /did you mean 'firstMessage'\?/],
    [{ clockTolerence: 5 }, /did you mean 'clockTolerance'\?/],
    [{ policy: { allOf: ['a'] }, polcy: {} }, /did you mean 'policy'\?/],
    [
      { firstMessage: { timout: 5 } },
      /"firstMessage" has no option 'timout'; did you mean 'timeout'\?/,
    ],
    [{ subprotocol: { prefx: 'a.' } }, /did you mean 'prefix'\?/],
  ])('refuses an unknown key with the closest name: %o', (options, message) => {
    expect(() => create(options)).toThrow(message)
  })

  it.each([
    [{ subprotocol: 'yes' }, /"subprotocol" must be true, false or \{ prefix \}/],
    [{ subprotocol: { prefix: 'has space.' } }, /"subprotocol.prefix" must be/],
    [{ subprotocol: { prefix: 'a,b' } }, /"subprotocol.prefix" must be/],
    [{ subprotocol: { prefix: '' } }, /"subprotocol.prefix" must be/],
    [{ firstMessage: 10 }, /"firstMessage" must be true, false or/],
    [{ firstMessage: { timeout: 0 } }, /"firstMessage.timeout" must be a number from 0.05 to 300/],
    [{ firstMessage: { timeout: Number.NaN } }, /"firstMessage.timeout"/],
    [{ firstMessage: { maxBytes: 100 } }, /"firstMessage.maxBytes" must be a number from 256/],
    [{ firstMessage: { maxBytes: 1000.5 } }, /whole number of bytes/],
    [{ policy: { allOf: [] } }, /policy "allOf" must be a non-empty array/],
    [{ policy: { allOf: ['has space'] } }, /scope tokens/],
    [{ logger: 1 }, /"logger" must have a warn\(message\) method, or be false/],
  ])('refuses a bad value: %o', (options, message) => {
    expect(() => create(options)).toThrow(TypeError)
    expect(() => create(options)).toThrow(message)
  })

  it('requires wss, created with noServer: true (else it answers upgrades itself, unguarded)', () => {
    expect(() => create({ wss: undefined })).toThrow(/"wss" must be a WebSocketServer/)
    const server = createServer()
    const attached = new WebSocketServer({ server })
    try {
      expect(() => create({ wss: attached })).toThrow(/noServer: true/)
    } finally {
      attached.close()
      server.close()
    }
  })

  it('takes a prebuilt validator, and refuses it beside validator options', () => {
    const validator = createAccessTokenValidator(base)
    expect(() => bearerGuard({ validator, wss, logger: false })).not.toThrow()
    expect(() => create({ validator })).toThrow(
      /either a prebuilt "validator" or validator options/,
    )
  })

  it('accepts every documented form', () => {
    expect(() =>
      create({
        subprotocol: { prefix: 'base64url.bearer.authorization.k8s.io.' },
        firstMessage: { timeout: 5, maxBytes: 32_768 },
        policy: { anyOf: ['chat:read', 'admin'] },
      }),
    ).not.toThrow()
    expect(() => create({ subprotocol: false, firstMessage: false })).not.toThrow()
  })
})
