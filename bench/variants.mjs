// Where does the time go between a bare framework and the same framework with bearer-guard?
// Measures small server variants (servers/variants/*.mjs) the way run.mjs measures its rows:
// interleaved runs, a fresh server process for each, 1 token and 1,000 rotating tokens. Prints a
// table of req/s and the ratio to the first variant. The figures back bench/ANALYSIS.md; this is
// not part of `npm run bench`.
//
//   node bench/variants.mjs fastify|express
//
// Loopback only. BENCH_HTTP_RUNS, BENCH_HTTP_SECONDS and BENCH_HTTP_WARMUP_S apply, as in run.mjs;
// with the defaults a group takes about 3 minutes.
import { createTestIssuer } from '@bearer-guard/testing'
import { median, settings } from './lib/common.mjs'
import { benchFramework, children } from './lib/http.mjs'

const variant = (file, id, label, open = false) => ({
  id,
  label,
  file: `variants/${file}`,
  env: { VARIANT: id },
  open,
})

const GROUPS = {
  fastify: {
    label: 'Fastify 5 variants',
    variants: [
      variant('fastify', 'bare', 'bare Fastify (the baseline)', true),
      variant('fastify', 'outbound-fetch', 'bare, after one outbound GET with fetch', true),
      variant('fastify', 'hook-empty', 'an empty callback onRequest hook on the route', true),
      variant('fastify', 'core-hook', 'core verifyRequestCallback + authorize in that hook'),
      variant(
        'fastify',
        'core-hook-after-boot',
        'the same, route declared after `await app.after()`',
      ),
      variant('fastify', 'plugin-in-memory-keys', '@bearer-guard/fastify, keys served from memory'),
      variant('fastify', 'plugin', '@bearer-guard/fastify, keys over HTTP (the bench row)'),
    ],
  },
  express: {
    label: 'Express 5 variants',
    variants: [
      variant('express', 'bare', 'bare Express (the baseline)', true),
      variant('express', 'outbound-fetch', 'bare, after one outbound GET with fetch', true),
      variant('express', 'core-verify', 'core verifyRequestCallback + authorize, result dropped'),
      variant('express', 'core-verify-attach', 'the same, result set on req.auth'),
      variant(
        'express',
        'adapter-in-memory-keys',
        '@bearer-guard/express, keys served from memory',
      ),
      variant('express', 'adapter', '@bearer-guard/express, keys over HTTP (the bench row)'),
    ],
  },
}

const group = GROUPS[process.argv[2] ?? 'fastify']
if (group === undefined) throw new TypeError('usage: node bench/variants.mjs fastify|express')

const issuer = await createTestIssuer({ algorithm: 'RS256', tokenLifetime: 3600 })
try {
  const mint = (scope) => issuer.mint({ scope })
  const tokens = {
    good: await mint('orders:read'),
    noScope: await mint('orders:write'),
    rotating: await Promise.all(
      Array.from({ length: settings.http.rotatingTokens }, () => mint('orders:read')),
    ),
  }
  // Discovery and JWKS fetched here, once, for the variants that must make no outbound request.
  const documents = {}
  const discovery = `${issuer.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
  for (const url of [discovery, issuer.jwksUri]) {
    documents[url] = await (await fetch(url)).text()
  }
  for (const v of group.variants) v.env.BENCH_DOCUMENTS = JSON.stringify(documents)

  const result = await benchFramework(group, issuer, tokens, (line) => console.error(line))
  const [base] = result.rows
  // As in RESULTS.md: the median of the per-run ratios (run i of a row against run i of the first).
  const ratio = (row, mode) =>
    median(row[mode].samples.map((rps, i) => rps / base[mode].samples[i])).toFixed(2)
  const cpu = (row) =>
    row.rotating.cpu === undefined
      ? 'n/a'
      : `${(row.rotating.cpu.user + row.rotating.cpu.system).toFixed(1)} (${row.rotating.cpu.user.toFixed(1)} + ${row.rotating.cpu.system.toFixed(1)})`
  console.log(
    `| ${group.label} | 1 token: req/s | × first | 1,000 tokens: req/s | × first | server CPU µs/request (user + system), 1,000 tokens |`,
  )
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |')
  for (const row of result.rows) {
    const cells = ['single', 'rotating'].flatMap((mode) => [
      Math.round(row[mode].rps).toLocaleString('en-US'),
      `${ratio(row, mode)}×`,
    ])
    console.log(`| ${row.label} | ${cells.join(' | ')} | ${cpu(row)} |`)
  }
} finally {
  for (const child of children) child.kill()
  await issuer.close()
}
