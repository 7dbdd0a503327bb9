// Checks what `npm publish` would ship, for every publishable package in packages/*: packs each one
// with `npm pack`, then lints the tarball with publint (--strict) and @arethetypeswrong/cli, and
// checks our own rules: the manifest's metadata (license, repository, homepage, bugs), a LICENSE
// and a README in the tarball, and README links that work on the registry's page. Run it after
// `npm run build`. Works offline and from any directory:
//
//   node scripts/check-packages.mjs              every non-private packages/*/package.json
//   node scripts/check-packages.mjs packages/core   only the given package folders
//
// Exits 1 on any real problem; expected findings are listed (with the reason) but do not fail.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const TIMEOUT_MS = 120_000

// attw profile "node16": every resolution mode a supported consumer can use (node16/nodenext from
// ESM and from CJS, bundler) must resolve to types and code. Only "node10" (TypeScript's legacy
// `moduleResolution: node`, which does not read `exports`) is left out; its findings are printed as
// notes. The "esm-only" profile would also drop node16-from-CJS, hiding a broken `require()` path.
const ATTW_PROFILE = 'node16'
const ATTW_IGNORED_RESOLUTIONS = new Set(['node10'])

// attw problem kinds that are expected for this repository, each with the reason. Nothing else is.
const ATTW_EXPECTED = new Map([
  [
    // Our packages are ESM-only on purpose (like jose 6). attw models Node before require(esm), so it
    // reports every `require('@bearer-guard/…')` as "ESM, dynamic import only". `engines` demands
    // Node >= 20.19, where require() of a synchronous ES module works without a flag, and
    // test/packaging/load.test.ts proves it for every built package. Ignore this class only.
    'CJSResolvesToESM',
    { rule: 'cjs-resolves-to-esm', why: 'ESM-only, require(esm) on Node >= 20.19' },
  ],
])

// The floor of `engines.node` that makes require(esm) a promise we can keep.
const MIN_NODE = [20, 19]

// Where the packages live: the registry page links there (`repository`, `homepage`, `bugs`), and a
// package README's links must be absolute URLs, because the registry renders it away from the
// repository (a relative `../core` link leads nowhere on npmjs.com).
const REPOSITORY = 'https://github.com/bearer-guard/bearer-guard'

async function publishablePackages(args) {
  const dirs = args.length
    ? args.map((arg) => resolve(arg))
    : (await readdir(join(root, 'packages'), { withFileTypes: true }))
        .filter((entry) => entry.isDirectory())
        .map((entry) => join(root, 'packages', entry.name))
  const found = []
  for (const dir of dirs) {
    const manifestPath = join(dir, 'package.json')
    if (!existsSync(manifestPath)) continue
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'))
    if (manifest.private === true) continue
    found.push({ dir, manifest })
  }
  return found.sort((a, b) => a.manifest.name.localeCompare(b.manifest.name))
}

/** Our own rules from STYLE.md (Packaging), which neither tool checks. */
function policyProblems(manifest, dir) {
  const problems = []
  problems.push(...metadataProblems(manifest, dir))
  if (manifest.type !== 'module') problems.push('"type" must be "module" (ESM-only packages)')
  const floor = /^>=\s*(\d+)\.(\d+)/.exec(manifest.engines?.node ?? '')
  const [major, minor] = floor ? [Number(floor[1]), Number(floor[2])] : [0, 0]
  if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
    problems.push(`engines.node must be ">=${MIN_NODE.join('.')}" or higher (require(esm))`)
  }
  const main = manifest.exports?.['.']
  if (typeof main !== 'object' || main === null || !main.types || !main.default) {
    problems.push('exports["."] must have "types" and "default" conditions')
  } else if (Object.keys(main)[0] !== 'types') {
    problems.push('exports["."].types must come first')
  }
  return problems
}

/** The registry page's metadata: license, and links back to this repository. */
function metadataProblems(manifest, dir) {
  const problems = []
  if (typeof manifest.license !== 'string' || manifest.license === '') {
    problems.push('"license" is missing')
  }
  const directory = relative(root, dir).split(sep).join('/')
  const { repository, homepage, bugs } = manifest
  if (typeof repository !== 'object' || repository === null) {
    problems.push(`"repository" must be { type: "git", url, directory: "${directory}" }`)
  } else {
    if (repository.url !== `git+${REPOSITORY}.git`) {
      problems.push(`"repository.url" must be "git+${REPOSITORY}.git"`)
    }
    if (repository.directory !== directory) {
      problems.push(`"repository.directory" must be "${directory}"`)
    }
  }
  if (typeof homepage !== 'string' || !homepage.startsWith(REPOSITORY)) {
    problems.push(`"homepage" must be a page of ${REPOSITORY}`)
  }
  const bugsUrl = typeof bugs === 'string' ? bugs : bugs?.url
  if (bugsUrl !== `${REPOSITORY}/issues`) problems.push(`"bugs.url" must be "${REPOSITORY}/issues"`)
  return problems
}

/** Link targets of a Markdown text, outside code: `[text](target)`, `[ref]: target`, HTML. */
function markdownLinks(markdown) {
  const prose = markdown
    .replace(/^( {0,3})(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1\2[^\n]*$/gm, '')
    .replace(/`[^`\n]*`/g, '')
  const targets = []
  for (const match of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    targets.push(match[1])
  }
  for (const match of prose.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) {
    targets.push(match[1])
  }
  for (const match of prose.matchAll(/\b(?:href|src)\s*=\s*["']([^"']+)["']/gi)) {
    targets.push(match[1])
  }
  return targets
}

/** What the tarball must hold besides code, and a README whose links work on the registry. */
async function contentProblems(packed, dir) {
  const problems = []
  const files = new Set((packed.files ?? []).map((file) => file.path))
  if (![...files].some((path) => /^licen[cs]e(\.|$)/i.test(path))) {
    problems.push('no LICENSE file in the tarball')
  }
  if (!files.has('README.md')) {
    problems.push('no README.md in the tarball')
    return problems
  }
  const readme = await readFile(join(dir, 'README.md'), 'utf8')
  const relativeLinks = markdownLinks(readme).filter(
    (target) => !/^(?:[a-z][a-z0-9+.-]*:|#)/i.test(target),
  )
  for (const target of new Set(relativeLinks)) {
    problems.push(`README.md links to "${target}": use an absolute ${REPOSITORY}/blob/main/… URL`)
  }
  return problems
}

async function pack(dir, destination) {
  const { stdout } = await run(
    'npm',
    ['pack', '--json', '--pack-destination', destination, '--offline'],
    { cwd: dir, timeout: TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
  )
  // Lifecycle scripts (prepack) may print before the JSON array.
  const [info] = JSON.parse(stdout.slice(stdout.indexOf('[')))
  return { ...info, tarball: join(destination, info.filename) }
}

async function runPublint(tarball) {
  const bytes = await readFile(tarball)
  const { messages, pkg } = await publint({
    pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) },
    strict: true,
  })
  const describe = (message) => `${message.code}: ${formatMessage(message, pkg, { color: false })}`
  return {
    // --strict turns warnings into errors; suggestions stay advice.
    errors: messages.filter((message) => message.type === 'error').map(describe),
    notes: messages.filter((message) => message.type !== 'error').map(describe),
  }
}

/** Where an attw problem is, from whichever of its location fields it carries. */
function describeProblem(problem) {
  const file = (path) => path?.replace(/^\/node_modules\/(@[^/]+\/)?[^/]+\//, '')
  const fields = [
    problem.entrypoint,
    problem.resolutionKind,
    file(problem.fileName),
    problem.moduleSpecifier && `imports "${problem.moduleSpecifier}"`,
    problem.typesFileName && `types ${file(problem.typesFileName)}`,
    problem.implementationFileName && `code ${file(problem.implementationFileName)}`,
  ]
  return fields.filter(Boolean).join(', ')
}

async function runAttw(tarball) {
  const args = ['--no-install', 'attw', tarball, '--format', 'json', '--profile', ATTW_PROFILE]
  args.push('--ignore-rules', ...[...ATTW_EXPECTED.values()].map((expected) => expected.rule))
  let stdout
  let exitCode = 0
  try {
    ;({ stdout } = await run('npx', args, {
      cwd: root,
      timeout: TIMEOUT_MS,
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, FORCE_COLOR: '0' },
    }))
  } catch (error) {
    // attw exits 1 when it reports problems; anything without a JSON report is a crash.
    if (!error.stdout?.trimStart().startsWith('{')) throw error
    stdout = error.stdout
    exitCode = error.code
  }
  const { analysis } = JSON.parse(stdout)
  const errors = []
  const expected = []
  const notes = []
  // attw exits 0 for a package without types: for us that is the worst failure.
  if (!analysis.types) errors.push('no types found in the package')
  else if (analysis.types.kind !== 'included') errors.push(`types come from ${analysis.types.kind}`)
  for (const problem of analysis.problems ?? []) {
    const line = `${problem.kind} (${describeProblem(problem)})`
    if (ATTW_IGNORED_RESOLUTIONS.has(problem.resolutionKind)) notes.push(`${line}: not supported`)
    else if (ATTW_EXPECTED.has(problem.kind)) expected.push(line)
    else errors.push(line)
  }
  // Our reading and attw's own verdict (same profile and ignored rules) must agree.
  if (exitCode !== 0 && errors.length === 0) errors.push(`attw exited ${exitCode}`)
  return { errors, expected, notes }
}

async function check({ dir, manifest }, destination) {
  const row = { name: manifest.name, version: manifest.version, errors: [], notes: [] }
  row.policy = policyProblems(manifest, dir)
  try {
    const packed = await pack(dir, destination)
    row.files = packed.entryCount
    row.size = packed.size
    row.policy.push(...(await contentProblems(packed, dir)))
    const [lint, types] = await Promise.all([runPublint(packed.tarball), runAttw(packed.tarball)])
    row.publint = lint
    row.attw = types
    row.errors.push(...lint.errors.map((line) => `publint: ${line}`))
    row.errors.push(...types.errors.map((line) => `attw: ${line}`))
    row.notes.push(...lint.notes.map((line) => `publint (advice): ${line}`))
    row.notes.push(...types.expected.map((line) => `attw (expected): ${line}`))
    row.notes.push(...types.notes.map((line) => `attw (${ATTW_PROFILE} profile, ignored): ${line}`))
  } catch (error) {
    const detail = [error.message, error.stderr].filter(Boolean).join('\n')
    row.errors.push(`crashed: ${detail.trim()}`)
  }
  row.errors.unshift(...row.policy.map((problem) => `policy: ${problem}`))
  return row
}

function verdict(errors, expected = []) {
  if (errors === undefined) return '-'
  if (errors.length) return `FAIL (${errors.length})`
  return expected.length ? `ok (${expected.length} expected)` : 'ok'
}

function printTable(rows) {
  const header = ['package', 'version', 'files', 'packed', 'policy', 'publint', 'attw', 'result']
  const body = rows.map((row) => [
    row.name,
    row.version,
    String(row.files ?? '-'),
    row.size === undefined ? '-' : `${(row.size / 1024).toFixed(1)} kB`,
    verdict(row.policy),
    verdict(row.publint?.errors),
    verdict(row.attw?.errors, row.attw?.expected),
    row.errors.length ? 'FAIL' : 'ok',
  ])
  const widths = header.map((cell, i) =>
    Math.max(cell.length, ...body.map((line) => line[i].length)),
  )
  const format = (line) =>
    line
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd()
  console.log(format(header))
  console.log(format(widths.map((width) => '-'.repeat(width))))
  for (const line of body) console.log(format(line))
  for (const row of rows) {
    if (!row.errors.length && !row.notes.length) continue
    console.log(`\n${row.name}`)
    for (const line of row.errors) console.log(`  ✗ ${line}`)
    for (const line of row.notes) console.log(`  · ${line}`)
  }
}

const packages = await publishablePackages(process.argv.slice(2))
if (packages.length === 0) {
  console.error(`check-packages: no publishable package found under ${join(root, 'packages')}`)
  process.exit(1)
}
const destination = await mkdtemp(join(tmpdir(), 'bearer-guard-pack-'))
try {
  const rows = await Promise.all(packages.map((pkg) => check(pkg, destination)))
  console.log(
    `check-packages: ${rows.length} package(s) in ${root}, ` +
      `publint --strict, attw --profile ${ATTW_PROFILE}\n`,
  )
  printTable(rows)
  const failed = rows.filter((row) => row.errors.length)
  if (failed.some((row) => row.errors.some((line) => line.includes('FILE_DOES_NOT_EXIST')))) {
    console.log(
      '\nA file in the export map is missing from the tarball: run `npm run build` first.',
    )
  }
  if (failed.length) {
    console.log(`\n${failed.length} package(s) with problems.`)
    process.exitCode = 1
  } else {
    console.log(`\nAll ${rows.length} package(s) ok.`)
  }
} finally {
  await rm(destination, { recursive: true, force: true })
}
