// The issuer's discovery document and JWKS, handed over by variants.mjs, served from memory: a
// validator given this `fetch` gets its keys without any outbound HTTP from the server process.
const documents = JSON.parse(process.env.BENCH_DOCUMENTS ?? '{}')

export async function inMemoryFetch(url) {
  const body = documents[url]
  if (body === undefined) return new globalThis.Response('not found', { status: 404 })
  return new globalThis.Response(body, {
    status: 200,
    headers: { 'content-type': 'application/json', 'cache-control': 'max-age=600' },
  })
}

/** One GET to the issuer's JWKS with fetch, the way a service calls any other service. */
export async function outboundRequest() {
  await (await fetch(process.env.BENCH_JWKS_URI)).text()
}
