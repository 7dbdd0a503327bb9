// Turns the results of run.mjs into RESULTS.md (tables, ratios, targets) and chart.svg.

const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a')
import { median } from './common.mjs'

const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : Number.NaN)
/**
 * The ratio of two rows measured in the same rounds: the median of the per-round ratios, which
 * cancels slow drifts of the machine's speed better than a ratio of medians.
 */
const paired = (a, b) =>
  a === undefined || b === undefined
    ? Number.NaN
    : median(a.samples.map((value, i) => ratio(value, b.samples[i])))
const x = (r) => (Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a')
const ms = (n) => (Number.isFinite(n) ? `${n < 10 ? n.toFixed(1) : Math.round(n)} ms` : 'n/a')
const yes = (ok) =>
  ok === undefined ? 'n/a' : ok === null ? 'measured' : ok ? '**met**' : '**not met**'

const MICRO_ORDER = [
  'crypto',
  'floor',
  'core-off',
  'core-miss',
  'core-hit',
  'core-hit-introspected',
  'jose',
  'fast-jwt',
  'fast-jwt-miss',
  'fast-jwt-hit',
]
const MODES = [
  ['single', '1 token'],
  ['rotating', '1,000 rotating tokens'],
]

function microTable(micro) {
  const algs = [...new Set(micro.results.map((r) => r.alg))]
  const get = (id, alg) => micro.results.find((r) => r.id === id && r.alg === alg)
  const lines = [
    `| Candidate | ${algs.join(' | ')} |`,
    `| --- | ${algs.map(() => '---:').join(' | ')} |`,
  ]
  for (const id of MICRO_ORDER) {
    const first = micro.results.find((r) => r.id === id)
    if (first === undefined) continue
    const cells = algs.map((alg) => {
      const row = get(id, alg)
      const floor = get('floor', alg)
      return row === undefined ? 'n/a' : `${int(row.opsPerSecond)} (${x(paired(row, floor))})`
    })
    lines.push(`| ${first.label} | ${cells.join(' | ')} |`)
  }
  return lines.join('\n')
}

function httpTable(framework) {
  const bare = framework.rows.find((r) => r.id === 'bare')
  const lines = [
    `| ${framework.label} | ${MODES.map(([, m]) => `${m}: req/s | × bare | p99`).join(' | ')} |`,
    `| --- | ${MODES.map(() => '---: | ---: | ---:').join(' | ')} |`,
  ]
  for (const row of framework.rows) {
    const cells = MODES.map(([mode]) => {
      const m = row[mode]
      return `${int(m.rps)} | ${x(paired(m, bare?.[mode]))} | ${ms(m.p99)}`
    })
    const label = row.peer
      ? `${row.label} (peer)`
      : row.reference
        ? `${row.label} (reference)`
        : row.label
    lines.push(`| ${label} | ${cells.join(' | ')} |`)
  }
  return lines.join('\n')
}

/** Every target of issues 4, 10 and 11, measured; `ok` undefined when the phase did not run. */
export function evaluateTargets(results) {
  const targets = []
  const { micro, http, stampede, memory } = results
  if (micro !== undefined) {
    const row = (id) => micro.results.find((r) => r.id === id && r.alg === 'RS256')
    const get = (id) => row(id)?.opsPerSecond
    const floor = paired(row('core-off'), row('floor'))
    targets.push({
      name: 'Core RS256, distinct tokens, no cache ≥ 0.90× the floor',
      measured: x(floor),
      ok: floor >= 0.9,
    })
    const jose = paired(row('core-off'), row('jose'))
    targets.push({
      name: 'Core RS256, distinct tokens, no cache ≥ 2× jose jwtVerify',
      measured: x(jose),
      ok: jose >= 2,
    })
    // A hit costs the same whatever the algorithm (no signature): RS256 is the figure, the
    // others show the spread.
    const hits = micro.results.filter((r) => r.id === 'core-hit').map((r) => r.opsPerSecond)
    targets.push({
      name: 'Core cached repeat token ≥ 500,000 verifications/s',
      measured: `${int(get('core-hit'))}/s (RS256; all algorithms: ${int(Math.min(...hits))} to ${int(Math.max(...hits))}/s)`,
      ok: get('core-hit') >= 500_000,
    })
    // Per request, a validator for 10 issuers against one for a single issuer, both cached: the
    // cost ratio is the inverse of the rate ratio.
    const issuers = (id) => micro.results.find((r) => r.id === id)
    const costs = ['one', 'spread'].map((spread) =>
      paired(issuers('issuers-1-hit'), issuers(`issuers-10-${spread}-hit`)),
    )
    if (issuers('issuers-1-hit') !== undefined) {
      targets.push({
        name: 'Core RS256, cached: a validator with 10 issuers costs ≤ 5 % more per request than one with a single issuer',
        measured: `${x(costs[0])} the cost (tokens of one issuer), ${x(costs[1])} (tokens of all 10)`,
        ok: costs.every((c) => c <= 1.05),
      })
    }
  }
  for (const framework of Object.values(http ?? {})) {
    const row = (id) => framework.rows.find((r) => r.id === id)
    const bare = row('bare')
    const on = row('bg-on')
    const off = row('bg-off')
    const ratios = MODES.map(([mode]) => paired(on?.[mode], bare?.[mode]))
    targets.push({
      name: `${framework.label}: cache on ≥ 0.90× bare`,
      measured: MODES.map(([, m], i) => `${x(ratios[i])} (${m})`).join(', '),
      ok: ratios.every((r) => r >= 0.9),
    })
    const peers = framework.rows.filter((r) => r.peer)
    const beaten = MODES.flatMap(([mode, m]) =>
      peers.map((p) => ({ mode: m, peer: p.label, r: paired(off?.[mode], p[mode]) })),
    )
    targets.push({
      name: `${framework.label}: cache off above every peer on every row`,
      measured: beaten.map((b) => `${x(b.r)} ${b.peer} (${b.mode})`).join('; '),
      ok: beaten.every((b) => b.r > 1),
    })
  }
  const storm = stampede?.find((s) => s.target)
  if (storm !== undefined) {
    targets.push({
      name: 'Cold stampede: exactly 1 discovery and 1 JWKS request',
      measured: `${storm.discoveryCounts} discovery, ${storm.jwksCounts} JWKS in each of ${storm.repeats} stampedes; ${storm.ok}/${storm.requests} answered 200; p99 ${ms(storm.p99)}`,
      ok:
        storm.runs.every((run) => run.discovery === 1 && run.jwks === 1) &&
        storm.ok === storm.requests,
    })
  }
  if (memory !== undefined) {
    const { points } = memory.on
    const full = points.find((p) => p.tokens === 10_000)
    const last = points.at(-1)
    targets.push({
      name: `Memory after ${int(memory.tokens)} distinct tokens bounded by the cache size`,
      measured: `+${last.growthMiB.toFixed(1)} MiB after ${int(last.tokens)} tokens vs +${full.growthMiB.toFixed(1)} MiB when the cache (10,000 entries) first filled`,
      ok: last.growthMiB <= full.growthMiB * 1.25,
    })
  }
  targets.push(...dpopTargets(results.dpop))
  const resolver = memory?.resolver
  if (resolver !== undefined) {
    const last = resolver.stages.at(-1)
    targets.push({
      name: `A resolver over ${int(resolver.tenants)} tenants stays within its memory bound`,
      measured: `+${last.growthMiB.toFixed(1)} MiB after ${int(resolver.tenants)} tenants and ${int(resolver.tenants)} unknown issuers; bound ${resolver.boundMiB.toFixed(1)} MiB (${int(resolver.maxIssuers)} validators × ${resolver.perValidatorKiB.toFixed(1)} KiB + ${int(resolver.maxUnknown)} unknown issuers × ${int(resolver.perUnknownBytes)} B)`,
      ok: last.growthMiB <= resolver.boundMiB * 1.25,
    })
  }
  return targets
}

/** The multi-issuer rows: rate, and the cost per request against the single-issuer row. */
function issuersTable(micro) {
  const rows = micro.results.filter((r) => r.group === 'issuers')
  const get = (id) => rows.find((r) => r.id === id)
  const lines = [
    '| Validator, tokens | cache on, cached tokens: requests/s | cost × 1 issuer | cache off: requests/s | cost × 1 issuer |',
    '| --- | ---: | ---: | ---: | ---: |',
  ]
  for (const [id, label] of [
    ['issuers-1', '1 issuer, its tokens'],
    ['issuers-10-one', '10 issuers, tokens of one of them'],
    ['issuers-10-spread', '10 issuers, tokens of all 10'],
  ]) {
    const cells = ['hit', 'off'].map((mode) => {
      const row = get(`${id}-${mode}`)
      const cost = paired(get(`issuers-1-${mode}`), row)
      return `${int(row?.opsPerSecond)} | ${x(cost)}`
    })
    lines.push(`| ${label} | ${cells.join(' | ')} |`)
  }
  return lines.join('\n')
}

function resolverTable(resolver) {
  const mib = (n) => `${n.toFixed(1)} MiB`
  const lines = ['| Stage | heapUsed | growth |', '| --- | ---: | ---: |']
  for (const stage of resolver.stages) {
    const label = stage.label.replace(/\d+/g, (n) => int(Number(n)))
    lines.push(`| ${label} | ${mib(stage.heapMiB)} | ${mib(stage.growthMiB)} |`)
  }
  return lines.join('\n')
}

function memoryTable(memory) {
  const lines = [
    '| Tokens verified | heapUsed, cache on (default) | growth | heapUsed, cache off | growth |',
    '| ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const p of memory.on.points) {
    const off = memory.off.points.find((q) => q.tokens === p.tokens)
    const mib = (n) => (n === undefined ? 'n/a' : `${n.toFixed(1)} MiB`)
    lines.push(
      `| ${int(p.tokens)} | ${mib(p.heapMiB)} | ${mib(p.growthMiB)} | ${mib(off?.heapMiB)} | ${mib(off?.growthMiB)} |`,
    )
  }
  return lines.join('\n')
}

export function renderMarkdown(results) {
  const { meta, micro, http, stampede, memory } = results
  const out = []
  out.push('# bearer-guard benchmark results', '')
  out.push(
    `Generated by \`npm run bench\` (bench/run.mjs) on ${meta.date}. Every figure comes from the same run, so the ratios compare candidates under the same conditions; absolute numbers depend on the machine.`,
    '',
  )
  out.push(`- Machine: ${meta.cpu}, ${meta.cores} cores, ${int(meta.memoryGiB)} GiB, ${meta.os}`)
  out.push(`- Node.js ${meta.node}; load average at start: ${meta.loadAverage}`)
  out.push(`- Settings: ${meta.settings}`)
  out.push(
    `- Duration: ${Math.round(meta.seconds)} s${results.incomplete ? ' (**incomplete: the time limit was hit**)' : ''}`,
  )
  if (!meta.tokenCacheSupported) {
    out.push(
      '- **Token cache pending**: the core build has no `tokenCache` option yet; "cache on" rows measure the uncached code.',
    )
  }
  out.push('', '![Benchmark chart](chart.svg)', '')

  out.push(
    '## Targets (issues 4, 10 and 11)',
    '',
    '| Target | Measured | Result |',
    '| --- | --- | --- |',
  )
  for (const t of evaluateTargets(results)) out.push(`| ${t.name} | ${t.measured} | ${yes(t.ok)} |`)
  out.push(
    '',
    'Where a target is not met, [ANALYSIS.md](ANALYSIS.md) says what the time goes to.',
    '',
  )

  if (micro !== undefined) {
    out.push('## Microbenchmarks', '')
    out.push(
      `Verifications per second on one core, one at a time (async verifiers awaited one by one); median of ${micro.rounds} interleaved rounds of ~${micro.roundMs} ms; in parentheses the ratio to the floor of the same algorithm (median of the per-round ratios). "Distinct tokens" cycle through ${int(micro.pool)} pre-minted tokens; a cache row marked "miss" gets a fresh verifier before every pass, so it never hits. The floor is \`crypto.verify\` with a prebuilt KeyObject plus base64url/JSON decoding of header and payload and the \`alg\`, \`iss\`, \`aud\` and \`exp\` checks. jose and fast-jwt are given the public key directly (no JWKS); bearer-guard fetched its keys from the test issuer over loopback (before timing).`,
      '',
      microTable(micro),
      '',
    )
    if (micro.results.some((r) => r.group === 'issuers')) {
      out.push(
        '### One issuer or ten',
        '',
        `RS256 requests per second through \`verifyRequestCallback\` (what the adapters call) on the request's raw parts, one at a time, in the same interleaved rounds as above; "cost × 1 issuer" is the time per request relative to the 1-issuer validator (median of the per-round ratios; 1.05× is 5 % more). Ten test issuers, each with its own key; a pool of ${int(micro.issuerPool)} \`Authorization\` headers per row, with tokens of the first issuer, or of all ten in turn. Cache on: every token was verified once before timing, so every request is a hit. Cache off: every request is a full verification.`,
        '',
        issuersTable(micro),
        '',
      )
    }
  }
  if (http !== undefined && Object.keys(http).length > 0) {
    out.push('## HTTP', '')
    out.push(
      `autocannon, ${meta.http.connections} connections, ${meta.http.seconds} s per run, ${meta.http.runs} interleaved runs per row, each in a fresh server process after a warm-up (median req/s, median p99, and "× bare" as the median of the per-run ratios); server and load generator in separate processes on loopback. One guarded route, \`GET /orders\`, needing scope \`orders:read\` (RS256 tokens; keys from the test issuer's JWKS over loopback, found by discovery where the library supports it). "1,000 rotating tokens": each request carries the next of 1,000 distinct tokens. Every server was checked first: 200 with a good token, 401 without one or with a forged signature, 403 without the scope. Rows marked (peer) are what the cache-off rows must beat; (reference) rows are context only.`,
      '',
    )
    for (const framework of Object.values(http)) out.push(httpTable(framework), '')
  }
  if (stampede !== undefined) {
    out.push('## Cold stampede', '')
    out.push(
      `${int(stampede[0]?.requests)} concurrent first requests, each with a distinct token, to a server that has fetched nothing yet (connections opened beforehand). Requests counted at the issuer. Each server was stampeded ${stampede[0]?.repeats} times, fresh server and issuer every time, the servers taking turns: IdP requests of every stampede (the most and, if they differ, the others), lowest count of 200 answers, median latencies.`,
      '',
      '| Server | Discovery requests | JWKS requests | 200 answers | p50 | p99 | max |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    )
    for (const s of stampede) {
      out.push(
        `| ${s.label} | ${s.discoveryCounts} | ${s.jwksCounts} | ${s.ok}/${s.requests} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.max)} |`,
      )
    }
    out.push('')
  }
  if (memory !== undefined) {
    out.push('## Memory', '')
    out.push(
      `Heap used (after two forced GCs) while ${int(memory.tokens)} distinct tokens go through one validator with default settings (token cache on, 10,000 entries), and a validator with \`tokenCache: false\` as reference (up to ${int(memory.off.points.at(-1).tokens)} tokens). Growth is relative to the heap before the validator was created. HS256 tokens signed with node:crypto (a million RSA signatures would take minutes), padded to the length of an RS256 token (${memory.tokenLength} characters); the cache keeps a SHA-256 of the token, the verified result and the key, whatever the algorithm.`,
      '',
      memoryTable(memory),
      '',
    )
    const { resolver } = memory
    if (resolver !== undefined) {
      out.push(
        '### An issuer resolver over many tenants',
        '',
        `One validator with only an \`issuerResolver\` (default \`maxIssuers\` ${int(resolver.maxIssuers)}; the token cache off, so the figures are the resolver's alone), fed one RS256 token from each of ${int(resolver.tenants)} tenants (\`https://tenant-<i>.example.com/\`, answered with static keys: one RSA public JWK, imported per tenant), then one token from each of ${int(resolver.tenants)} unknown issuers (answered \`undefined\`, remembered in a negative cache of ${int(resolver.maxUnknown)} entries). Heap used after two forced GCs, growth relative to the heap before the validator was created. The bound: ${int(resolver.maxIssuers)} validators × ${resolver.perValidatorKiB.toFixed(1)} KiB (measured over the first ${int(resolver.maxIssuers)} tenants) + ${int(resolver.maxUnknown)} unknown issuers × ${int(resolver.perUnknownBytes)} B (over the first ${int(resolver.maxUnknown)}) = ${resolver.boundMiB.toFixed(1)} MiB; each validator's key lives outside the V8 heap as well. ${int(resolver.lookups)} resolver calls in ${Math.round(resolver.seconds)} s.`,
        '',
        resolverTable(resolver),
        '',
      )
    }
  }
  if (results.dpop !== undefined) out.push(...dpopSection(results.dpop))
  return out.join('\n')
}

// ---------------------------------------------------------------------------------------------
// DPoP and the Redis replay check (issue 11; lib/dpop.mjs)

/** A latency difference, to 0.01 ms below 1 ms (a Redis round trip on loopback is ~0.1 ms). */
const diffMs = (n) =>
  Number.isFinite(n)
    ? `${n >= 0 ? '+' : '−'}${Math.abs(n) < 1 ? `${Math.abs(n).toFixed(2)} ms` : ms(Math.abs(n))}`
    : 'n/a'
/** The median of the per-run differences `a[i] - b[i]` (ms). */
const pairedDiff = (a, b) =>
  a === undefined || b === undefined ? Number.NaN : median(a.map((value, i) => value - b[i]))

/** The targets of issue 11; `ok: null` for a figure the issue asks for without a bound. */
function dpopTargets(dpop) {
  const targets = []
  const micro = dpop?.micro?.results ?? []
  const get = (id, alg) => micro.find((r) => r.id === id && r.alg === alg)
  for (const alg of [...new Set(micro.filter((r) => r.id === 'dpop').map((r) => r.alg))]) {
    const r = paired(get('dpop', alg), get('floor', alg))
    targets.push({
      name: `DPoP request (${alg} proof, token cached) ≥ 0.85× the floor: cached token + one crypto.verify of the proof`,
      measured: `${x(r)} (${int(get('dpop', alg)?.opsPerSecond)}/s against ${int(get('floor', alg)?.opsPerSecond)}/s)`,
      ok: r >= 0.85,
    })
  }
  const rows = dpop?.http?.rows ?? []
  const row = (id) => rows.find((r) => r.id === id)
  const microBearer = paired(get('bearer-dpop', '-'), get('bearer', '-'))
  const httpBearer = paired(row('bearer-allowed'), row('bearer-off'))
  if (Number.isFinite(microBearer)) {
    // Judged in core, where a few percent can be measured; over HTTP, server processes running
    // the same code differ by up to ±15 % on the reference machine (ANALYSIS.md), so the HTTP
    // ratio and CPU time are shown beside it.
    const cpu = (id) => (Number.isFinite(row(id)?.cpu) ? row(id).cpu.toFixed(1) : 'n/a')
    const http = Number.isFinite(httpBearer)
      ? `; over HTTP (context): ${x(httpBearer)} req/s, server CPU ${cpu('bearer-allowed')} against ${cpu('bearer-off')} µs/request`
      : ''
    targets.push({
      name: 'Bearer requests not slower with DPoP enabled: cached Bearer request through core ≥ 0.97× with `dpop` as without',
      measured: `${x(microBearer)}${http}`,
      ok: microBearer >= 0.97,
    })
  }
  const memory = row('dpop-memory')
  const redis = row('dpop-redis')
  if (memory !== undefined && redis !== undefined) {
    targets.push({
      name: `Latency the Redis replay check adds to a DPoP request, ${dpop.http.connections} connections (p50, p99)`,
      measured: `${diffMs(pairedDiff(redis.p50s, memory.p50s))} p50, ${diffMs(pairedDiff(redis.p99s, memory.p99s))} p99 (in memory ${ms(memory.p50)} / ${ms(memory.p99)}, Redis ${ms(redis.p50)} / ${ms(redis.p99)}); 1 connection: ${diffMs(pairedDiff(redis.idle.p50s, memory.idle.p50s))} p50`,
      ok: null,
    })
  }
  return targets
}

function dpopSection(dpop) {
  const out = ['## DPoP and the Redis replay check (issue 11)', '']
  const { micro, http } = dpop
  if (micro !== undefined) {
    const get = (id, alg) => micro.results.find((r) => r.id === id && r.alg === alg)
    const algs = [...new Set(micro.results.filter((r) => r.id === 'dpop').map((r) => r.alg))]
    out.push(
      `Requests per second through core's \`verifyRequestCallback\` (what the adapters call), one at a time on one core; median of ${micro.rounds} interleaved rounds of ~${micro.roundMs} ms, "× floor" the median of the per-round ratios. The access token (RS256, \`cnf.jkt\` of the proof key) is in the token cache; every DPoP request carries a proof never seen by the replay store, from a pool of ${int(micro.proofs)} pre-made proofs (distinct \`jti\`): the validator's \`replayStore\` hands each claim to core's \`MemoryReplayStore\`, a fresh one for every pass over the pool. The floor is a cached Bearer request through the same function plus one \`crypto.verify\` of a proof's pre-split signing input with the proof's prebuilt public key.`,
      '',
      '| Proof algorithm | crypto.verify of the proof only | floor: cached Bearer + crypto.verify | DPoP request through core | × floor |',
      '| --- | ---: | ---: | ---: | ---: |',
    )
    for (const alg of algs) {
      out.push(
        `| ${alg} | ${int(get('proof-crypto', alg)?.opsPerSecond)} | ${int(get('floor', alg)?.opsPerSecond)} | ${int(get('dpop', alg)?.opsPerSecond)} | ${x(paired(get('dpop', alg), get('floor', alg)))} |`,
      )
    }
    const off = get('bearer', '-')
    const on = get('bearer-dpop', '-')
    out.push(
      '',
      `A cached Bearer request through core: ${int(off?.opsPerSecond)}/s with DPoP off, ${int(on?.opsPerSecond)}/s with DPoP allowed (${x(paired(on, off))}).`,
      '',
    )
  }
  if (http !== undefined) {
    out.push(
      `${http.label}, \`@bearer-guard/fastify\` (token cache on), autocannon with ${http.connections} connections, ${http.runs} interleaved runs per row, each in a fresh server process after a warm-up; medians over the runs. Bearer rows: ${http.seconds} s runs with one RS256 token. DPoP rows: ${int(http.requests)} requests per run, each with its own pre-made ES256 proof (taken from an array by autocannon's \`setupRequest\`: the client signs nothing), then ${int(http.rows.find((r) => r.idle)?.idle.requests)} requests on 1 connection (latency without queueing). The Redis replay store is \`@bearer-guard/redis\`'s \`RedisReplayStore\` on a local redis-server (no persistence, loopback); every run checks that Redis ran one claim per request. Latencies are measured per response with µs resolution. CPU: µs per request of the server process (user + system), and of redis-server.`,
      '',
      '| Row | req/s | × first row of its kind | p50 | p99 | 1 connection: p50 / p99 | server CPU µs/req | redis-server CPU µs/req |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    )
    const first = {
      bearer: http.rows.find((r) => r.kind === 'bearer'),
      dpop: http.rows.find((r) => r.kind === 'dpop'),
    }
    const us = (n) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a')
    for (const r of http.rows) {
      const idle = r.idle === undefined ? '-' : `${ms(r.idle.p50)} / ${ms(r.idle.p99)}`
      out.push(
        `| ${r.label} | ${int(r.rps)} | ${x(paired(r, first[r.kind]))} | ${ms(r.p50)} | ${ms(r.p99)} | ${idle} | ${us(r.cpu)} | ${r.redisCpu === undefined ? '-' : us(r.redisCpu)} |`,
      )
    }
    out.push('')
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// chart.svg: hand-written horizontal bars, no dependencies.

const escape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

export function renderChart(results) {
  const sections = []
  const { micro, http } = results
  if (micro !== undefined) {
    const rs = micro.results.filter((r) => r.alg === 'RS256')
    const floor = rs.find((r) => r.id === 'floor')
    const pick = ['floor', 'core-off', 'core-miss', 'fast-jwt', 'fast-jwt-miss', 'jose']
    sections.push({
      title:
        'RS256 verifications/s, distinct tokens, relative to the floor (crypto.verify + parse + checks)',
      bars: pick
        .map((id) => rs.find((r) => r.id === id))
        .filter(Boolean)
        .map((r) => ({
          label: r.label,
          value: paired(r, floor),
          text: `${x(paired(r, floor))}  ${int(r.opsPerSecond)}/s`,
          ours: r.id.startsWith('core'),
        })),
    })
  }
  for (const framework of Object.values(http ?? {})) {
    const bare = framework.rows.find((r) => r.id === 'bare')
    sections.push({
      title: `${framework.label}: req/s with 1,000 rotating tokens, relative to bare`,
      bars: framework.rows.map((r) => ({
        label: r.label,
        value: paired(r.rotating, bare.rotating),
        text: `${x(paired(r.rotating, bare.rotating))}  ${int(r.rotating.rps)} req/s`,
        ours: r.id.startsWith('bg'),
      })),
    })
  }
  const width = 860
  const labelWidth = 340
  const barWidth = 360
  const rowHeight = 22
  const max = Math.max(1, ...sections.flatMap((s) => s.bars.map((b) => b.value || 0)))
  let y = 40
  const parts = [
    `<text x="16" y="24" font-size="16" font-weight="bold">bearer-guard benchmarks (${escape(results.meta.date.slice(0, 10))}, ${escape(results.meta.cpu)}, Node ${escape(results.meta.node)})</text>`,
  ]
  for (const section of sections) {
    y += 18
    parts.push(
      `<text x="16" y="${y}" font-size="13" font-weight="bold">${escape(section.title)}</text>`,
    )
    y += 8
    // The 1.00× line first, so bars and their labels are drawn over it.
    const one = (labelWidth + barWidth / max).toFixed(1)
    const bottom = y + section.bars.length * rowHeight
    parts.push(
      `<line x1="${one}" y1="${y}" x2="${one}" y2="${bottom}" stroke="#333" stroke-dasharray="3 3"/>`,
    )
    for (const bar of section.bars) {
      const w = Math.max(1, ((bar.value || 0) / max) * barWidth)
      const fill = bar.ours ? '#2f6fdf' : '#9aa5b1'
      parts.push(
        `<text x="${labelWidth - 8}" y="${y + 15}" font-size="12" text-anchor="end">${escape(bar.label)}</text>`,
        `<rect x="${labelWidth}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowHeight - 6}" fill="${fill}"/>`,
        `<text x="${labelWidth + w + 6}" y="${y + 15}" font-size="12">${escape(bar.text)}</text>`,
      )
      y += rowHeight
    }
    y += 6
  }
  y += 14
  parts.push(
    `<text x="16" y="${y}" font-size="11" fill="#555">Blue: bearer-guard. Dashed line: 1.00× (the floor, or the bare framework). Same run, same machine; see bench/RESULTS.md.</text>`,
  )
  y += 12
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${width}" height="${y}" fill="#fff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n')
}
