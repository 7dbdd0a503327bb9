import { X509Certificate } from 'node:crypto'
import type { BearerRequest } from '@bearer-guard/core'
import type { Metadata, ServerInterceptingCallInterface } from '@grpc/grpc-js'

type Headers = Record<string, string | readonly string[] | undefined>

/**
 * The call's metadata as core reads request headers: lower-case names (gRPC metadata keys are
 * lower case already), a string for one value and an array for several, so that core refuses two
 * `authorization` or `dpop` values as it refuses two header lines. Binary (`-bin`) entries carry
 * no credentials and are left out, and so is a `__proto__` key (a legal metadata key, which an
 * assignment would take for the object's prototype).
 */
function headersOf(metadata: Metadata): Headers {
  const headers: Headers = {}
  const entries = metadata.toJSON()
  for (const key in entries) {
    const values = entries[key] as readonly unknown[]
    if (key.endsWith('-bin') || key === '__proto__') continue
    if (values.length === 1) {
      const [value] = values
      if (typeof value === 'string') headers[key] = value
    } else if (values.length > 1) {
      headers[key] = values.filter((value): value is string => typeof value === 'string')
    }
  }
  return headers
}

/**
 * The client certificate of a TLS connection, shaped as core reads a `tls.TLSSocket`, when the
 * server requires and verifies client certificates (`ServerCredentials.createSsl(…, true)`); grpc-js
 * hands it out only then (`getAuthContext()`). Read only for a certificate-bound token.
 */
function peerOf(call: ServerInterceptingCallInterface): unknown {
  const raw = call.getAuthContext().sslPeerCertificate?.raw
  if (raw === undefined) return undefined
  return {
    encrypted: true,
    getPeerX509Certificate: (): X509Certificate => new X509Certificate(raw),
  }
}

/**
 * A gRPC call as core's {@link BearerRequest}: gRPC over HTTP/2 is always `:method POST` on
 * `:path /package.Service/Method` (grpc/doc/PROTOCOL-HTTP2.md, "Requests"), so a DPoP proof for
 * a call has `htm` `POST` and `htu` the API's origin plus the method path (RFC 9449 §4.2). The
 * token comes from the `authorization` metadata only: a call has no query and no form body.
 *
 * A class, its `socket` a getter on the prototype: read only for a certificate-bound token. (An
 * object literal with its own getter costs a call about twice what core's cached check does.)
 */
class CallRequest implements BearerRequest {
  readonly method = 'POST'
  readonly #call: ServerInterceptingCallInterface

  constructor(
    readonly url: string,
    readonly headers: Headers,
    call: ServerInterceptingCallInterface,
  ) {
    this.#call = call
  }

  get socket(): unknown {
    return peerOf(this.#call)
  }
}

/** The request core verifies for a call to `path` with this metadata. */
export function toBearerRequest(
  path: string,
  metadata: Metadata,
  call: ServerInterceptingCallInterface,
): BearerRequest {
  return new CallRequest(path, headersOf(metadata), call)
}
