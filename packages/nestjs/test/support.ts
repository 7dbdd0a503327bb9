import type { INestApplication, LoggerService, ModuleMetadata, Type } from '@nestjs/common'
import { Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { ExpressAdapter } from '@nestjs/platform-express'
import { FastifyAdapter } from '@nestjs/platform-fastify'

/** The two HTTP platforms every scenario runs on. */
export const PLATFORMS = ['express', 'fastify'] as const
export type Platform = (typeof PLATFORMS)[number]

/** A Nest application listening on 127.0.0.1, and its base URL. */
export interface RunningApp {
  readonly app: INestApplication
  readonly url: string
  close(): Promise<void>
}

/** What a test may change of how the application is created and started. */
export interface StartOptions {
  /** The application's logger. Default: none (`false`). */
  readonly logger?: LoggerService
  /** Runs before `listen()`, e.g. to `enableCors()`. */
  readonly configure?: (app: INestApplication) => void
}

/** Starts a real Nest application on `platform`, from a module or module metadata. */
export async function startApp(
  platform: Platform,
  root: Type | ModuleMetadata,
  options: StartOptions = {},
): Promise<RunningApp> {
  let rootModule: Type
  if (typeof root === 'function') {
    rootModule = root
  } else {
    @Module(root)
    class TestModule {}
    rootModule = TestModule
  }
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter()
  // Nest types its options as a class, but documents plain objects.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
  const app = await NestFactory.create(rootModule, adapter, {
    logger: options.logger ?? false,
    abortOnError: false,
  })
  options.configure?.(app)
  await app.listen(0, '127.0.0.1')
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1')
  return { app, url, close: () => app.close() }
}

/** A parsed `WWW-Authenticate` challenge: its scheme and its auth-params (names lower-cased). */
export interface Challenge {
  readonly scheme: string
  readonly params: Readonly<Record<string, string>>
}

/**
 * Parses one challenge of a `WWW-Authenticate` value (RFC 9110 §11.6.1): a scheme, then
 * comma-separated `name=token` or `name="quoted string"` parameters.
 */
export function parseChallenge(value: string | null): Challenge {
  if (value === null) throw new Error('no WWW-Authenticate header')
  const scheme = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)/.exec(value)
  if (scheme === null) throw new Error(`no auth-scheme in ${value}`)
  const params: Record<string, string> = {}
  let rest = value.slice(scheme[0].length)
  const param =
    /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([!#$%&'*+.^_`|~0-9A-Za-z-]+))\s*(,|$)/
  rest = rest.trimStart()
  while (rest !== '') {
    const match = param.exec(rest)
    if (match === null) throw new Error(`malformed auth-param in ${value}`)
    const name = match[1]!.toLowerCase()
    if (name in params) throw new Error(`duplicate auth-param ${name} in ${value}`)
    params[name] = match[2] === undefined ? match[3]! : match[2].replace(/\\(.)/g, '$1')
    rest = rest.slice(match[0].length).trimStart()
  }
  return { scheme: scheme[1]!, params }
}

/** A response, with its body parsed as JSON when there is one. */
export interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly body: unknown
  readonly challenge: () => Challenge
}

/** Sends a request with an optional bearer token (or a raw `Authorization` value). */
export async function call(
  url: string,
  options: {
    method?: string
    token?: string
    authorization?: string
    body?: unknown
  } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {}
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  if (options.authorization !== undefined) headers.authorization = options.authorization
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(url, {
    method: options.method ?? 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  })
  const text = await response.text()
  return {
    status: response.status,
    headers: response.headers,
    body: text === '' ? undefined : (JSON.parse(text) as unknown),
    challenge: () => parseChallenge(response.headers.get('www-authenticate')),
  }
}
