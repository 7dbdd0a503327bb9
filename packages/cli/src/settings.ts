/**
 * The API's settings from the command line: a config file (validator options as JSON), a
 * provider preset with its parameters, the flags, and an offline key file, turned into the
 * options the API passes to `createAccessTokenValidator`.
 */
import { readFileSync } from 'node:fs'
import type { AccessTokenValidatorOptions, IssuerOptions, StaticKeys } from '@bearer-guard/core'
import { assertKnownOptions } from '@bearer-guard/core/adapter'
import {
  auth0,
  cognito,
  dex,
  entra,
  githubActions,
  google,
  keycloak,
  kubernetes,
  okta,
} from '@bearer-guard/presets'

/** The flags that carry settings (as `parseArgs` returns them). */
export interface SettingsFlags {
  readonly issuer?: readonly string[] | undefined
  readonly audience?: readonly string[] | undefined
  readonly preset?: string | undefined
  readonly param?: readonly string[] | undefined
  readonly config?: string | undefined
  readonly jwks?: string | undefined
}

type Preset = (options: Readonly<Record<string, unknown>>) => readonly IssuerOptions[]

const PRESETS: Readonly<Record<string, Preset>> = {
  auth0: auth0 as unknown as Preset,
  cognito: cognito as unknown as Preset,
  dex: dex as unknown as Preset,
  entra: entra as unknown as Preset,
  'github-actions': githubActions as unknown as Preset,
  google: google as unknown as Preset,
  keycloak: keycloak as unknown as Preset,
  kubernetes: kubernetes as unknown as Preset,
  okta: okta as unknown as Preset,
}

/** Largest config, key or token input read, in bytes: none of them is ever this large. */
export const MAX_INPUT = 1024 * 1024

/** A mistake in how the command was called: reported on stderr, exit code 2. */
export class UsageError extends Error {}

/** An argument as a message may show it: printable ASCII, bounded. */
export function printableArg(value: string): string {
  const text = value.replace(/[^\x20-\x7e]/g, '?')
  return text.length > 64 ? `${text.slice(0, 64)}...` : text
}

function readBounded(path: string, what: string): string {
  let text: Buffer
  try {
    text = readFileSync(path)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new UsageError(`bearer-guard: cannot read the ${what} ${path}: ${reason}`)
  }
  if (text.length > MAX_INPUT)
    throw new UsageError(`bearer-guard: the ${what} ${path} is larger than 1 MiB`)
  return text.toString('utf8')
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    throw new UsageError(
      `bearer-guard: the ${what} is not valid JSON: ${error instanceof Error ? error.message : ''}`,
    )
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A list flag as an option value: one string, or an array of several. */
function oneOrMany(values: readonly string[]): string | readonly string[] {
  return values.length === 1 ? (values[0] as string) : values
}

/** Builds the validator options from the config file, the preset and the flags. */
export function validatorOptions(values: SettingsFlags): AccessTokenValidatorOptions {
  let options: Record<string, unknown> = {}
  let presetName: string | undefined
  let presetParams: Record<string, unknown> = {}
  if (values.config !== undefined) {
    const config = parseJson(
      readBounded(values.config, 'config file'),
      `config file ${values.config}`,
    )
    if (!isObject(config))
      throw new UsageError(`bearer-guard: the config file ${values.config} must hold a JSON object`)
    const { preset, ...rest } = config
    options = rest
    if (typeof preset === 'string') presetName = preset
    else if (isObject(preset)) {
      const { name, ...params } = preset
      if (typeof name !== 'string')
        throw new UsageError('bearer-guard: the config file\'s "preset" needs a "name"')
      presetName = name
      presetParams = params
    } else if (preset !== undefined) {
      throw new UsageError(
        'bearer-guard: the config file\'s "preset" must be a name or { "name": ..., ...parameters }',
      )
    }
  }
  presetName = values.preset ?? presetName
  if (presetName === undefined) {
    if (values.param !== undefined) throw new UsageError('bearer-guard: --param needs --preset')
    if (values.issuer !== undefined) options.issuer = oneOrMany(values.issuer)
    if (values.audience !== undefined) options.audience = oneOrMany(values.audience)
  } else {
    const preset = presetOf(presetName)
    const params: Record<string, unknown> = { ...presetParams, ...paramsOf(values.param ?? []) }
    if (values.issuer !== undefined) params.issuer = oneOrMany(values.issuer)
    if (values.audience !== undefined) params.audience = oneOrMany(values.audience)
    const configured = options.issuer
    const extra: readonly unknown[] =
      configured === undefined ? [] : Array.isArray(configured) ? configured : [configured]
    options.issuer = [...preset(params), ...extra]
  }
  if (options.issuer === undefined && options.issuerResolver === undefined) {
    throw new UsageError(
      "bearer-guard: explain needs the API's settings: --issuer and --audience, a --preset, or a --config file",
    )
  }
  if (values.jwks !== undefined) options = withStaticKeys(options, keysFile(values.jwks))
  return options as unknown as AccessTokenValidatorOptions
}

function presetOf(name: string): Preset {
  const preset = PRESETS[name === 'githubActions' ? 'github-actions' : name]
  if (preset !== undefined) return preset
  try {
    assertKnownOptions({ [name]: true }, new Set(Object.keys(PRESETS)), '@bearer-guard/presets')
  } catch (error) {
    const suggestion = /did you mean '([^']+)'/.exec(
      error instanceof Error ? error.message : '',
    )?.[1]
    throw new UsageError(
      `bearer-guard: there is no preset '${printableArg(name)}'${suggestion === undefined ? '' : `; did you mean '${suggestion}'?`} The presets: ${Object.keys(PRESETS).join(', ')}`,
    )
  }
  throw new UsageError(`bearer-guard: there is no preset '${printableArg(name)}'`)
}

/** `--param name=value` flags as preset options: a repeated name is a list. */
function paramsOf(params: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const param of params) {
    const eq = param.indexOf('=')
    if (eq < 1)
      throw new UsageError(`bearer-guard: --param takes name=value, not '${printableArg(param)}'`)
    const name = param.slice(0, eq)
    const text = param.slice(eq + 1)
    const value: unknown =
      text === 'true'
        ? true
        : text === 'false'
          ? false
          : text.startsWith('[') || text.startsWith('{')
            ? parseJson(text, `--param ${name}`)
            : text
    const previous = out[name]
    out[name] =
      previous === undefined
        ? value
        : [...(Array.isArray(previous) ? (previous as unknown[]) : [previous]), value]
  }
  return out
}

/** The keys of a `--jwks` file: a JWKS or a JWK (JSON), or PEM text. */
function keysFile(path: string): StaticKeys {
  const text = readBounded(path, 'key file')
  if (text.trimStart().startsWith('{')) {
    const json = parseJson(text, `key file ${path}`)
    if (!isObject(json))
      throw new UsageError(`bearer-guard: the key file ${path} must hold a JWKS or a JWK`)
    return json
  }
  if (!text.includes('-----BEGIN ')) {
    throw new UsageError(
      `bearer-guard: the key file ${path} holds neither JSON (a JWKS, a JWK) nor PEM`,
    )
  }
  return text
}

/** Every issuer verifies with `keys`: no discovery, no JWKS request. */
function withStaticKeys(
  options: Record<string, unknown>,
  keys: StaticKeys,
): Record<string, unknown> {
  const { jwksUri: _jwksUri, keys: _keys, secret: _secret, issuer, ...rest } = options
  const entries: readonly unknown[] = Array.isArray(issuer)
    ? issuer
    : issuer === undefined
      ? []
      : [issuer]
  return {
    ...rest,
    issuer: entries.map((entry) => {
      if (typeof entry === 'string') return { issuer: entry, keys }
      if (!isObject(entry)) return entry
      const { jwksUri: _u, keys: _k, secret: _s, ...own } = entry
      return { ...own, keys }
    }),
  }
}

/** `--now`: seconds since the epoch, or an ISO 8601 instant; in milliseconds. */
export function instantOf(value: string): number {
  const at = /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : Date.parse(value)
  if (!Number.isFinite(at)) {
    throw new UsageError(
      `bearer-guard: --now takes an ISO 8601 instant or seconds since the epoch, not '${printableArg(value)}'`,
    )
  }
  return at
}
