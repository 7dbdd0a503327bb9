/**
 * Throws a `TypeError` for the first own enumerable key of `options` that `known` does not list:
 * a misspelt option silently doing nothing makes a test pass for the wrong reason. `where`
 * prefixes the message, e.g. `createTestIssuer()`.
 */
export function assertKnownKeys(
  options: object,
  known: Readonly<Record<string, true>>,
  where: string,
): void {
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(known, key)) {
      throw new TypeError(
        `${where}: unknown option "${key}"; the options are ${Object.keys(known).join(', ')}`,
      )
    }
  }
}
