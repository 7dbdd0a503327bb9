// Instructions per request, counted by valgrind's callgrind: a figure that stays the same however
// busy the machine is (wall-clock rates do not), for comparing two versions of the hot path.
//
//   node bench/instructions.mjs core|express|fastify [variant…]
//
// Each variant runs under `valgrind --tool=callgrind` twice, for N1 and N2 requests (after the same
// start-up and the same first requests); instructions per request are the difference divided by
// N2 - N1, so start-up, module loading and JIT warm-up cancel out. Servers are the variants of
// bench/variants.mjs (servers/variants/*.mjs), driven over 4 keep-alive connections by this
// process, which valgrind does not count; `core` is lib/instructions-core.mjs, one cached
// `verifyRequestCallback` per event-loop turn, as a server makes them. Every request carries the
// next of BENCH_INSTR_TOKENS distinct tokens (default 1,000; each is verified in the first
// requests of both runs, so only cached requests make up the difference).
//
// Needs valgrind (`apt-get install valgrind`). Not part of `npm run bench`: a group takes 5 to 20
// minutes. BENCH_INSTR_N1, BENCH_INSTR_N2 (default 2,000 and 7,000 requests; for core 20,000 and
// 60,000 calls), BENCH_INSTR_REPEATS (1) and BENCH_INSTR_NODE_FLAGS apply. Server processes running
// the same code differ, by a few percent for Express and by up to 15 % for Fastify (how V8
// compiles them, when it collects garbage): compare versions over several repeats
// (BENCH_INSTR_REPEATS=3) and look at every figure, not only the mean.
//
// Caveats: valgrind's CPU has no SHA extensions, so OpenSSL's SHA-256 (the token cache's key)
// runs in software here, ~22,000 instructions for a 750-character token where SHA-NI needs about
// 1,200. And a timer that fires every millisecond fires per request under valgrind (50 times
// slower than native), where a native server sees it once per 10 to 70 requests.
import { Buffer } from 'node:buffer'
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { createTestIssuer } from '@bearer-guard/testing'

const HERE = fileURLToPath(new URL('.', import.meta.url))
const env = process.env
const REPEATS = Number(env.BENCH_INSTR_REPEATS ?? 1)
const TOKENS = Number(env.BENCH_INSTR_TOKENS ?? 1000)
/** Extra Node.js flags for the measured process, e.g. `--no-memory-reducer`. */
const NODE_FLAGS = (env.BENCH_INSTR_NODE_FLAGS ?? '').split(' ').filter(Boolean)
const CONNECTIONS = 4

const server = (file, id, label) => ({ id, label, script: `${HERE}servers/variants/${file}.mjs` })
const GROUPS = {
  core: [
    {
      id: 'cached',
      label: 'core: cached verifyRequestCallback, one per event-loop turn',
      script: `${HERE}lib/instructions-core.mjs`,
    },
  ],
  express: [
    server('express', 'bare', 'bare Express'),
    server('express', 'core-verify', 'core verifyRequestCallback + authorize, result dropped'),
    server('express', 'core-verify-attach', 'the same, result set on req.auth'),
    server('express', 'adapter-in-memory-keys', '@bearer-guard/express, keys served from memory'),
    server('express', 'adapter', '@bearer-guard/express, keys over HTTP (the bench row)'),
  ],
  fastify: [
    server('fastify', 'bare', 'bare Fastify'),
    server('fastify', 'hook-empty', 'an empty onRequest hook on the route'),
    server('fastify', 'core-hook', 'core verifyRequestCallback + authorize in that hook'),
    server('fastify', 'plugin-in-memory-keys', '@bearer-guard/fastify, keys served from memory'),
    server('fastify', 'plugin', '@bearer-guard/fastify, keys over HTTP (the bench row)'),
  ],
}

const [groupName = 'core', ...only] = process.argv.slice(2)
const group = GROUPS[groupName]
if (group === undefined) {
  throw new TypeError('usage: node bench/instructions.mjs core|express|fastify [variant…]')
}
// The first N1 requests must take the code through its JIT tiers: a bare call does fewer things
// per request than a server, so it needs more of them.
const N1 = Number(env.BENCH_INSTR_N1 ?? (groupName === 'core' ? 20_000 : 2000))
const N2 = Number(env.BENCH_INSTR_N2 ?? (groupName === 'core' ? 60_000 : 7000))
try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' })
} catch {
  throw new Error('valgrind is needed: apt-get install -y valgrind')
}

/** Sends `count` GET /orders over keep-alive connections, each request after the last answer. */
function drive(port, headers, count) {
  let sent = 0
  let failed = 0
  const requests = headers.map((authorization) =>
    Buffer.from(
      `GET /orders HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: */*\r\nAuthorization: ${authorization}\r\n\r\n`,
    ),
  )
  const connection = () =>
    new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1')
      let buffer = ''
      const next = () => {
        if (sent === count) return void socket.end(resolve)
        socket.write(requests[sent++ % requests.length])
      }
      socket.setEncoding('latin1')
      socket.on('connect', next)
      socket.on('error', reject)
      socket.on('data', (chunk) => {
        buffer += chunk
        for (;;) {
          const end = buffer.indexOf('\r\n\r\n')
          if (end === -1) return
          const head = buffer.slice(0, end)
          const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0)
          if (buffer.length < end + 4 + length) return
          if (!head.startsWith('HTTP/1.1 200')) failed++
          buffer = buffer.slice(end + 4 + length)
          next()
        }
      })
    })
  return Promise.all(Array.from({ length: CONNECTIONS }, connection)).then(() => failed)
}

/** Runs one variant under callgrind for `count` requests; resolves with the instructions counted. */
function count(variant, context, requests) {
  return new Promise((resolve, reject) => {
    const args = [
      '--tool=callgrind',
      // V8 writes and rewrites machine code: valgrind must notice code changes off the stack too.
      '--smc-check=all-non-file',
      '--callgrind-out-file=/dev/null',
      process.execPath,
      ...NODE_FLAGS,
      variant.script,
    ]
    const child = spawn('valgrind', args, {
      env: { ...context.env, VARIANT: variant.id, BENCH_INSTR_REQUESTS: String(requests) },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    // A server reports its port (servers/shared.mjs `ready`) and leaves when told to; the core
    // script makes its calls and exits by itself.
    child.once('message', ({ port }) => {
      drive(port, context.headers, requests).then((failed) => {
        if (failed > 0) reject(new Error(`${variant.id}: ${failed} requests were not answered 200`))
        child.send('exit')
      }, reject)
    })
    child.once('exit', (code) => {
      const collected = /Collected : (\d+)/.exec(stderr)
      if (code !== 0 || collected === null) {
        reject(new Error(`${variant.id} exited with ${code}:\n${stderr.slice(-2000)}`))
      } else resolve(Number(collected[1]))
    })
  })
}

const issuer = await createTestIssuer({ algorithm: 'RS256', tokenLifetime: 3600 })
const cleanup = []
try {
  const tokens = await Promise.all(
    Array.from({ length: TOKENS }, () => issuer.mint({ scope: 'orders:read' })),
  )
  const documents = {}
  const discovery = `${issuer.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
  for (const url of [discovery, issuer.jwksUri]) {
    documents[url] = await (await fetch(url)).text()
  }
  // The tokens go through a file: a thousand of them are too long for one environment variable.
  const dir = mkdtempSync(`${os.tmpdir()}/bearer-guard-instructions-`)
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(`${dir}/tokens.json`, JSON.stringify(tokens))
  const inherited = { ...env }
  delete inherited.NODE_ENV
  const context = {
    headers: tokens.map((token) => `Bearer ${token}`),
    env: {
      ...inherited,
      BENCH_ISSUER: issuer.issuer,
      BENCH_JWKS_URI: issuer.jwksUri,
      BENCH_PUBLIC_KEY_PEM: issuer.activeKey.publicKeyPem,
      BENCH_DOCUMENTS: JSON.stringify(documents),
      BENCH_INSTR_TOKENS_FILE: `${dir}/tokens.json`,
    },
  }
  const rows = []
  for (const variant of group.filter((v) => only.length === 0 || only.includes(v.id))) {
    const perRequest = []
    for (let r = 0; r < REPEATS; r++) {
      const [a, b] = [await count(variant, context, N1), await count(variant, context, N2)]
      perRequest.push((b - a) / (N2 - N1))
      console.error(`${variant.id}: ${Math.round(perRequest.at(-1)).toLocaleString('en-US')}`)
    }
    rows.push({ ...variant, perRequest })
  }
  const [first] = rows
  const mean = (list) => list.reduce((sum, n) => sum + n, 0) / list.length
  console.log(
    `| ${groupName}: N1 ${N1}, N2 ${N2} requests | instructions per request | more than the first |`,
  )
  console.log('| --- | ---: | ---: |')
  for (const row of rows) {
    const value = mean(row.perRequest)
    const spread =
      row.perRequest.length > 1
        ? ` (${row.perRequest.map((n) => Math.round(n).toLocaleString('en-US')).join(', ')})`
        : ''
    const delta = row === first ? '' : Math.round(value - mean(first.perRequest))
    console.log(
      `| ${row.label} | ${Math.round(value).toLocaleString('en-US')}${spread} | ${delta.toLocaleString('en-US')} |`,
    )
  }
} finally {
  for (const step of cleanup) step()
  await issuer.close()
}
