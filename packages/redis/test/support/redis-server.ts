/**
 * A real `redis-server` for the tests, on a free loopback port, without persistence, stopped by
 * its PID. No mocks: every test talks to Redis itself. A missing `redis-server` fails loudly
 * (`.ci/run` installs Debian's package), never skips.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export interface RedisServer {
  readonly port: number
  readonly url: string
  /** PID of the running server. */
  readonly pid: number
  /** Kills the server (SIGKILL by default) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Starts a new server on the same port (empty: no persistence) and waits for PING. */
  restart(): Promise<void>
  /** SIGSTOP: the server keeps its connections but answers nothing (a hung Redis). */
  pause(): void
  /** SIGCONT after {@link RedisServer.pause}. */
  resume(): void
  /** Stops the server for good; safe to call twice. */
  stop(): Promise<void>
}

const running = new Set<ChildProcess>()
// A worker that dies without running afterAll still stops its servers.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

function assertInstalled(): void {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      'redis-server is not installed (or not on PATH): these tests need a real Redis. ' +
        '`.ci/run` installs it; by hand: apt-get install redis-server',
      { cause: probe.error },
    )
  }
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const address = server.address()
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve()
    })
  })
  if (typeof address !== 'object' || address === null) throw new Error('no port')
  return address.port
}

/** One PING over a raw socket: true on `+PONG`. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' })
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => {
      done(false)
    })
    socket.once('error', () => {
      done(false)
    })
    socket.once('connect', () => {
      socket.write('PING\r\n')
    })
    socket.once('data', (data) => {
      done(data.toString().startsWith('+PONG'))
    })
  })
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => {
      resolve()
    })
  })
}

/** Starts `redis-server` on a free port of 127.0.0.1 and waits until it answers PING. */
export async function startRedis(): Promise<RedisServer> {
  assertInstalled()
  const dir = mkdtempSync(join(tmpdir(), 'bearer-guard-redis-'))
  let port = 0
  let child: ChildProcess | undefined

  async function launch(): Promise<void> {
    const next = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    running.add(next)
    next.once('exit', () => running.delete(next))
    let stderr = ''
    next.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child = next
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      if (next.exitCode !== null) {
        throw new Error(`redis-server exited with ${next.exitCode}: ${stderr.trim()}`)
      }
      if (await ping(port)) return
      await sleep(20)
    }
    next.kill('SIGKILL')
    throw new Error(`redis-server did not answer PING on port ${port} within 10 s`)
  }

  // A port found free may be taken before the server binds it: try a few.
  for (let attempt = 0; ; attempt++) {
    port = await freePort()
    try {
      await launch()
      break
    } catch (error) {
      if (attempt >= 4) throw error
    }
  }

  const current = () => {
    if (child === undefined) throw new Error('redis-server is not running')
    return child
  }
  return {
    get port() {
      return port
    },
    get url() {
      return `redis://127.0.0.1:${port}`
    },
    get pid() {
      return current().pid as number
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      const target = current()
      target.kill('SIGCONT') // a paused server must be able to die
      target.kill(signal)
      await exited(target)
    },
    async restart() {
      if (child !== undefined) {
        child.kill('SIGKILL')
        await exited(child)
      }
      await launch()
    },
    pause() {
      current().kill('SIGSTOP')
    },
    resume() {
      current().kill('SIGCONT')
    },
    async stop() {
      if (child !== undefined) {
        child.kill('SIGCONT')
        child.kill('SIGKILL')
        await exited(child)
        child = undefined
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * A TCP forwarder to a Redis port: `cut()` drops every connection through it and refuses new
 * ones (one instance partitioned from Redis while the others still reach it); `restore()` ends
 * the partition.
 */
export interface Partition {
  readonly url: string
  cut(): void
  restore(): void
  close(): Promise<void>
}

export async function partitionable(targetPort: number): Promise<Partition> {
  let cut = false
  const sockets = new Set<Socket>()
  const server = createServer((inbound) => {
    if (cut) {
      inbound.destroy()
      return
    }
    const outbound = connect({ port: targetPort, host: '127.0.0.1' })
    for (const socket of [inbound, outbound]) {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
      socket.on('error', () => {
        inbound.destroy()
        outbound.destroy()
      })
    }
    inbound.pipe(outbound).pipe(inbound)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `redis://127.0.0.1:${port}`,
    cut() {
      cut = true
      for (const socket of sockets) socket.destroy()
    },
    restore() {
      cut = false
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve()
        })
      })
    },
  }
}

/** Polls `condition` every few ms until it holds; throws after `timeoutMs`. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`)
    await sleep(5)
  }
}

/**
 * Closes what a `beforeAll` started, if it got that far: when it failed (no redis-server), the
 * hooks still run and must not hide the first error under a `TypeError`.
 */
export async function stopped(
  resource: { stop(): Promise<unknown> } | { close(): Promise<unknown> } | undefined,
): Promise<void> {
  if (resource === undefined) return
  await ('stop' in resource ? resource.stop() : resource.close())
}
