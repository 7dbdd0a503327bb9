/** Why a discovery or key-set request failed; never shown to clients, kept as `cause`. */
export class FetchFailure extends Error {
  override name = 'FetchFailure'
}

export interface FetchLimits {
  readonly fetch: typeof globalThis.fetch
  /** Hard timeout for the whole exchange, headers and body, in milliseconds. */
  readonly timeout: number
  /** Largest accepted body, in bytes. */
  readonly maxBytes: number
}

/** A fetched JSON document and the response's `Cache-Control: max-age`, if any. */
export interface FetchedJson {
  readonly body: unknown
  readonly maxAge: number | undefined
}

function parseMaxAge(cacheControl: string | null): number | undefined {
  if (cacheControl === null) return undefined
  const match = /(?:^|,)\s*max-age\s*=\s*"?(\d{1,9})"?\s*(?:,|$)/i.exec(cacheControl)
  return match ? Number(match[1]) : undefined
}

async function readLimited(response: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? NaN)
  if (declared > maxBytes) throw new FetchFailure(`response larger than ${maxBytes} bytes`)
  if (response.body === null) return new Uint8Array(0)
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength
    if (total > maxBytes) throw new FetchFailure(`response larger than ${maxBytes} bytes`)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks, total)
}

/**
 * GETs a JSON document with a hard timeout, no redirects and a size cap. Rejects with
 * {@link FetchFailure} (status, size, JSON) or the underlying network/abort error.
 */
export async function fetchJson(url: string, limits: FetchLimits): Promise<FetchedJson> {
  const signal = AbortSignal.timeout(limits.timeout)
  const response = await limits.fetch(url, {
    method: 'GET',
    redirect: 'manual',
    signal,
    headers: { accept: 'application/json, application/jwk-set+json' },
  })
  try {
    if (response.status !== 200) {
      throw new FetchFailure(`${url} answered HTTP ${response.status}`)
    }
    const bytes = await readLimited(response, limits.maxBytes)
    let body: unknown
    try {
      body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
    } catch {
      throw new FetchFailure(`${url} did not answer valid JSON`)
    }
    return { body, maxAge: parseMaxAge(response.headers.get('cache-control')) }
  } finally {
    if (response.body && !response.bodyUsed) await response.body.cancel().catch(() => undefined)
  }
}
