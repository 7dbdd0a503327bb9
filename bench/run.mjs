// bearer-guard benchmarks: microbenchmarks, HTTP load, cold stampede and memory, in one run, so
// that ratios compare candidates under the same conditions. `npm run bench` at the repository root
// builds the packages and runs this file. See README.md for the knobs (BENCH_QUICK=1, BENCH_ONLY…).
//
// Loopback only: the test issuer (@bearer-guard/testing) listens on 127.0.0.1, so do the servers.
import { fork } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { createTestIssuer } from '@bearer-guard/testing'
import { phaseEnabled, settings, tokenCacheSupported } from './lib/common.mjs'
import { benchDpopHttp } from './lib/dpop.mjs'
import { FRAMEWORKS, benchFramework, children } from './lib/http.mjs'
import { renderChart, renderMarkdown } from './lib/report.mjs'
import { STAMPEDE_SERVERS, stampede, summarizeStampede } from './lib/stampede.mjs'

const HERE = fileURLToPath(new URL('.', import.meta.url))
const started = Date.now()
const elapsed = () => ((Date.now() - started) / 1000).toFixed(0).padStart(4)
const log = (message) => console.log(`[${elapsed()} s] ${message}`)

// A full default run writes bench/RESULTS.md and bench/chart.svg; quick or partial runs write to
// bench/results/ (ignored by git) so they never replace the published figures by accident.
const publish =
  process.env.BENCH_PUBLISH === '1' ||
  (!settings.quick && settings.only.length === 0 && !process.env.BENCH_PUBLISH)
const outDir = publish ? HERE : `${HERE}results/`

const results = {
  meta: {
    date: new Date().toISOString(),
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: os.availableParallelism(),
    memoryGiB: os.totalmem() / 2 ** 30,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.versions.node,
    loadAverage: os
      .loadavg()
      .map((n) => n.toFixed(2))
      .join(', '),
    tokenCacheSupported,
    http: settings.http,
    settings: `${settings.quick ? 'BENCH_QUICK=1, ' : ''}${settings.only.length > 0 ? `BENCH_ONLY=${settings.only.join(',')}, ` : ''}micro ${settings.micro.rounds}×${settings.micro.roundMs} ms, HTTP ${settings.http.runs}×${settings.http.seconds} s, ${settings.http.connections} connections`,
    seconds: 0,
  },
}

function write() {
  results.meta.seconds = (Date.now() - started) / 1000
  mkdirSync(`${HERE}results`, { recursive: true })
  writeFileSync(`${HERE}results/latest.json`, `${JSON.stringify(results, null, 2)}\n`)
  writeFileSync(`${outDir}RESULTS.md`, renderMarkdown(results))
  writeFileSync(`${outDir}chart.svg`, renderChart(results))
  log(`wrote ${outDir}RESULTS.md and ${outDir}chart.svg`)
}

function killChildren() {
  for (const child of children) child.kill()
  children.clear()
}

/** Runs lib/<name>.mjs in a child process; resolves with what it sends. */
function runChild(name, execArgv = []) {
  return new Promise((resolve, reject) => {
    const child = fork(`${HERE}lib/${name}.mjs`, { execArgv })
    children.add(child)
    child.once('message', (message) => {
      if (message.ok) resolve(message.result)
      else reject(new Error(`${name}: ${message.error}`))
    })
    child.once('exit', (code) => {
      children.delete(child)
      reject(new Error(`${name} exited (${code}) without a result`))
    })
  })
}

// The global time bound: past it, whatever was measured is written, marked incomplete.
const deadline = setTimeout(() => {
  log(`time limit of ${settings.deadlineSeconds} s reached; writing partial results`)
  results.incomplete = true
  killChildren()
  write()
  process.exit(1)
}, settings.deadlineSeconds * 1000)
deadline.unref()

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killChildren()
    process.exit(130)
  })
}

async function main() {
  log(
    `${results.meta.cpu}, ${results.meta.cores} cores, Node ${results.meta.node}, load ${results.meta.loadAverage}`,
  )
  if (phaseEnabled('micro')) {
    log('microbenchmarks…')
    results.micro = await runChild('micro')
    log(`microbenchmarks done (${Math.round(results.micro.seconds)} s)`)
  }
  if (phaseEnabled('http')) {
    const issuer = await createTestIssuer({ algorithm: 'RS256', tokenLifetime: 3600 })
    try {
      const mint = () => issuer.mint({ scope: 'orders:read' })
      const tokens = {
        good: await mint(),
        noScope: await issuer.mint({ scope: 'orders:write' }),
        rotating: await Promise.all(Array.from({ length: settings.http.rotatingTokens }, mint)),
      }
      results.http = {}
      for (const name of settings.http.frameworks) {
        if (FRAMEWORKS[name] === undefined) throw new Error(`unknown framework ${name}`)
        log(`HTTP ${FRAMEWORKS[name].label}…`)
        results.http[name] = await benchFramework(FRAMEWORKS[name], issuer, tokens, log)
      }
    } finally {
      await issuer.close()
    }
  }
  if (phaseEnabled('stampede')) {
    log('cold stampede…')
    // Each server is stampeded `repeats` times (a fresh server and issuer every time), the
    // servers taking turns; the median p50/p99 is kept, and the IdP counts of every repetition.
    const runs = STAMPEDE_SERVERS.map(() => [])
    for (let r = 0; r < settings.stampede.repeats; r++) {
      for (const [i, server] of STAMPEDE_SERVERS.entries()) runs[i].push(await stampede(server))
    }
    results.stampede = STAMPEDE_SERVERS.map((server, i) => summarizeStampede(server, runs[i]))
  }
  if (phaseEnabled('memory')) {
    log('memory…')
    results.memory = await runChild('memory', ['--expose-gc'])
  }
  if (phaseEnabled('dpop')) {
    log('DPoP microbenchmarks…')
    results.dpop = { micro: await runChild('dpop', ['--expose-gc']) }
    log(`DPoP microbenchmarks done (${Math.round(results.dpop.micro.seconds)} s); DPoP over HTTP…`)
    results.dpop.http = await benchDpopHttp(log)
  }
  write()
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    killChildren()
    process.exit(1)
  },
)
