/**
 * Every ```ts (or ```typescript) snippet of README.md and packages/*\/README.md compiles, as
 * written, under `strict` (tsconfig.snippets.json), against the built packages: a user who copies
 * one gets no implicit `any`, no missing property, no wrong option name.
 *
 * How a snippet is compiled:
 * - As its own ES module (`.mts`; `.cts`, CommonJS, after a `<!-- snippet: cjs -->` line), so
 *   top-level `await` works and snippets do not collide.
 * - With the imports of the earlier snippets of the same README carried over (appended after it;
 *   imports are hoisted), minus the names the snippet declares itself: a README is read top to
 *   bottom, and a snippet may continue the previous one.
 * - With the README's preamble (preambles.ts): global declarations of the application's own names
 *   (`listOrders`, `issuer`…) and of what earlier snippets created (`app`), and stand-ins for the
 *   `@types/…` of untyped modules the README tells users to install.
 * - All snippets of one README in one program (a claims augmentation in one applies to all), each
 *   README in its own, resolving packages from the repository root like an application would
 *   (`@bearer-guard/*` are the workspace packages: run `npm run build` first).
 *
 * A failure names the README line and column: fix the README, not this test.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { beforeAll, describe, expect, test } from 'vitest'
import { moduleStubs, preambles } from './preambles.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const here = dirname(fileURLToPath(import.meta.url))

/** Where the snippets pretend to live: an application folder at the repository root. */
const virtualRoot = join(root, '.readme-snippets')

interface Snippet {
  /** 1-based line of the opening fence in the README. */
  readonly line: number
  readonly code: string
  readonly format: 'esm' | 'cjs'
}

interface Readme {
  /** Relative to the repository root, with `/`. */
  readonly path: string
  readonly snippets: readonly Snippet[]
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/
const TS_LANGUAGES = new Set(['ts', 'typescript'])
const DIRECTIVE = /^<!--\s*snippet:\s*(\S+)\s*-->$/

/** The TypeScript code blocks of a Markdown text, with their lines and directives. */
function extractSnippets(markdown: string): Snippet[] {
  const lines = markdown.split('\n')
  const snippets: Snippet[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '')
    if (!open) continue
    const [, indent = '', fence = '```', language = ''] = open
    const body: string[] = []
    let j = i + 1
    for (; j < lines.length; j++) {
      const line = lines[j] ?? ''
      const [, , closing = '', info = ''] = FENCE.exec(line) ?? []
      if (closing.startsWith(fence.charAt(0)) && closing.length >= fence.length && info === '')
        break
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line)
    }
    if (TS_LANGUAGES.has(language.toLowerCase())) {
      let previous = i - 1
      while (previous >= 0 && (lines[previous] ?? '').trim() === '') previous--
      const directive = DIRECTIVE.exec((lines[previous] ?? '').trim())?.[1]
      if (directive !== undefined && directive !== 'cjs') {
        throw new Error(`unknown snippet directive '${directive}' before line ${i + 1}`)
      }
      snippets.push({
        line: i + 1,
        code: body.join('\n'),
        format: directive === 'cjs' ? 'cjs' : 'esm',
      })
    }
    i = j
  }
  return snippets
}

function readmes(): Readme[] {
  const paths = [
    'README.md',
    ...readdirSync(join(root, 'packages'), { withFileTypes: true })
      .filter(
        (entry) =>
          entry.isDirectory() && existsSync(join(root, 'packages', entry.name, 'README.md')),
      )
      .map((entry) => `packages/${entry.name}/README.md`)
      .sort(),
  ]
  return paths.map((path) => ({
    path,
    snippets: extractSnippets(readFileSync(join(root, path), 'utf8')),
  }))
}

/** Names a snippet declares at its top level (imports included). */
function declaredNames(source: ts.SourceFile): Set<string> {
  const names = new Set<string>()
  const bind = (name: ts.BindingName): void => {
    if (ts.isIdentifier(name)) names.add(name.text)
    else
      for (const element of name.elements) if (!ts.isOmittedExpression(element)) bind(element.name)
  }
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause
      if (clause?.name) names.add(clause.name.text)
      const bindings = clause?.namedBindings
      if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text)
      if (bindings && ts.isNamedImports(bindings))
        for (const e of bindings.elements) names.add(e.name.text)
    } else if (ts.isImportEqualsDeclaration(statement)) {
      names.add(statement.name.text)
    } else if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) bind(declaration.name)
    } else if (
      (ts.isFunctionDeclaration(statement) ||
        ts.isClassDeclaration(statement) ||
        ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) ||
        ts.isEnumDeclaration(statement)) &&
      statement.name
    ) {
      names.add(statement.name.text)
    }
  }
  return names
}

/** Each import of a snippet, one line per imported name, keyed by that name. */
function importLines(source: ts.SourceFile): Map<string, string> {
  const lines = new Map<string, string>()
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !statement.importClause) continue
    const from = statement.moduleSpecifier.getText(source)
    const clause = statement.importClause
    const typeOnly = clause.phaseModifier === ts.SyntaxKind.TypeKeyword
    const type = typeOnly ? 'type ' : ''
    if (clause.name) lines.set(clause.name.text, `import ${type}${clause.name.text} from ${from}`)
    const bindings = clause.namedBindings
    if (bindings && ts.isNamespaceImport(bindings)) {
      lines.set(bindings.name.text, `import ${type}* as ${bindings.name.text} from ${from}`)
    } else if (bindings) {
      for (const element of bindings.elements) {
        const spec = element.propertyName
          ? `${element.propertyName.getText(source)} as ${element.name.text}`
          : element.name.text
        const elementType = typeOnly || element.isTypeOnly ? 'type ' : ''
        lines.set(element.name.text, `import { ${elementType}${spec} } from ${from}`)
      }
    }
  }
  return lines
}

function compilerOptions(): ts.CompilerOptions {
  const configPath = join(here, 'tsconfig.snippets.json')
  const { config, error } = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path))
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'))
  const raw = (config as { compilerOptions?: unknown }).compilerOptions
  const { options, errors } = ts.convertCompilerOptionsFromJson(raw, here, configPath)
  if (errors.length) {
    throw new Error(
      errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, '\n')).join('\n'),
    )
  }
  return options
}

const options = compilerOptions()
// Parsed library and @types files, shared by every README's program (same options for all).
const sourceFileCache = new Map<string, ts.SourceFile | undefined>()

interface VirtualFile {
  readonly text: string
  /** Lines of the README code in this file (the rest are carried-over imports). */
  readonly ownLines: number
  readonly snippet?: Snippet
}

/** Compiles one README's snippets; the diagnostics of each virtual file, as README locations. */
function compile(readme: Readme): Map<string, string[]> {
  const folder = join(virtualRoot, readme.path.replaceAll('/', '__'))
  const files = new Map<string, VirtualFile>()
  const preambleText = preambles[readme.path] ?? 'export {}'
  const preamblePath = join(folder, 'preamble.mts')
  files.set(preamblePath, { text: preambleText, ownLines: preambleText.split('\n').length })
  const stubs = moduleStubs[readme.path]
  if (stubs !== undefined) files.set(join(folder, 'modules.d.ts'), { text: stubs, ownLines: 0 })

  const carried = new Map<string, string>()
  for (const snippet of readme.snippets) {
    const source = ts.createSourceFile('snippet.mts', snippet.code, ts.ScriptTarget.Latest, true)
    const own = declaredNames(source)
    const extra = [...carried].filter(([name]) => !own.has(name)).map(([, line]) => line)
    const extension = snippet.format === 'cjs' ? 'cts' : 'mts'
    const path = join(folder, `line-${snippet.line}.${extension}`)
    const text = [snippet.code, ...extra, snippet.format === 'esm' ? 'export {}' : ''].join('\n')
    files.set(path, { text, ownLines: snippet.code.split('\n').length, snippet })
    for (const [name, line] of importLines(source)) if (!carried.has(name)) carried.set(name, line)
  }

  const host = ts.createCompilerHost(options, true)
  const realGetSourceFile = host.getSourceFile.bind(host)
  host.getCurrentDirectory = () => root
  host.fileExists = (path) => files.has(path) || ts.sys.fileExists(path)
  host.readFile = (path) => files.get(path)?.text ?? ts.sys.readFile(path)
  host.directoryExists = (path) =>
    path === folder || path === virtualRoot || ts.sys.directoryExists(path)
  host.getSourceFile = (path, languageVersion, onError, shouldCreate) => {
    const file = files.get(path)
    if (file !== undefined) return ts.createSourceFile(path, file.text, languageVersion, true)
    const format =
      typeof languageVersion === 'object' ? languageVersion.impliedNodeFormat : undefined
    const key = `${path}\0${String(format)}`
    if (!sourceFileCache.has(key)) {
      sourceFileCache.set(key, realGetSourceFile(path, languageVersion, onError, shouldCreate))
    }
    return sourceFileCache.get(key)
  }

  const rootNames = [...files.keys()]
  const program = ts.createProgram({ rootNames, options, host })
  const found = new Map<string, string[]>(rootNames.map((path) => [path, []]))
  const general: string[] = []
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...rootNames.flatMap((path) => {
      const source = program.getSourceFile(path)
      return source ? ts.getPreEmitDiagnostics(program, source) : []
    }),
  ]
  const seen = new Set<string>()
  for (const diagnostic of diagnostics) {
    const message = `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`
    const path = diagnostic.file?.fileName
    const file = path === undefined ? undefined : files.get(path)
    if (path === undefined || file === undefined || diagnostic.start === undefined) {
      const line = path === undefined ? message : `${path}: ${message}`
      if (!seen.has(line)) general.push(line)
      seen.add(line)
      continue
    }
    const { line, character } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start)
    let where: string
    if (file.snippet === undefined)
      where = `${readme.path} preamble (test/docs/preambles.ts), line ${line + 1}`
    else if (line < file.ownLines)
      where = `${readme.path}:${file.snippet.line + 1 + line}:${character + 1}`
    else where = `${readme.path}:${file.snippet.line} (imports carried over from earlier snippets)`
    const entry = `${where} ${message}`
    if (seen.has(`${path}\0${entry}`)) continue
    seen.add(`${path}\0${entry}`)
    found.get(path)?.push(entry)
  }
  found.get(preamblePath)?.push(...general)
  return new Map(
    [...found].map(([path, list]) => [path === preamblePath ? 'preamble' : path, list]),
  )
}

const all = readmes()

test('a snippet with an implicit any fails (the Express error handler as the README once had it)', () => {
  const markdown = [
    '```ts',
    "import express from 'express'",
    "import { bearerGuard, isBearerGuardError } from '@bearer-guard/express'",
    '',
    'const app = express()',
    "app.use(bearerGuard({ issuer, audience, errors: 'next' }))",
    'app.use((err, req, res, next) => {',
    '  if (!isBearerGuardError(err)) return next(err)',
    '  res.status(err.status).set(err.headers).json(err.body)',
    '})',
    '```',
  ].join('\n')
  const found = compile({ path: 'packages/express/README.md', snippets: extractSnippets(markdown) })
  expect([...found.values()].flat()).toContain(
    "packages/express/README.md:7:10 TS7006: Parameter 'err' implicitly has an 'any' type.",
  )
}, 120_000)

test('the root README and every package README have TypeScript snippets to check', () => {
  for (const readme of all) expect(readme.snippets.length, readme.path).toBeGreaterThan(0)
  expect(Object.keys(preambles).sort()).toEqual(all.map((readme) => readme.path).sort())
})

test('a snippet after <!-- snippet: cjs --> is compiled as CommonJS', () => {
  const markdown = [
    '<!-- snippet: cjs -->',
    '',
    '```ts',
    "import { createAccessTokenValidator } from '@bearer-guard/core'",
    'export = createAccessTokenValidator',
    '```',
  ].join('\n')
  const snippets = extractSnippets(markdown)
  expect(snippets).toMatchObject([{ line: 3, format: 'cjs' }])
  const found = compile({ path: 'packages/core/README.md', snippets })
  expect([...found.values()].flat()).toEqual([])
}, 120_000)

describe.each(all)('$path', (readme) => {
  let diagnostics = new Map<string, string[]>()
  const folder = join(virtualRoot, readme.path.replaceAll('/', '__'))

  beforeAll(() => {
    diagnostics = compile(readme)
  }, 120_000)

  test('its preamble (test/docs/preambles.ts) compiles', () => {
    expect(diagnostics.get('preamble')).toEqual([])
  })

  test.each(
    readme.snippets.map((snippet) => ({ ...snippet, where: `${readme.path}:${snippet.line}` })),
  )('the snippet at $where compiles under strict', (snippet) => {
    const extension = snippet.format === 'cjs' ? 'cts' : 'mts'
    expect(diagnostics.get(join(folder, `line-${snippet.line}.${extension}`))).toEqual([])
  })
})
