/** The guard's logger: core's, shared by every adapter (`@bearer-guard/core/adapter`). */
export { checkLogger, reportKeySetFailures, warn } from '@bearer-guard/core/adapter'
export type { BearerGuardLogger } from '@bearer-guard/core/adapter'
