/**
 * Runs the built `bearer-guard` bin as a child process, as a user runs it, and checks on every
 * run that the token never appears in what it prints.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'
import type { Explanation } from '../src/explanation.js'

export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url))

if (!existsSync(BIN)) {
  throw new Error(
    `${BIN} is missing: build the package first (npx tsc -p packages/cli/tsconfig.build.json)`,
  )
}

export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * `bearer-guard <args>` with `stdin` as standard input (closed empty when not given). Async:
 * the test issuer answers from this process, so its event loop must keep running meanwhile.
 */
export function run(args: readonly string[], stdin?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(stdin ?? '')
  })
}

/** `bearer-guard explain <args>` with the token on stdin, checked never to be printed. */
export async function explainToken(token: string, args: readonly string[]): Promise<Run> {
  const result = await run(['explain', ...args], token)
  expectNoToken(result, token)
  return result
}

/** The same with `--json`, parsed. */
export async function explainJson(
  token: string,
  args: readonly string[],
): Promise<{ readonly result: Run; readonly explanation: Explanation }> {
  const result = await explainToken(token, [...args, '--json'])
  let explanation: Explanation
  try {
    explanation = JSON.parse(result.stdout) as Explanation
  } catch {
    throw new Error(`not JSON (exit ${String(result.code)}): ${result.stdout}\n${result.stderr}`)
  }
  return { result, explanation }
}

/**
 * Neither the token nor its signature (the part that makes a copied header and payload usable)
 * appears in the output, in any form a terminal would show.
 */
export function expectNoToken(result: Run, token: string): void {
  const output = result.stdout + result.stderr
  expect(output).not.toContain(token)
  const [, payload = '', signature = ''] = token.split('.')
  if (signature.length >= 16) expect(output).not.toContain(signature.slice(0, 16))
  if (payload.length >= 24) expect(output).not.toContain(payload.slice(0, 24))
}
