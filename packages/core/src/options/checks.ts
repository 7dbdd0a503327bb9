/** Small option checks shared by the stages' resolution; each throws a `TypeError` naming the option. */

export function fail(message: string): never {
  throw new TypeError(`bearer-guard: ${message}`)
}

export function nonNegative(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(`"${name}" must be a finite non-negative number`)
  }
  return value
}

export function positive(name: string, value: unknown, fallback: number): number {
  const v = nonNegative(name, value, fallback)
  if (v === 0) fail(`"${name}" must be greater than 0`)
  return v
}

export function positiveInteger(name: string, value: unknown, fallback: number): number {
  const v = positive(name, value, fallback)
  if (!Number.isInteger(v)) fail(`"${name}" must be an integer`)
  return v
}

export function stringList(
  name: string,
  value: unknown,
  fallback: readonly string[],
): readonly string[] {
  if (value === undefined) return fallback
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.some((v) => typeof v !== 'string' || v === '')) {
    fail(`"${name}" must be a non-empty string or an array of non-empty strings`)
  }
  return Object.freeze([...(list as string[])])
}

export function optionalString(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value === '') fail(`"${name}" must be a non-empty string`)
  return value
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
