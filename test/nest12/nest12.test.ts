// Proves that @bearer-guard/nestjs, which declares `@nestjs/common` and `@nestjs/core` `^11 || ^12`
// as peers, works in a NestJS 12 application, on platform-express and platform-fastify. The
// package's own tests run on the monorepo's Nest 11.
//
// Why a packed copy in a temp folder and a child process: in the repository, packages/nestjs
// resolves `@nestjs/*` to the root's Nest 11, so a Nest 12 application would get two copies of
// @nestjs/common and @nestjs/core (and `Reflector`, `HttpAdapterHost` tokens that do not match). A
// user installs the adapter next to their own Nest, which it then shares as its peer. So, as in
// ../packaging/load.test.ts: @bearer-guard/core and @bearer-guard/nestjs are `npm pack`ed and
// unpacked into `<temp>/node_modules`, their regular dependencies linked from the repository's
// install, and the application's Nest 12 (this workspace's devDependencies) linked at the top
// level, where the adapter finds it. ./app.fixture.mjs then runs from that folder, against a real
// test issuer, and the test speaks HTTP to it.
//
// A missing dist/ fails (it is not skipped): the root `npm test` builds before it tests.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readFileSync, realpathSync } from 'node:fs'
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { bearerChallenge } from '../support/www-authenticate.js'

const run = promisify(execFile)
const here = fileURLToPath(new URL('.', import.meta.url))
const root = fileURLToPath(new URL('../..', import.meta.url))
const AUDIENCE = 'https://api.example.com'
const PACK_TIMEOUT_MS = 30_000
const START_TIMEOUT_MS = 20_000
const STOP_TIMEOUT_MS = 5_000
const REQUEST_TIMEOUT_MS = 5_000

/** The packages under test, packed as published. */
const PACKED = ['@bearer-guard/core', '@bearer-guard/nestjs'] as const

interface Manifest {
  name: string
  version: string
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
}

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest
}

/** Node's lookup of an installed package, starting from a folder. */
function installedDir(from: string, name: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate)
    if (dirname(dir) === dir) throw new Error(`${name} is not installed (looked from ${from})`)
  }
}

async function linkDir(target: string, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await symlink(target, path, 'dir')
}

/** What this workspace installs for the application: Nest 12 and its peers, not our packages. */
const appDependencies = Object.keys(readManifest(here).devDependencies ?? {}).filter(
  (name) => !name.startsWith('@bearer-guard/'),
)

let consumer = ''
let issuer: TestIssuer

beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE })
  consumer = await mkdtemp(join(tmpdir(), 'bearer-guard-nest12-'))
  const tarballs = join(consumer, 'tarballs')
  await mkdir(tarballs)
  await writeFile(join(consumer, 'package.json'), JSON.stringify({ private: true, type: 'module' }))

  const packed = await Promise.all(
    PACKED.map(async (name) => {
      const dir = join(root, 'packages', name.slice('@bearer-guard/'.length))
      const { stdout } = await run(
        'npm',
        ['pack', '--json', '--offline', '--pack-destination', tarballs],
        { cwd: dir, timeout: PACK_TIMEOUT_MS },
      )
      const [{ filename }] = JSON.parse(stdout.slice(stdout.indexOf('['))) as [{ filename: string }]
      const target = join(consumer, 'node_modules', name)
      await mkdir(target, { recursive: true })
      // npm tarballs hold one top-level folder, `package/`.
      await run('tar', ['-xzf', join(tarballs, filename), '-C', target, '--strip-components=1'], {
        timeout: PACK_TIMEOUT_MS,
      })
      return { name, dir, manifest: readManifest(dir) }
    }),
  )

  // Regular dependencies of each packed package, from the repository's install (ours: the packed copy).
  for (const { name, dir, manifest } of packed) {
    for (const dependency of Object.keys(manifest.dependencies ?? {})) {
      if ((PACKED as readonly string[]).includes(dependency)) continue
      await linkDir(
        installedDir(dir, dependency),
        join(consumer, 'node_modules', name, 'node_modules', dependency),
      )
    }
  }
  // The application's own packages, where an application has them: at the top level. Peers of the
  // adapter are deliberately not linked from packages/nestjs (that would be the repository's Nest 11).
  // Their own dependencies resolve from their real location in this workspace's install.
  for (const dependency of appDependencies) {
    await linkDir(installedDir(here, dependency), join(consumer, 'node_modules', dependency))
  }
  await copyFile(join(here, 'app.fixture.mjs'), join(consumer, 'app.mjs'))
}, 90_000)

afterAll(async () => {
  await issuer.close()
  if (consumer) await rm(consumer, { recursive: true, force: true })
})

test('the application installs Nest 12, and the adapter peers on it', () => {
  const nest = readManifest(installedDir(here, '@nestjs/core'))
  expect(nest.version.startsWith('12.'), `@nestjs/core ${nest.version}`).toBe(true)
  const adapter = readManifest(join(root, 'packages/nestjs'))
  for (const peer of ['@nestjs/common', '@nestjs/core']) {
    expect(adapter.peerDependencies?.[peer]).toMatch(/(^|\|\|\s*)\^12(\s|$)/)
    expect(appDependencies).toContain(peer)
  }
})

/** The line the fixture prints once it listens. */
interface Ready {
  url: string
  nest: {
    core: string
    common: string
    platform: string
    coreFromApp: string
    coreFromAdapter: string
    commonFromApp: string
    commonFromAdapter: string
  }
}

interface RunningApp extends Ready {
  output(): string
  stop(): Promise<void>
}

/** Starts ./app.fixture.mjs from the consumer folder; rejects with its output if it does not start. */
async function startApp(platform: string): Promise<RunningApp> {
  const child: ChildProcess = spawn(process.execPath, ['app.mjs'], {
    cwd: consumer,
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      PLATFORM: platform,
      ISSUER: issuer.issuer,
      AUDIENCE,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const exited = once(child, 'exit')
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  try {
    const ready = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`the ${platform} app did not start in ${START_TIMEOUT_MS} ms:\n${output}`))
      }, START_TIMEOUT_MS)
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        const line = /^READY (.*)$/m.exec(output)
        if (line) {
          clearTimeout(timer)
          resolve(JSON.parse(line[1]!) as Ready)
        }
      })
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
      void exited.then(([code, signal]) => {
        clearTimeout(timer)
        reject(new Error(`the ${platform} app exited (${String(code ?? signal)}):\n${output}`))
      })
    })
    return {
      ...ready,
      output: () => output,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
        const timeout = new Promise((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS))
        await Promise.race([exited, timeout])
        kill()
      },
    }
  } catch (error) {
    kill()
    throw error
  }
}

async function call(url: string, token?: string) {
  const response = await fetch(url, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  })
  const text = await response.text()
  return {
    status: response.status,
    headers: response.headers,
    body: text === '' ? undefined : (JSON.parse(text) as unknown),
    challenge: () => bearerChallenge(response.headers.get('www-authenticate')),
  }
}

describe.each(['express', 'fastify'])('a Nest 12 application on platform-%s', (platform) => {
  let app: RunningApp
  beforeAll(async () => {
    app = await startApp(platform)
  }, START_TIMEOUT_MS + 5_000)
  afterAll(async () => {
    await app.stop()
  })

  test('runs Nest 12, one copy shared by the application and @bearer-guard/nestjs', () => {
    const { nest } = app
    expect(nest.core).toMatch(/^12\./)
    expect(nest.common).toMatch(/^12\./)
    expect(nest.platform).toMatch(/^12\./)
    expect(nest.coreFromAdapter).toBe(nest.coreFromApp)
    expect(nest.commonFromAdapter).toBe(nest.commonFromApp)
    // Not the repository's Nest 11, which packages/nestjs resolves in the workspace.
    const repoNest = realpathSync(join(installedDir(join(root, 'packages/nestjs'), '@nestjs/core')))
    expect(nest.coreFromApp.startsWith(repoNest)).toBe(false)
  })

  test('answers 200 with the verified token from @Auth()', async () => {
    const token = await issuer.mint({ scope: 'orders:read' })
    const reply = await call(`${app.url}/me`, token)
    expect(reply.status, app.output()).toBe(200)
    expect(reply.body).toEqual({ sub: 'user-123', scopes: ['orders:read'] })
  })

  test('refuses a request without credentials with 401, a realm and no error', async () => {
    const reply = await call(`${app.url}/me`)
    expect(reply.status, app.output()).toBe(401)
    const { scheme, params } = reply.challenge()
    expect(scheme).toBe('Bearer')
    expect(params).toEqual({ realm: AUDIENCE })
    expect(reply.body).toEqual({ error_description: expect.any(String) })
  })

  test('refuses a token from another key with 401 invalid_token', async () => {
    const token = await issuer.mint({}, { key: await issuer.generateKey() })
    const reply = await call(`${app.url}/me`, token)
    expect(reply.status, app.output()).toBe(401)
    expect(reply.challenge().params).toMatchObject({ realm: AUDIENCE, error: 'invalid_token' })
  })

  test('enforces @RequireScopes with 403 insufficient_scope and the needed scopes', async () => {
    const writer = await issuer.mint({ scope: 'orders:write' })
    const denied = await call(`${app.url}/refunds`, writer)
    expect(denied.status, app.output()).toBe(403)
    const { params } = denied.challenge()
    expect(params).toMatchObject({
      realm: AUDIENCE,
      error: 'insufficient_scope',
      scope: 'orders:write orders:admin',
    })
    expect(denied.body).toEqual({
      error: 'insufficient_scope',
      error_description: params.error_description,
    })

    const noScope = await call(`${app.url}/orders`, await issuer.mint({}))
    expect(noScope.status).toBe(403)
    expect(noScope.challenge().params.scope).toBe('orders:read')
    const reader = await call(`${app.url}/orders`, await issuer.mint({ scope: 'orders:read' }))
    expect(reader.status).toBe(200)
    expect(reader.body).toEqual([{ id: '1' }])
    const admin = await issuer.mint({ scope: 'orders:write orders:admin' })
    expect((await call(`${app.url}/refunds`, admin)).status).toBe(200)
  })

  test('lets a @Public() route through the global guard (APP_GUARD) without a token', async () => {
    const reply = await call(`${app.url}/health`)
    expect(reply.status, app.output()).toBe(200)
    expect(reply.body).toEqual({ status: 'ok' })
    expect(reply.headers.get('www-authenticate')).toBeNull()
  })

  // Last: after every request above. Refusals are HttpExceptions, which Nest does not log; an
  // error or a deprecation warning from Nest 12 about how the adapter uses it would show here.
  test('logged no error nor warning', () => {
    const lines = app
      .output()
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('READY '))
    expect(lines).toEqual([])
  })
})
