/**
 * `@bearer-guard/cli`: `bearer-guard explain` tells why an API accepts or refuses an access
 * token, check by check, with the exact challenge it sends. The same explanation is available to
 * programs: {@link explain} returns it, {@link formatExplanation} prints it.
 *
 * @example
 * ```ts
 * import { explain, formatExplanation } from '@bearer-guard/cli'
 *
 * const explanation = await explain(token, {
 *   validator: { issuer: 'https://auth.example.com/', audience: 'https://api.example.com' },
 *   route: { allOf: ['orders:read'] },
 * })
 * process.stdout.write(formatExplanation(explanation))
 * ```
 *
 * @packageDocumentation
 */
export { explain } from './explain.js'
export type { ExplainOptions } from './explain.js'
export type { RouteNeeds } from './steps.js'
export { formatExplanation } from './text.js'
export type { FormatOptions } from './text.js'
export type {
  ExplainStep,
  Explanation,
  KeyDescription,
  KeyFetch,
  StepId,
  StepStatus,
  Verdict,
} from './explanation.js'
export type { TokenFingerprint } from './token.js'
