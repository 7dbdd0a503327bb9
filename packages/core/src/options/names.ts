/**
 * Unknown option keys are refused, not ignored: `clockTolerence: 60` silently doing nothing is a
 * security bug waiting to happen. The error names the closest known option.
 */

/** Damerau–Levenshtein distance (optimal string alignment), case-insensitive. */
function distance(a: string, b: string): number {
  const s = a.toLowerCase()
  const t = b.toLowerCase()
  const rows: number[][] = []
  for (let i = 0; i <= s.length; i++) {
    const row: number[] = [i]
    for (let j = 1; j <= t.length; j++) {
      if (i === 0) {
        row.push(j)
        continue
      }
      const above = rows[i - 1] as number[]
      const cost = s[i - 1] === t[j - 1] ? 0 : 1
      let best = Math.min(
        (above[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (above[j - 1] as number) + cost,
      )
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) {
        best = Math.min(best, ((rows[i - 2] as number[])[j - 2] as number) + 1)
      }
      row.push(best)
    }
    rows.push(row)
  }
  return (rows[s.length] as number[])[t.length] as number
}

/** The known name closest to `name`, if one is close enough to be a plausible typo. */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of known) {
    const d = distance(name, candidate)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  // A third of the name (at least 2 edits) catches misspellings without suggesting nonsense.
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined
}

/**
 * Throws a `TypeError` for the first own enumerable key of `options` that is not in `known`,
 * naming the closest known option when there is a plausible one. `where` names the API, e.g.
 * `createAccessTokenValidator()`.
 */
export function assertKnownOptions(
  options: object,
  known: ReadonlySet<string>,
  where: string,
): void {
  for (const key of Object.keys(options)) {
    if (known.has(key)) continue
    const suggestion = closestName(key, known)
    const name = printable(key)
    throw new TypeError(
      `bearer-guard: ${where} has no option '${name}'` +
        (suggestion === undefined ? '' : `; did you mean '${suggestion}'?`),
    )
  }
}

/** A key as it can be shown in a message: printable ASCII, at most 64 characters. */
function printable(key: string): string {
  const shown = key.replace(/[^\x20-\x7e]/g, '?')
  return shown.length > 64 ? `${shown.slice(0, 64)}…` : shown
}
