import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { resolve } from 'node:path'
import type { Readable } from 'node:stream'
import { expect } from 'vitest'

/** The repository root, where `npm start --prefix examples/<name>` is run from. */
export const repoRoot = resolve(import.meta.dirname, '../..')

/** A port that was free a moment ago on 127.0.0.1 (and, unless someone takes it, still is). */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  await once(server, 'close')
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** How a process ended. */
export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** A running example API. */
export interface RunningExample {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  /** The PID of the `npm start` process. */
  readonly pid: number
  /** Everything the process printed so far, for failure messages. */
  output(): string
  /** Sends SIGTERM to the PID and resolves with how the process exited. */
  stop(timeoutMs?: number): Promise<Exit>
}

/** `npm start --prefix <dir>` on `port`, with `env` over the parent's environment. */
function spawnExample(
  dir: string,
  port: number,
  env: Readonly<Record<string, string | undefined>>,
): { child: ChildProcessByStdio<null, Readable, Readable>; exited: Promise<Exit> } {
  const child = spawn('npm', ['start', '--silent', '--prefix', dir], {
    cwd: repoRoot,
    env: {
      ...withoutExampleVariables(process.env),
      PORT: String(port),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a server left behind by a failure can still be reaped.
    detached: true,
  })
  const exited = new Promise<Exit>((resolveExit) => {
    child.once('exit', (code, signal) => {
      resolveExit({ code, signal })
    })
  })
  return { child, exited }
}

/**
 * Starts `npm start --prefix <dir>` with `env`, and resolves once it prints a line containing
 * `listening`. Rejects with its output if it exits or stays silent for `timeoutMs`.
 */
export async function startExample(
  dir: string,
  env: Readonly<Record<string, string | undefined>>,
  timeoutMs = 30_000,
): Promise<RunningExample> {
  const port = await freePort()
  const { child, exited } = spawnExample(dir, port, env)
  let output = ''

  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => {
      killGroup(child)
      fail(new Error(`${dir} did not print "listening" in ${timeoutMs} ms:\n${output}`))
    }, timeoutMs)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      if (/listening/i.test(output)) {
        clearTimeout(timer)
        ready()
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      fail(new Error(`${dir} exited (${String(code ?? signal)}) before listening:\n${output}`))
    })
  })

  const pid = child.pid
  if (pid === undefined) throw new Error(`${dir} has no PID`)
  return {
    url: `http://127.0.0.1:${port}`,
    pid,
    output: () => output,
    async stop(stopTimeoutMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGTERM')
      const timeout = new Promise<'timeout'>((done) => setTimeout(done, stopTimeoutMs, 'timeout'))
      const result = await Promise.race([exited, timeout])
      // Whatever happened, leave nothing of the group running.
      killGroup(child)
      if (result === 'timeout') throw new Error(`${dir} ignored SIGTERM for ${stopTimeoutMs} ms`)
      return result
    },
  }
}

/** How an example that was expected not to start ended, and everything it printed. */
export interface RefusedStart {
  readonly exit: Exit
  readonly output: string
}

/**
 * Runs `npm start --prefix <dir>` with `env` until it exits by itself, for a configuration the
 * example must refuse. Rejects, leaving nothing running, if it prints `listening` or has not
 * exited within `timeoutMs`.
 */
export async function runUntilExit(
  dir: string,
  env: Readonly<Record<string, string | undefined>>,
  timeoutMs = 30_000,
): Promise<RefusedStart> {
  const { child } = spawnExample(dir, await freePort(), env)
  let output = ''
  const collect = (chunk: Buffer): void => {
    output += chunk.toString()
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  // 'close', not 'exit': by then the pipes have delivered everything the process printed.
  const closed = new Promise<Exit>((done) => {
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      done({ code, signal })
    })
  })
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((done) => {
    timer = setTimeout(done, timeoutMs, 'timeout')
  })
  const result = await Promise.race([closed, timeout])
  clearTimeout(timer)
  killGroup(child)
  if (result === 'timeout') throw new Error(`${dir} did not exit in ${timeoutMs} ms:\n${output}`)
  if (/listening/i.test(output))
    throw new Error(`${dir} started although it should not:\n${output}`)
  return { exit: result, output }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, 'SIGKILL')
  } catch {
    // The group is already gone.
  }
}

/** The parent's environment without the variables the examples read (tests set them). */
function withoutExampleVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const rest = { ...env }
  delete rest.PORT
  delete rest.ISSUER
  delete rest.AUDIENCE
  delete rest.JWKS_URI
  delete rest.PUBLIC_ORIGIN
  delete rest.DPOP
  delete rest.DPOP_NONCE
  delete rest.DPOP_NONCE_SECRET
  delete rest.CLIENT_CERT_HEADER
  delete rest.RESOURCE
  delete rest.REDIS_URL
  delete rest.REDIS_NAMESPACE
  delete rest.INTROSPECTION_CLIENT_ID
  delete rest.INTROSPECTION_CLIENT_SECRET
  return rest
}

/**
 * Stops an example (if it was started: `beforeAll` may have failed first) and asserts the clean
 * exit CONTRACT.md promises on SIGTERM, showing the example's output when it was not.
 */
export async function stopCleanly(api: RunningExample | undefined, dir: string): Promise<void> {
  if (api === undefined) return
  const exit = await api.stop()
  expect(exit, `${dir} on SIGTERM:\n${api.output()}`).toEqual({ code: 0, signal: null })
}
