// Source: docs.github.com/en/actions/reference/security/oidc (example token, claims table).
import {
  begin,
  finish,
  randomDigits,
  randomHex,
  SHAPE_OPTION_NAMES,
  thumbprint,
  uuid,
  when,
} from './shape.js'
import type { ShapeOptions, TokenShape } from './shape.js'

/** Options of `providers.github.accessToken`. */
export interface GitHubActionsTokenOptions extends ShapeOptions {
  /** `repository`, `<owner>/<name>`. Default `'octo-org/octo-repo'`. */
  readonly repository?: string
  /**
   * `aud`: by default the owner's URL; workflows set their own with `core.getIDToken(audience)`.
   * Default `'https://github.com/<owner>'`.
   */
  readonly audience?: string
  /** `ref`. Default `'refs/heads/main'`. */
  readonly ref?: string
  /**
   * The deployment environment: `environment`, and the `sub` becomes
   * `repo:<repository>:environment:<name>`. Default: none.
   */
  readonly environment?: string
  /**
   * `event_name`. With `'pull_request'` (and no environment) the `sub` is
   * `repo:<repository>:pull_request`. Default `'push'`.
   */
  readonly eventName?: string
  /**
   * The workflow file the job runs, `<owner>/<repo>/.github/workflows/<file>@<ref>`
   * (`job_workflow_ref`; a reusable workflow may live in another repository). Default: the
   * repository's `.github/workflows/deploy.yml` at `ref`.
   */
  readonly jobWorkflowRef?: string
  /** `runner_environment`. Default `'github-hosted'`. */
  readonly runnerEnvironment?: 'github-hosted' | 'self-hosted'
}

const OPTIONS: Readonly<Record<keyof GitHubActionsTokenOptions, true>> = {
  ...SHAPE_OPTION_NAMES,
  repository: true,
  audience: true,
  ref: true,
  environment: true,
  eventName: true,
  jobWorkflowRef: true,
  runnerEnvironment: true,
}

/** The `sub` GitHub builds by default (without a customized subject template). */
function subject(repository: string, ref: string, environment?: string, event?: string): string {
  if (environment !== undefined) return `repo:${repository}:environment:${environment}`
  if (event === 'pull_request') return `repo:${repository}:pull_request`
  return `repo:${repository}:ref:${ref}`
}

/**
 * GitHub Actions OIDC token shapes: header `{ typ: 'JWT', alg, x5t, kid }` (`x5t` when the
 * signing key is known), RS256, `nbf` 600 s before `iat`, `exp` 300 s after it by default.
 * GitHub issues no separate ID token: the one token is what a workload presents.
 */
export const github = {
  /**
   * The OIDC token of a GitHub Actions job: `jti`, `sub`, `environment` (if any), `aud`, `ref`,
   * `sha`, `repository`, `repository_owner`, `repository_owner_id`, `run_id`, `run_number`,
   * `run_attempt`, `repository_visibility`, `repository_id`, `actor_id`, `actor`, `workflow`,
   * `head_ref`, `base_ref`, `event_name`, `ref_protected`, `ref_type`, `workflow_ref`,
   * `workflow_sha`, `job_workflow_ref`, `job_workflow_sha`, `runner_environment`, `iss`, `nbf`,
   * `exp`, `iat`.
   *
   * @example
   * ```ts
   * const shape = providers.github.accessToken({ repository: 'acme/api', environment: 'prod' })
   * // sub 'repo:acme/api:environment:prod', aud 'https://github.com/acme'
   * ```
   */
  accessToken(options: GitHubActionsTokenOptions = {}): TokenShape {
    const { iat, exp } = begin(options, OPTIONS, 'providers.github.accessToken()', 300)
    const repository = options.repository ?? 'octo-org/octo-repo'
    const owner = repository.split('/')[0] ?? repository
    const ref = options.ref ?? 'refs/heads/main'
    const eventName = options.eventName ?? 'push'
    const sha = randomHex(40)
    const workflowRef = `${repository}/.github/workflows/deploy.yml@${ref}`
    const claims = {
      jti: uuid(),
      sub: subject(repository, ref, options.environment, eventName),
      ...when(options.environment !== undefined, { environment: options.environment }),
      aud: options.audience ?? `https://github.com/${owner}`,
      ref,
      sha,
      repository,
      repository_owner: owner,
      repository_owner_id: '65',
      run_id: randomDigits(10),
      run_number: '10',
      run_attempt: '1',
      repository_visibility: 'private',
      repository_id: '74',
      actor_id: '12',
      actor: 'octocat',
      workflow: 'deploy',
      head_ref: '',
      base_ref: '',
      event_name: eventName,
      ref_protected: 'true',
      ref_type: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
      workflow_ref: workflowRef,
      workflow_sha: sha,
      job_workflow_ref: options.jobWorkflowRef ?? workflowRef,
      job_workflow_sha: sha,
      runner_environment: options.runnerEnvironment ?? 'github-hosted',
      iss: 'https://token.actions.githubusercontent.com',
      nbf: iat - 600,
      exp,
      iat,
    }
    const header = {
      typ: 'JWT',
      ...(options.key === undefined ? {} : { x5t: thumbprint(options.key) }),
    }
    return finish('github', 'access', header, claims, options)
  },
}
