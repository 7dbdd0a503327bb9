// Sources: docs.github.com/en/actions/reference/security/oidc (iss
// https://token.actions.githubusercontent.com; `aud` the owner's URL unless the workflow asks for
// its own with core.getIDToken(audience); `repository`, `repository_owner`, `ref`, `environment`);
// keys at <issuer>/.well-known/jwks (the discovery document's jwks_uri).
import type { IssuerOptions } from '@bearer-guard/core'
import { baseUrl, fail, frozen, optionalList, presetOptions, requiredList } from './options.js'

/** Options of {@link githubActions}. */
export interface GitHubActionsOptions {
  /**
   * The audience workflows ask for (`core.getIDToken('<audience>')`, or `audience:` of the action
   * that fetches the token), or several: a token's `aud` must contain one of them. Required.
   */
  readonly audience: string | readonly string[]
  /**
   * The repositories, `<owner>/<name>`, whose workflows may call: `repository` must be one of
   * them. Required unless `repositoryOwner` is given.
   */
  readonly repository?: string | readonly string[]
  /**
   * The accounts (organizations or users) whose repositories' workflows may call:
   * `repository_owner` must be one of them. Required unless `repository` is given.
   */
  readonly repositoryOwner?: string | readonly string[]
  /**
   * The git refs allowed, e.g. `'refs/heads/main'` or `'refs/tags/v1.2.3'`: `ref` must be one of
   * them. Default: any ref.
   */
  readonly ref?: string | readonly string[]
  /**
   * The deployment environments allowed, e.g. `'production'`: `environment` must be one of them
   * (a job without an environment is refused). Default: any, or none.
   */
  readonly environment?: string | readonly string[]
  /**
   * The OIDC issuer: GitHub Enterprise Server's is `https://<host>/_services/token`. Default:
   * `'https://token.actions.githubusercontent.com'`.
   */
  readonly issuer?: string
}

const OPTIONS: Readonly<Record<keyof GitHubActionsOptions, true>> = {
  audience: true,
  repository: true,
  repositoryOwner: true,
  ref: true,
  environment: true,
  issuer: true,
}

/**
 * The issuer of GitHub Actions OIDC tokens, for an API that workflows call.
 *
 * @remarks
 * Checks: `iss` is `https://token.actions.githubusercontent.com` (or `issuer`), verified with the
 * keys of `<issuer>/.well-known/jwks`; `aud` contains `audience`; `repository`,
 * `repository_owner`, `ref` and `environment` are among the values given for each. No scopes are
 * read (these tokens carry none).
 *
 * GitHub issues no ID tokens here: the job's token is what a workflow presents.
 *
 * Security: any workflow in any repository on GitHub can obtain a token with any
 * audience it names, so the audience alone says nothing about who called: `repository` or
 * `repositoryOwner` is required. Names can be reused after an account or repository is deleted
 * or renamed; to pin the immutable IDs too, add a route policy on `repository_id` or
 * `repository_owner_id`.
 *
 * @param options - See {@link GitHubActionsOptions}.
 * @returns One issuer entry, frozen.
 * @throws TypeError for an unknown, missing or malformed option, or neither `repository` nor
 *   `repositoryOwner`.
 * @example
 * ```ts
 * import { createAccessTokenValidator } from '@bearer-guard/core'
 * import { githubActions } from '@bearer-guard/presets'
 *
 * const validator = createAccessTokenValidator({
 *   issuer: githubActions({
 *     audience: 'https://deploy.example.com',
 *     repository: 'octo-org/octo-repo',
 *     ref: 'refs/heads/main',
 *     environment: 'production',
 *   }),
 * })
 * ```
 */
export function githubActions(options: GitHubActionsOptions): readonly IssuerOptions[] {
  const where = 'githubActions()'
  const given = presetOptions<GitHubActionsOptions>(options, OPTIONS, where)
  const audience = requiredList(where, 'audience', given.audience)
  const repository = optionalList(where, 'repository', given.repository)
  const repositoryOwner = optionalList(where, 'repositoryOwner', given.repositoryOwner)
  if (repository === undefined && repositoryOwner === undefined) {
    fail(
      where,
      '"repository" or "repositoryOwner" is required: any workflow on GitHub can ask for a token with your audience',
    )
  }
  for (const name of repository ?? []) {
    if (!/^[^/\s]+\/[^/\s]+$/.test(name)) {
      fail(where, `"repository" entries must be <owner>/<name>, such as octo-org/octo-repo`)
    }
  }
  const ref = optionalList(where, 'ref', given.ref)
  const environment = optionalList(where, 'environment', given.environment)
  const issuer =
    given.issuer === undefined
      ? 'https://token.actions.githubusercontent.com'
      : baseUrl(where, 'issuer', given.issuer)
  const requiredClaimValues: Record<string, readonly string[]> = {}
  if (repository !== undefined) requiredClaimValues.repository = repository
  if (repositoryOwner !== undefined) requiredClaimValues.repository_owner = repositoryOwner
  if (ref !== undefined) requiredClaimValues.ref = ref
  if (environment !== undefined) requiredClaimValues.environment = environment
  return frozen([
    {
      issuer,
      jwksUri: `${issuer}/.well-known/jwks`,
      audience,
      requiredClaimValues,
      scopeClaims: [],
    },
  ])
}
