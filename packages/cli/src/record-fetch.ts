/**
 * The validator's key requests, recorded: what each discovery and JWKS request received, so the
 * explanation shows exactly what core saw, without fetching anything a second time.
 */

/** One request core's key set made, and what it received. */
export interface FetchRecord {
  readonly url: string
  /** The HTTP status, when a response arrived. */
  status?: number
  /** Why no response arrived (network error, timeout). */
  error?: string
  /** The JSON body, when it was one. */
  json?: unknown
}

/** Statuses whose responses have no body (Fetch standard, "null body status"). */
const NULL_BODY = new Set([101, 103, 204, 205, 304])

/** Reads a body up to `limit` bytes; past it, stops (the caller's size check then refuses it). */
async function readUpTo(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  let done = false
  try {
    while (!done && total <= limit) {
      const read = await reader.read()
      done = read.done
      if (read.value !== undefined) {
        chunks.push(read.value)
        total += read.value.byteLength
      }
    }
  } finally {
    if (!done) reader.cancel().catch(() => undefined)
  }
  return Buffer.concat(chunks, total)
}

function jsonOf(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown
  } catch {
    return undefined
  }
}

/**
 * A `fetch` for the validator that records each request and what it received, so the
 * explanation shows exactly the discovery documents and key sets core saw. The body is read here
 * (at most `limit` bytes: enough for core to see its own size limit exceeded) and handed to core
 * as an identical response; a cloned body cannot be read once core cancels the original.
 */
export function recordingFetch(
  base: typeof globalThis.fetch = globalThis.fetch,
  limit = 262_145,
): {
  readonly fetch: typeof globalThis.fetch
  readonly records: readonly FetchRecord[]
} {
  const records: FetchRecord[] = []
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    const record: FetchRecord = { url }
    records.push(record)
    try {
      const response = await base(input, init)
      record.status = response.status
      const body =
        response.body === null || NULL_BODY.has(response.status)
          ? null
          : await readUpTo(response.body, limit)
      if (body !== null && response.status === 200) record.json = jsonOf(body)
      return new Response(body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      })
    } catch (error) {
      record.error = causeText(error)
      throw error
    }
  }
  return { fetch, records }
}

/** A network error in words: `ECONNREFUSED connect ECONNREFUSED 127.0.0.1:4000`. */
export function causeText(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const cause = error.cause
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code
    return typeof code === 'string' && !cause.message.includes(code)
      ? `${code} ${cause.message}`
      : cause.message
  }
  return error.message
}
