/**
 * Checks shared by the presets. A preset's options are checked when it is called, so a typo or a
 * missing value fails at start-up with a `TypeError` naming the preset, never per request.
 */
import type { IssuerOptions } from '@bearer-guard/core'
import { assertKnownOptions } from '@bearer-guard/core/adapter'

/** Throws the `TypeError` of a preset's option check. */
export function fail(where: string, message: string): never {
  throw new TypeError(`bearer-guard: ${where}: ${message}`)
}

/**
 * Checks that `options` is an object with only known keys (the error names the closest known one)
 * and returns it typed.
 */
export function presetOptions<T extends object>(
  options: unknown,
  known: Readonly<Record<keyof T, true>>,
  where: string,
): T {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    fail(where, 'options must be an object')
  }
  assertKnownOptions(options, new Set(Object.keys(known)), where)
  return options as T
}

/** A required non-empty string without white space at either end. */
export function requiredString(where: string, name: string, value: unknown): string {
  if (value === undefined) fail(where, `"${name}" is required`)
  if (typeof value !== 'string' || value === '' || value.trim() !== value) {
    fail(where, `"${name}" must be a non-empty string without surrounding white space`)
  }
  return value
}

/** An optional string, checked as {@link requiredString} when present. */
export function optionalString(where: string, name: string, value: unknown): string | undefined {
  return value === undefined ? undefined : requiredString(where, name, value)
}

/** A string or a non-empty array of strings, as a frozen array; `undefined` when absent. */
export function optionalList(
  where: string,
  name: string,
  value: unknown,
): readonly string[] | undefined {
  if (value === undefined) return undefined
  const list: unknown[] = typeof value === 'string' ? [value] : Array.isArray(value) ? value : []
  if (list.length === 0) {
    fail(where, `"${name}" must be a non-empty string or a non-empty array of them`)
  }
  for (const item of list) requiredString(where, `${name}[]`, item)
  return Object.freeze([...new Set(list as string[])])
}

/** A required string or non-empty array of strings, as a frozen array. */
export function requiredList(where: string, name: string, value: unknown): readonly string[] {
  if (value === undefined) fail(where, `"${name}" is required`)
  return optionalList(where, name, value) as readonly string[]
}

/** An optional boolean with its default. */
export function optionalBoolean(
  where: string,
  name: string,
  value: unknown,
  fallback: boolean,
): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') fail(where, `"${name}" must be true or false`)
  return value
}

/**
 * An absolute `https:` URL (or `http:` on a loopback host, for development), without query,
 * fragment or trailing slash: the form issuers take. A trailing slash is removed.
 */
export function baseUrl(where: string, name: string, value: unknown): string {
  const text = requiredString(where, name, value)
  let url: URL
  try {
    url = new URL(text)
  } catch {
    fail(where, `"${name}" must be an absolute URL, e.g. https://login.example.com`)
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    fail(where, `"${name}" must be an https URL (http only on localhost)`)
  }
  if (url.search !== '' || url.hash !== '' || text.includes('?') || text.includes('#')) {
    fail(where, `"${name}" must not have a query or a fragment`)
  }
  if (url.username !== '' || url.password !== '') fail(where, `"${name}" must not hold credentials`)
  return text.replace(/\/+$/, '')
}

/** A DNS host name (a domain, without scheme, port or path). */
export function hostName(where: string, name: string, value: unknown): string {
  const text = requiredString(where, name, value)
  if (
    !/^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/.test(
      text,
    )
  ) {
    fail(
      where,
      `"${name}" must be a host name such as 'tenant.eu.auth0.com', without https:// or a path`,
    )
  }
  return text.toLowerCase()
}

/**
 * Freezes the entries a preset returns, with the arrays and objects the preset built: presets are
 * data. Static `keys` are the caller's own objects and are left as they are.
 */
export function frozen(entries: readonly IssuerOptions[]): readonly IssuerOptions[] {
  const freeze = (value: unknown): void => {
    if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return
    Object.freeze(value)
    for (const member of Object.values(value)) freeze(member)
  }
  for (const entry of entries) {
    for (const [name, member] of Object.entries(entry)) if (name !== 'keys') freeze(member)
    Object.freeze(entry)
  }
  return Object.freeze(entries)
}
