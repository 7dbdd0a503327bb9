/** githubActions() with GitHub Actions OIDC tokens. */
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { githubActions, type GitHubActionsOptions } from '../src/index.js'
import { expectInvalid, validatorOf, withKeysFrom } from './support/helpers.js'

const ISSUER = 'https://token.actions.githubusercontent.com'
const AUDIENCE = 'https://deploy.example.com'
const REPO = 'octo-org/octo-repo'

let server: TestIssuer
beforeAll(async () => {
  server = await createTestIssuer({ issuer: ISSUER })
})
afterAll(async () => {
  await server.close()
})

const local = (options: Partial<GitHubActionsOptions> = {}) =>
  validatorOf(
    withKeysFrom(
      githubActions({ audience: AUDIENCE, repository: REPO, ...options }),
      server.jwksUri,
    ),
  )
const job = (options: Record<string, unknown> = {}) =>
  server.mintShaped('github', 'accessToken', { audience: AUDIENCE, repository: REPO, ...options })

describe('githubActions()', () => {
  it('is data: GitHub’s issuer, its JWKS, and a required value per claim given', () => {
    expect(
      githubActions({
        audience: AUDIENCE,
        repository: REPO,
        repositoryOwner: 'octo-org',
        ref: 'refs/heads/main',
        environment: ['production', 'staging'],
      }),
    ).toEqual([
      {
        issuer: ISSUER,
        jwksUri: `${ISSUER}/.well-known/jwks`,
        audience: [AUDIENCE],
        requiredClaimValues: {
          repository: [REPO],
          repository_owner: ['octo-org'],
          ref: ['refs/heads/main'],
          environment: ['production', 'staging'],
        },
        scopeClaims: [],
      },
    ])
    expect(
      githubActions({
        audience: AUDIENCE,
        repositoryOwner: 'acme',
        issuer: 'https://github.example.com/_services/token',
      })[0],
    ).toMatchObject({
      issuer: 'https://github.example.com/_services/token',
      jwksUri: 'https://github.example.com/_services/token/.well-known/jwks',
    })
  })

  it('accepts a job of the allowed repository, ref and environment', async () => {
    const auth = await local({ ref: 'refs/heads/main', environment: 'production' }).verify(
      await job({ environment: 'production' }),
    )
    expect(auth.claims.sub).toBe(`repo:${REPO}:environment:production`)
    expect(
      await local({ repository: undefined, repositoryOwner: 'octo-org' }).verify(
        await job({ repository: 'octo-org/another-repo' }),
      ),
    ).toBeTruthy()
  })

  it('refuses other repositories, owners, refs and environments, and a job without environment', async () => {
    await expectInvalid(
      local().verify(await job({ repository: 'evil/octo-repo' })),
      'ERR_TOKEN_CLAIM_INVALID',
    )
    await expectInvalid(
      local({ repository: undefined, repositoryOwner: 'octo-org' }).verify(
        await job({ repository: 'evil/octo-repo' }),
      ),
      'ERR_TOKEN_CLAIM_INVALID',
    )
    await expectInvalid(
      local({ ref: 'refs/heads/main' }).verify(await job({ ref: 'refs/heads/feature' })),
      'ERR_TOKEN_CLAIM_INVALID',
    )
    await expectInvalid(
      local({ environment: 'production' }).verify(await job({ environment: 'staging' })),
      'ERR_TOKEN_CLAIM_INVALID',
    )
    await expectInvalid(
      local({ environment: 'production' }).verify(await job()),
      'ERR_TOKEN_CLAIM_INVALID',
    )
  })

  it('refuses a token with GitHub’s default audience (the owner’s URL) or another audience', async () => {
    await expectInvalid(
      local().verify(await server.mintShaped('github', 'accessToken', { repository: REPO })),
      'ERR_TOKEN_AUDIENCE_INVALID',
    )
  })

  it('checks its options when called: a repository or an owner is required', () => {
    expect(() => githubActions({ audience: AUDIENCE })).toThrow(
      /"repository" or "repositoryOwner" is required/,
    )
    expect(() => githubActions({ audience: AUDIENCE, repository: 'octo-repo' })).toThrow(
      /<owner>\/<name>/,
    )
    expect(() =>
      githubActions({ audience: AUDIENCE, repository: REPO, environments: 'x' } as never),
    ).toThrow(/did you mean 'environment'\?/)
  })
})
