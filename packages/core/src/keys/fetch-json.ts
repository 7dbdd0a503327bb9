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

/**
 * Rejects with the signal's reason once it aborts. The timeout is enforced with this as well as
 * by passing the signal to `fetch`: a custom `fetch` may ignore the signal, and its body stream
 * need not be tied to it. Without this, one stalled exchange would hold the key set's single
 * in-flight load, and so every request waiting on it, forever.
 */
export function expiry(signal: AbortSignal): Promise<never> {
  const expired = new Promise<never>((_, reject) => {
    signal.addEventListener(
      'abort',
      () => {
        reject(signal.reason as Error)
      },
      { once: true },
    )
  })
  expired.catch(() => undefined) // only ever observed through Promise.race
  return expired
}

export async function readLimited(
  response: Response,
  maxBytes: number,
  expired: Promise<never>,
): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? NaN)
  if (declared > maxBytes) throw new FetchFailure(`response larger than ${maxBytes} bytes`)
  if (response.body === null) return new Uint8Array(0)
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  let done = false
  try {
    while (!done) {
      const read = await Promise.race([reader.read(), expired])
      done = read.done
      if (read.value === undefined) continue
      total += read.value.byteLength
      if (total > maxBytes) throw new FetchFailure(`response larger than ${maxBytes} bytes`)
      chunks.push(read.value)
    }
  } finally {
    // Stop the transfer when giving up early (too large, timed out).
    if (!done) reader.cancel().catch(() => undefined)
  }
  return Buffer.concat(chunks, total)
}

/**
 * GETs a JSON document with a hard timeout, no redirects and a size cap. Rejects with
 * {@link FetchFailure} (status, size, JSON) or the underlying network/abort error.
 */
export async function fetchJson(url: string, limits: FetchLimits): Promise<FetchedJson> {
  try {
    return await fetchJsonOnce(url, limits)
  } catch (error) {
    if (error instanceof FetchFailure) throw error
    // Network and timeout errors do not say which URL failed; a log line must.
    throw new FetchFailure(`${url} could not be fetched: ${networkReason(error, limits)}`, {
      cause: error,
    })
  }
}

/** A network or abort error in words: `connect ECONNREFUSED 127.0.0.1:4000`, `timed out…`. */
export function networkReason(error: unknown, limits: FetchLimits): string {
  if (!(error instanceof Error)) return String(error)
  if (error.name === 'TimeoutError' || error.name === 'AbortError') {
    return `no complete answer within ${limits.timeout / 1000} s (fetchTimeout)`
  }
  const cause = error.cause
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code
    return typeof code === 'string' && !cause.message.includes(code)
      ? `${code} ${cause.message}`
      : cause.message
  }
  return error.message
}

async function fetchJsonOnce(url: string, limits: FetchLimits): Promise<FetchedJson> {
  const signal = AbortSignal.timeout(limits.timeout)
  const expired = expiry(signal)
  const pending = limits.fetch(url, {
    method: 'GET',
    redirect: 'manual',
    signal,
    headers: { accept: 'application/json, application/jwk-set+json' },
  })
  // A response arriving after the deadline is discarded; release its connection.
  pending.then(
    (late) => {
      if (signal.aborted && !late.bodyUsed) late.body?.cancel().catch(() => undefined)
    },
    () => undefined,
  )
  const response = await Promise.race([pending, expired])
  try {
    // `redirect: 'manual'` is only a request: a custom fetch may follow redirects anyway.
    // `redirected` tells; keys must come from the configured or discovered URL itself.
    if (response.redirected) throw new FetchFailure(`${url} redirected; redirects are refused`)
    if (response.status !== 200) {
      throw new FetchFailure(`${url} answered HTTP ${response.status}`)
    }
    const bytes = await readLimited(response, limits.maxBytes, expired)
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
