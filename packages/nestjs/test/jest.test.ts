import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// The Jest recipe of the README, proven: a CommonJS Nest application tested by Jest 30 with
// ts-jest (as `nest new` sets it up) loads @bearer-guard/nestjs, which is ESM-only like jose.

const fixture = fileURLToPath(new URL('./jest-fixture/', import.meta.url))
const jestBin = createRequire(import.meta.url).resolve('jest/bin/jest')
const nodeMajor = Number(process.versions.node.split('.')[0])
const nodeMinor = Number(process.versions.node.split('.')[1])
/** Jest's own require(esm) needs Node 24.9+ (`vm.SourceTextModule#hasAsyncGraph`). */
const jestRequiresEsm = nodeMajor > 24 || (nodeMajor === 24 && nodeMinor >= 9)

interface JestRun {
  readonly code: number | null
  readonly output: string
}

function runJest(config: string): Promise<JestRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [jestBin, '--config', `${fixture}${config}`, '--ci', '--no-cache', '--colors=false'],
      { cwd: fixture, timeout: 120_000, env: { ...process.env, FORCE_COLOR: '0' } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
        resolve({ code, output: `${stdout}\n${stderr}` })
      },
    )
  })
}

describe('Jest recipe (CommonJS Nest app, Jest 30, ts-jest)', () => {
  it('passes with the recipe', { timeout: 150_000 }, async () => {
    const run = await runJest('jest.config.js')
    expect(run.output).toContain('Tests:       4 passed, 4 total')
    expect(run.code, run.output).toBe(0)
  })

  it.skipIf(jestRequiresEsm)(
    'fails without it on this Node version (why the recipe exists)',
    { timeout: 150_000 },
    async () => {
      const run = await runJest('jest.config.starter.js')
      expect(run.code).not.toBe(0)
      expect(run.output).toContain('Must use import to load ES Module')
    },
  )
})
