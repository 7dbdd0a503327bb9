/**
 * What an adapter hands core: the request's raw parts, as the framework already holds them. Core
 * reads from them what the enabled stages need (the `Authorization` header; the query, body or a
 * cookie only where enabled), so a new check never needs an adapter change.
 */
export interface BearerRequest {
  /** The HTTP method, e.g. `GET`. */
  readonly method?: string | undefined
  /** The request target as received (path and query), e.g. `/orders?limit=5`. */
  readonly url?: string | undefined
  /** The request headers, names in lower case (Node's `IncomingMessage.headers`). */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>
  /** The parsed URL query; its `access_token` is read only with `allowQuery`. */
  readonly query?: unknown
  /**
   * The parsed request body; its `access_token` is read only with `allowFormBody`, when the
   * content type is `application/x-www-form-urlencoded` and the method is not `GET` or `HEAD`.
   */
  readonly body?: unknown
  /** The connection (a `tls.TLSSocket` for HTTPS), for checks that need the peer certificate. */
  readonly socket?: unknown
}
