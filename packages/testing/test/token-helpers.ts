import { expect } from 'vitest'
import type { TestIssuer } from '../src/index.js'

/** RFC 6749 Appendix B: the application/x-www-form-urlencoded encoding of one value. */
export function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2)
}

/** An RFC 6749 §2.3.1 `client_secret_basic` header: id and secret form-encoded, then base64. */
export function basic(clientId: string, clientSecret: string): string {
  const credentials = `${formEncode(clientId)}:${formEncode(clientSecret)}`
  return `Basic ${Buffer.from(credentials).toString('base64')}`
}

export interface TokenAnswer {
  readonly status: number
  readonly headers: Headers
  readonly body: Record<string, unknown>
}

export interface TokenRequestInit {
  readonly authorization?: string
  readonly method?: string
  readonly contentType?: string
  /** A raw body instead of the form. */
  readonly body?: string
}

/**
 * Sends a token request (a form, `resource` possibly repeated) and reads the JSON answer. Checks
 * what every answer must satisfy: JSON, `no-store`, and an `error_description` within the
 * characters RFC 6749 §5.2 allows.
 */
export async function requestToken(
  issuer: TestIssuer,
  form: Readonly<Record<string, string | readonly string[]>>,
  init: TokenRequestInit = {},
): Promise<TokenAnswer> {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(form)) {
    for (const entry of typeof value === 'string' ? [value] : value) params.append(name, entry)
  }
  const headers: Record<string, string> = {
    'content-type': init.contentType ?? 'application/x-www-form-urlencoded',
  }
  if (init.authorization !== undefined) headers.authorization = init.authorization
  const method = init.method ?? 'POST'
  const response = await fetch(issuer.tokenEndpoint, {
    method,
    headers,
    body: method === 'GET' || method === 'HEAD' ? undefined : (init.body ?? params.toString()),
  })
  expect(response.headers.get('content-type')).toBe('application/json')
  expect(response.headers.get('cache-control')).toBe('no-store')
  expect(response.headers.get('pragma')).toBe('no-cache')
  const body = (await response.json()) as Record<string, unknown>
  if (body.error_description !== undefined) {
    expect(body.error_description).toMatch(/^[\x20\x21\x23-\x5B\x5D-\x7E]+$/)
  }
  return { status: response.status, headers: response.headers, body }
}

/** Parses `Basic realm="…"` (RFC 7617 §2) into its realm. */
export function basicRealm(challenge: string | null): string | undefined {
  return /^Basic realm="([^"\\]*)"$/.exec(challenge ?? '')?.[1]
}
