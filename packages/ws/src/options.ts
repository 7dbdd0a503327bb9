/**
 * The guard's own options, checked once when the guard is created with a clear `TypeError`,
 * never per upgrade.
 */
import { definePolicy, type AccessPolicy } from '@bearer-guard/core'
import { assertKnownOptions } from '@bearer-guard/core/adapter'
import type { GuardedWebSocket, UpgradeServer } from './types.js'

/** The default prefix of the token subprotocol: `base64url.bearer.` + the base64url token. */
export const DEFAULT_PROTOCOL_PREFIX = 'base64url.bearer.'

/**
 * Options of the token subprotocol: the token sent as one entry of `Sec-WebSocket-Protocol`,
 * base64url-encoded (RFC 4648 §5, no padding) after a prefix, as Kubernetes does.
 */
export interface SubprotocolOptions {
  /**
   * What the entry starts with. Default: `'base64url.bearer.'`. Kubernetes clients send
   * `'base64url.bearer.authorization.k8s.io.'`. Visible ASCII without separators (RFC 6455
   * §4.1: a subprotocol is an RFC 7230 `token`), 1 to 64 characters.
   */
  readonly prefix?: string
}

/**
 * Options of first-message authentication: the upgrade is let through without credentials, and
 * the first message must carry them.
 */
export interface FirstMessageOptions {
  /**
   * How long the socket may stay open without authenticating, in seconds; past it, it is closed
   * with 1008. Default: `10`. From `0.05` to `300`.
   */
  readonly timeout?: number
  /**
   * The most bytes the client may send before it is authenticated (frame headers included);
   * past them, the socket is closed with 1009. Keeps an unauthenticated peer from making the
   * server buffer a large message. Default: `16384` (16 KiB: an 8 KiB token, the validator's
   * default `maxTokenLength`, fits with room). From `256` to `1048576`.
   */
  readonly maxBytes?: number
}

/** Resolved {@link FirstMessageOptions}, in milliseconds and bytes. */
export interface FirstMessageSettings {
  readonly timeoutMs: number
  readonly maxBytes: number
}

/** RFC 7230 §3.2.6 `tchar`, which a subprotocol (RFC 6455 §4.1) is made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `subprotocol`: `undefined` when the mode is off, else the prefix. */
export function checkSubprotocol(value: unknown): string | undefined {
  if (value === undefined || value === false) return undefined
  if (value === true) return DEFAULT_PROTOCOL_PREFIX
  if (!isPlainObject(value)) {
    throw new TypeError('bearer-guard: "subprotocol" must be true, false or { prefix }')
  }
  assertKnownOptions(value, new Set(['prefix']), 'bearerGuard() "subprotocol"')
  const prefix = value.prefix ?? DEFAULT_PROTOCOL_PREFIX
  if (typeof prefix !== 'string' || !TOKEN.test(prefix)) {
    throw new TypeError(
      'bearer-guard: "subprotocol.prefix" must be 1 to 64 characters of an RFC 7230 token (letters, digits and !#$%&*+-.^_`|~)',
    )
  }
  return prefix
}

function numberIn(
  name: string,
  value: unknown,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new TypeError(`bearer-guard: "${name}" must be a number from ${min} to ${max}`)
  }
  return value
}

/** `firstMessage`: `undefined` when the mode is off. */
export function checkFirstMessage(value: unknown): FirstMessageSettings | undefined {
  if (value === undefined || value === false) return undefined
  const options = value === true ? {} : value
  if (!isPlainObject(options)) {
    throw new TypeError('bearer-guard: "firstMessage" must be true, false or { timeout, maxBytes }')
  }
  assertKnownOptions(options, new Set(['timeout', 'maxBytes']), 'bearerGuard() "firstMessage"')
  const timeout = numberIn('firstMessage.timeout', options.timeout, 0.05, 300, 10)
  const maxBytes = numberIn('firstMessage.maxBytes', options.maxBytes, 256, 1_048_576, 16_384)
  if (!Number.isInteger(maxBytes)) {
    throw new TypeError('bearer-guard: "firstMessage.maxBytes" must be a whole number of bytes')
  }
  return { timeoutMs: Math.round(timeout * 1000), maxBytes }
}

/**
 * `wss`: a `ws` server created with `noServer: true`. Any other server answers upgrades itself,
 * before (and without) the guard.
 */
export function checkServer<W extends GuardedWebSocket>(value: unknown): UpgradeServer<W> {
  if (
    !isPlainObjectLike(value) ||
    typeof value.handleUpgrade !== 'function' ||
    typeof value.on !== 'function'
  ) {
    throw new TypeError('bearer-guard: "wss" must be a WebSocketServer of the ws package')
  }
  const options = value.options
  if (!isPlainObjectLike(options) || options.noServer !== true) {
    throw new TypeError(
      'bearer-guard: "wss" must be created with { noServer: true }; otherwise it answers upgrades itself, unguarded',
    )
  }
  return value as unknown as UpgradeServer<W>
}

function isPlainObjectLike(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

/** `policy`: checked now (a malformed one throws), or `undefined`. */
export function checkPolicy(value: unknown): AccessPolicy | undefined {
  if (value === undefined) return undefined
  return definePolicy(value as AccessPolicy)
}
