/** The guard's logger: core's, shared by every adapter (`@bearer-guard/core/adapter`). */
export { checkLogger, reportKeySetFailures, warn } from '@bearer-guard/core/adapter'
export type { BearerGuardLogger } from '@bearer-guard/core/adapter'

/** The line for an unexpected failure: the error's class only, as its message is not ours. */
export function unexpected(where: string, error: unknown): string {
  const name = error instanceof Error ? error.name : typeof error
  return `bearer-guard: ${where} failed unexpectedly (${name}); answered without authenticating`
}
