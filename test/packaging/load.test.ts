// Proves that every publishable package, as built and packed, loads on this Node the way a user
// loads it: with `import`, with `require()` (require(esm), Node >= 20.19), and with types.
//
// Why a packed copy and not the workspace symlinks in the repository's node_modules: from the repo
// root, Node would find files that `files` leaves out of the tarball, and dependencies hoisted for
// other packages (a devDependency, a sibling's dependency) that a user does not have. So each package
// is `npm pack`ed and unpacked into a temp directory outside the repo, as `node_modules/<name>`, and
// only the dependencies it declares are linked into its own `node_modules` (from the repo's install:
// no network). Our packages depend on each other through their packed copies. Anything missing from
// the tarball, or imported but not declared, then fails here rather than for a user.
//
// A missing dist/ fails (it is not skipped): the root `npm test` builds before it tests.
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))
const TIMEOUT_MS = 60_000

interface Manifest {
  name: string
  version: string
  private?: boolean
  exports?: Record<string, unknown>
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
}

interface Workspace {
  name: string
  dir: string
  manifest: Manifest
}

type ExportKind = 'class' | 'function' | 'object' | 'string' | 'number' | 'boolean' | 'undefined'

// Exports whose kind we pin, per package. Packages not listed (new adapters) get the generic checks.
const KNOWN_EXPORTS: Record<string, Record<string, ExportKind>> = {
  '@bearer-guard/core': {
    createAccessTokenValidator: 'function',
    authorize: 'function',
    isBearerGuardError: 'function',
    BearerGuardError: 'class',
    InvalidTokenError: 'class',
    KeySetUnavailableError: 'class',
  },
  '@bearer-guard/testing': {
    createTestIssuer: 'function',
    generateTestKey: 'function',
  },
  '@bearer-guard/express': {
    bearerGuard: 'function',
    requireScopes: 'function',
    BearerGuardError: 'class',
  },
  '@bearer-guard/presets': {
    auth0: 'function',
    cognito: 'function',
    entra: 'function',
    githubActions: 'function',
    google: 'function',
    keycloak: 'function',
    kubernetes: 'function',
    okta: 'function',
  },
  '@bearer-guard/redis': {
    createRedisStores: 'function',
    RedisReplayStore: 'class',
    RedisRevocationStore: 'class',
    redisChannels: 'object',
  },
}

/** Discovered synchronously so that each package gets its own named tests. */
function publishablePackages(): Workspace[] {
  const packagesDir = join(root, 'packages')
  return readdirSync(packagesDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(packagesDir, entry.name))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest
      return { name: manifest.name, dir, manifest }
    })
    .filter((pkg) => pkg.manifest.private !== true)
    .sort((a, b) => a.name.localeCompare(b.name))
}

/** Every `types` target in an exports map, at any depth of conditions. */
function typesTargets(exportsField: unknown): string[] {
  if (typeof exportsField !== 'object' || exportsField === null) return []
  return Object.entries(exportsField).flatMap(([key, value]) =>
    key === 'types' && typeof value === 'string' ? [value] : typesTargets(value),
  )
}

/** Node's lookup of an installed package, starting from a package folder. */
function installedDir(from: string, name: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return candidate
    if (dirname(dir) === dir) return undefined
  }
}

async function linkDir(target: string, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await symlink(target, path, 'dir')
}

const packages = publishablePackages()
let consumer = ''

beforeAll(async () => {
  consumer = await mkdtemp(join(tmpdir(), 'bearer-guard-consumer-'))
  const tarballs = join(consumer, 'tarballs')
  await mkdir(tarballs)
  await writeFile(join(consumer, 'package.json'), JSON.stringify({ private: true }))
  for (const pkg of packages) {
    const { stdout } = await run(
      'npm',
      ['pack', '--json', '--offline', '--pack-destination', tarballs],
      {
        cwd: pkg.dir,
        timeout: TIMEOUT_MS,
      },
    )
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as [{ filename: string }]
    const target = join(consumer, 'node_modules', pkg.name)
    await mkdir(target, { recursive: true })
    // npm tarballs hold one top-level folder, `package/`.
    await run('tar', [
      '-xzf',
      join(tarballs, packed.filename),
      '-C',
      target,
      '--strip-components=1',
    ])
  }
  const ours = new Set(packages.map((pkg) => pkg.name))
  for (const pkg of packages) {
    const { dependencies = {}, peerDependencies = {}, optionalDependencies = {} } = pkg.manifest
    for (const name of Object.keys({
      ...dependencies,
      ...optionalDependencies,
      ...peerDependencies,
    })) {
      if (ours.has(name)) continue // the packed copy at the top level
      const installed = installedDir(pkg.dir, name)
      if (installed === undefined) {
        // A user must install peers themselves; a regular dependency must be in the repo's install.
        if (name in dependencies)
          throw new Error(`${pkg.name}: dependency ${name} is not installed`)
        continue
      }
      await linkDir(installed, join(consumer, 'node_modules', pkg.name, 'node_modules', name))
    }
  }
  // For the type check below: what a TypeScript user of a Node library has installed anyway.
  await linkDir(installedDir(root, '@types/node')!, join(consumer, 'node_modules/@types/node'))
}, 120_000)

afterAll(async () => {
  if (consumer) await rm(consumer, { recursive: true, force: true })
})

interface Probe {
  exports: Record<string, ExportKind>
  /** Set by the require() probe: does `import()` of the same name give the very same bindings? */
  sameAsImport?: boolean
  stderr: string
}

// Runs in the child: names and kinds of a module's exports (a class is a function whose source
// starts with `class`; tsc targets ES2022, so classes stay classes).
const describeExports = `(m) => Object.fromEntries(Object.keys(m).sort().map((k) => {
  const v = m[k]
  if (typeof v === 'function') return [k, /^class[\\s{]/.test(Function.prototype.toString.call(v)) ? 'class' : 'function']
  return [k, v === null ? 'object' : typeof v]
}))`

async function probe(args: string[]): Promise<Probe> {
  // `--no-warnings` is deliberately absent: a warning must be seen, and must not stop loading.
  const { stdout, stderr } = await run(process.execPath, args, {
    cwd: consumer,
    timeout: TIMEOUT_MS,
    env: { ...process.env, NODE_OPTIONS: '' },
  }).catch((error: unknown) => {
    // Node's own message (the first lines of stderr) says what failed; the probe's code does not.
    const { stderr = '' } = error as { stderr?: string }
    const reason = stderr
      .split('\n')
      .filter((line) => /Error|error/.test(line))
      .slice(0, 3)
    throw new Error(`node ${args.slice(0, -1).join(' ')} failed:\n${reason.join('\n') || stderr}`)
  })
  return { ...(JSON.parse(stdout) as Omit<Probe, 'stderr'>), stderr }
}

function importProbe(name: string): Promise<Probe> {
  const code = `import * as m from ${JSON.stringify(name)}
process.stdout.write(JSON.stringify({ exports: (${describeExports})(m) }))`
  return probe(['--input-type=module', '-e', code])
}

function requireProbe(name: string): Promise<Probe> {
  const code = `const name = ${JSON.stringify(name)}
const m = require(name)
import(name).then((ns) => {
  // require(esm) adds \`__esModule\` next to a default export; every real export must be the same object.
  const keys = Object.keys(m).filter((k) => k !== '__esModule')
  const sameAsImport = Object.keys(ns).every((k) => ns[k] === m[k]) && keys.length === Object.keys(ns).length
  process.stdout.write(JSON.stringify({ exports: (${describeExports})(m), sameAsImport }))
})`
  return probe(['-e', code])
}

/**
 * Some Node releases print "ExperimentalWarning: Support for loading ES Module in require() is an
 * experimental feature" on require(esm) (Node 20.20 printed nothing when this was written). It does
 * not stop loading, so it is tolerated and noted; anything else on stderr fails the test.
 */
function unexpectedStderr(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => !/ExperimentalWarning|--trace-warnings/.test(line))
}

test('there are publishable packages to check', () => {
  expect(packages.map((pkg) => pkg.name)).toContain('@bearer-guard/core')
})

describe.each(packages)('$name', (pkg) => {
  test('every `types` entry of the exports map exists on disk after build, and is packed', () => {
    const targets = typesTargets(pkg.manifest.exports)
    expect(targets, 'exports["."] must declare types').not.toHaveLength(0)
    for (const target of targets) {
      expect(existsSync(join(pkg.dir, target)), `${target} (did the build run?)`).toBe(true)
      expect(existsSync(join(consumer, 'node_modules', pkg.name, target)), `${target} packed`).toBe(
        true,
      )
    }
  })

  test('import and require() give the same non-empty exports, of the expected kinds', async () => {
    const [imported, required] = await Promise.all([importProbe(pkg.name), requireProbe(pkg.name)])

    expect(Object.keys(imported.exports).length).toBeGreaterThan(0)
    // require(esm) marks a module that has a default export with `__esModule` for CJS interop.
    const { __esModule: _interop, ...requiredExports } = required.exports
    expect(requiredExports).toEqual(imported.exports)
    // One module instance for both: no dual-package hazard (two BearerGuardError classes).
    expect(required.sameAsImport).toBe(true)
    expect(imported.exports).toMatchObject(KNOWN_EXPORTS[pkg.name] ?? {})

    expect(unexpectedStderr(imported.stderr)).toEqual([])
    expect(unexpectedStderr(required.stderr)).toEqual([])
    if (required.stderr.includes('ExperimentalWarning')) {
      console.info(`${pkg.name}: require() printed an ExperimentalWarning (expected on Node 20)`)
    }
  })

  // The types say what the code does, for TypeScript users on `module: nodenext` or `node20`, from
  // ESM (`import`) and from CJS (`import x = require()`, allowed for ES modules since TypeScript 5.8):
  // the package's types resolve and declare every runtime export. A CJS consumer on `module: node16`
  // gets TS1471 instead: that is the cost of ESM-only, and what attw reports as CJSResolvesToESM.
  test.each(['nodenext', 'node20'])(
    'types resolve for import and require (module: %s)',
    async (module) => {
      const { exports } = await importProbe(pkg.name)
      const uses = Object.keys(exports).map((name) => `void pkg.${name}`)
      const specifier = JSON.stringify(pkg.name)
      const project = join(consumer, 'types', pkg.name, module)
      await mkdir(project, { recursive: true })
      await writeFile(
        join(project, 'esm.mts'),
        [`import * as pkg from ${specifier}`, ...uses, ''].join('\n'),
      )
      await writeFile(
        join(project, 'cjs.cts'),
        [`import pkg = require(${specifier})`, ...uses, ''].join('\n'),
      )
      const compilerOptions = {
        module,
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
      }
      await writeFile(
        join(project, 'tsconfig.json'),
        JSON.stringify({ compilerOptions, files: ['esm.mts', 'cjs.cts'] }),
      )
      const tsc = join(installedDir(root, 'typescript')!, 'bin', 'tsc')
      const output = await run(process.execPath, [tsc, '-p', project, '--pretty', 'false'], {
        cwd: project,
        timeout: TIMEOUT_MS,
      }).then(
        ({ stdout }) => stdout,
        (error: unknown) => (error as { stdout?: string; message: string }).stdout ?? String(error),
      )
      expect(output).toBe('')
    },
  )
})
