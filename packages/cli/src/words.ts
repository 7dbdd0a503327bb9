/** Values and durations in words, for explanations. */

/**
 * A value as an explanation quotes it: strings in single quotes, arrays and objects as compact
 * JSON, each bounded. Control and other invisible characters are escaped when printed.
 */
export function shown(value: unknown, max = 100): string {
  let text: string
  if (typeof value === 'string') text = `'${value}'`
  else if (Array.isArray(value)) text = `[${value.map((v) => shown(v, max)).join(', ')}]`
  else if (value === undefined) return '(none)'
  else text = JSON.stringify(value) // JSON values only: claims and headers
  return text.length > max ? `${text.slice(0, max - 3)}...` : text
}

/** A duration in words: `45 s`, `3 min 12 s`, `2 h 5 min`, `4 d 3 h`. Whole seconds, rounded down. */
export function duration(ms: number): string {
  const total = Math.floor(Math.abs(ms) / 1000)
  if (total < 60) return `${total} s`
  const s = total % 60
  const m = Math.floor(total / 60) % 60
  const h = Math.floor(total / 3600) % 24
  const d = Math.floor(total / 86_400)
  if (d > 0) return h === 0 ? `${d} d` : `${d} d ${h} h`
  if (h > 0) return m === 0 ? `${h} h` : `${h} h ${m} min`
  return s === 0 ? `${m} min` : `${m} min ${s} s`
}

/** `in 4 min 48 s` or `3 min 12 s ago`, from `at` to the instant `then` (both in ms). */
export function relative(then: number, at: number): string {
  if (Math.abs(then - at) < 1000) return 'now'
  return then > at ? `in ${duration(then - at)}` : `${duration(at - then)} ago`
}

/** A NumericDate (seconds) as an ISO 8601 instant, e.g. `2025-01-01T12:00:00Z`. */
export function instant(seconds: number): string {
  const date = new Date(seconds * 1000)
  if (Number.isNaN(date.getTime())) return String(seconds)
  return date.toISOString().replace('.000Z', 'Z')
}

/** `1 key`, `3 keys`. */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}
