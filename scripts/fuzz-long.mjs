#!/usr/bin/env node
// The long fuzzing run of issue 5: >= 100,000 random requests per adapter over real loopback
// HTTP, judged by the same oracle as test/fuzz.test.ts, with a summary table and
// test/FUZZ-RESULTS.md written at the end. Builds nothing: run `npm run build` first.
//
//     node scripts/fuzz-long.mjs [--runs 100000] [--seed N] [--concurrency 32] [--max-minutes 90]
//                                [--only express,fastify] [--no-write]
//
// The test helpers are TypeScript; they are loaded with Vite's module runner (Vite comes with
// Vitest), so the suite and this script share one implementation. Exits 1 on any violation.
import { cpus, loadavg, totalmem, platform, release, arch } from 'node:os'
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import prettier from 'prettier'
import { runnerImport } from 'vite'

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '20260501' },
    concurrency: { type: 'string', default: '32' },
    'max-minutes': { type: 'string', default: '90' },
    only: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
})
const runs = Number(args.runs)
const seed = Number(args.seed)
const concurrency = Number(args.concurrency)
const maxMinutes = Number(args['max-minutes'])
for (const [name, value] of Object.entries({ runs, seed, concurrency, maxMinutes })) {
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`--${name} must be a positive number`)
    process.exit(2)
  }
}

const root = resolve(import.meta.dirname, '..')
const load = async (path) => (await runnerImport(resolve(root, path))).module
const { examples } = await load('test/support/examples.ts')
const { startExample } = await load('test/support/process.ts')
const { createClient } = await load('test/support/hostile.ts')
const { ALL_SCOPES, anyCase, fuzzContext, runCampaign } = await load('test/support/fuzz-cases.ts')
const { createTestIssuer } = await import('@bearer-guard/testing')

const only = args.only?.split(',').map((s) => s.trim())
const selected = examples.filter((e) => only === undefined || only.includes(e.name))
const AUDIENCE = 'https://api.example.com'
const startedAt = new Date()
const loadBefore = loadavg()
const deadline = Date.now() + maxMinutes * 60_000

console.log(
  `fuzz-long: ${runs} cases x ${selected.length} adapters, seed ${seed}, ${concurrency} in flight, ` +
    `at most ${maxMinutes} min; load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
)

const results = []
let failed = false
for (const [index, example] of selected.entries()) {
  // Each adapter gets an equal share of what is left of the time budget.
  const adapterDeadline = Date.now() + (deadline - Date.now()) / (selected.length - index)
  const issuer = await createTestIssuer({ audience: AUDIENCE, tokenLifetime: 86_400 })
  let api
  try {
    api = await startExample(example.dir, { ...example.env, ISSUER: issuer.issuer, AUDIENCE })
    const client = createClient(api.url, concurrency)
    const context = fuzzContext(await issuer.mint({ scope: ALL_SCOPES }))
    const stats = await runCampaign({
      client,
      arbitrary: anyCase(context),
      original: context.token,
      total: runs,
      seed,
      concurrency,
      deadline: adapterDeadline,
      onProgress: (s) => {
        if (s.cases % 25_000 === 0) process.stdout.write(`  ${example.name}: ${s.cases} cases\n`)
      },
    })
    client.close()
    const exit = await api.stop()
    stats.cleanExit = exit.code === 0 && exit.signal === null
    stats.strayIssuerRequests = issuer.requests.other
    results.push({ name: example.name, stats })
    const bad =
      stats.serverErrors +
      stats.forgeries +
      stats.transportErrors +
      stats.problems.length +
      stats.strayIssuerRequests
    if (bad > 0 || stats.timedOut || stats.cases < runs || !stats.cleanExit) failed = true
    console.log(
      `${example.name}: ${stats.cases} cases in ${(stats.durationMs / 1000).toFixed(1)} s, ` +
        `5xx ${stats.serverErrors}, forgeries ${stats.forgeries}, problems ${stats.problems.length}`,
    )
    for (const p of stats.problems) {
      console.log(
        `  ${p.problem} <- ${p.case.method} ${p.case.path} ${JSON.stringify(p.case.authorization).slice(0, 300)}`,
      )
    }
  } catch (error) {
    failed = true
    console.error(`${example.name}: ${error instanceof Error ? error.stack : String(error)}`)
    if (api !== undefined) await api.stop().catch(() => undefined)
  } finally {
    await issuer.close()
  }
}
const loadAfter = loadavg()

const histogram = (statuses) =>
  Object.entries(statuses)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([status, count]) => `${status}: ${count}`)
    .join(', ')
const rows = results.map(({ name, stats: s }) => ({
  adapter: name,
  cases: s.cases,
  'header/mutation/structured': `${s.byKind.header}/${s.byKind.mutation}/${s.byKind.structured}`,
  statuses: histogram(s.statuses),
  '5xx': s.serverErrors,
  forgeries: s.forgeries,
  'original accepted': s.outcomes['accepted-original'],
  'transport errors': s.transportErrors,
  violations: s.problems.length,
  'duration s': (s.durationMs / 1000).toFixed(1),
  'req/s': Math.round(s.cases / (s.durationMs / 1000)),
}))
console.table(rows)

const cpu = cpus()
const machine = `${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${platform()} ${release()} ${arch()}`
const columns = Object.keys(rows[0] ?? { adapter: '' })
const table = [
  `| ${columns.join(' | ')} |`,
  `|${columns.map(() => '---').join('|')}|`,
  ...rows.map((row) => `| ${columns.map((c) => String(row[c])).join(' | ')} |`),
].join('\n')
const problems = results.flatMap(({ name, stats }) =>
  stats.problems.map(
    (p) =>
      `- ${name}: ${p.problem} (status ${p.status}) for \`${p.case.method} ${p.case.path}\` ` +
      `Authorization ${JSON.stringify(p.case.authorization).slice(0, 300)}`,
  ),
)
const verdict = failed ? 'FAILED' : 'PASSED'
const markdown = `# Long fuzzing run (issue 5)

Written by \`node scripts/fuzz-long.mjs --runs ${runs} --seed ${seed} --concurrency ${concurrency}\`
(do not edit by hand). The same seed draws the same cases; the valid token they mutate is
minted afresh by each run's issuer, so token bytes (not case shapes) differ between runs.

**Result: ${verdict}**. Passing means: no 5xx, no accepted forgery, no transport error, and every
refusal a CONTRACT.md refusal (400 \`invalid_request\` / 401 with a parsable \`WWW-Authenticate\`
and JSON body) exactly as the oracle in \`test/support/fuzz-cases.ts\` predicts from RFC 6750.

| | |
|---|---|
| date | ${startedAt.toISOString()} |
| Node.js | ${process.version} |
| machine | ${machine} |
| load average (1/5/15 min) before | ${loadBefore.map((l) => l.toFixed(2)).join(' / ')} |
| load average after | ${loadAfter.map((l) => l.toFixed(2)).join(' / ')} |
| seed | ${seed} (chunk *i* of 1000 cases uses seed + *i*) |
| cases per adapter | ${runs}, ${concurrency} in flight over one keep-alive agent |
| time budget | ${maxMinutes} min |

Cases mix three families (test/support/fuzz-cases.ts): arbitrary \`Authorization\` bytes
(\`header\`), mutations of one valid token (\`mutation\`), tokens built from random headers,
payloads and signatures (\`structured\`). "original accepted" counts the valid token coming back
unchanged from a mutation (it must be accepted); any other accepted token counts as a forgery.
A non-canonical base64url spelling of the valid signature, and a token framed by a no-break space,
are refused (both were accepted before core was fixed; see attacks.test.ts).

${table}

${problems.length === 0 ? 'No violations.' : `Violations (first 20 per adapter):\n\n${problems.join('\n')}`}
`
if (!args['no-write']) {
  const target = resolve(root, 'test/FUZZ-RESULTS.md')
  // Formatted as `prettier --check .` expects.
  const options = (await prettier.resolveConfig(target)) ?? {}
  writeFileSync(target, await prettier.format(markdown, { ...options, filepath: target }))
  console.log('wrote test/FUZZ-RESULTS.md')
}
console.log(verdict)
process.exit(failed ? 1 : 0)
