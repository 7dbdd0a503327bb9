/**
 * RFC 9728 protected resource metadata: the document an API publishes so clients (an MCP client,
 * say) find its authorization servers, scopes and token methods from a 401 alone.
 */

/** What a validator knows of itself for its metadata document. */
export interface ResourceMetadataInfo {
  /** RFC 9728 §2 `resource`. */
  readonly resource: string
  /** Where the document is served (RFC 9728 §3.1). */
  readonly metadataUrl: string
  /** The configured issuers that are URLs (templates and run-time tenants are not listed). */
  readonly authorizationServers: readonly string[]
  /** RFC 6750 §2 methods accepted: `header`, and `body`/`query` where enabled. */
  readonly bearerMethods: readonly string[]
  /** DPoP proof algorithms, when DPoP is enabled. */
  readonly dpopAlgs: readonly string[] | undefined
  readonly dpopRequired: boolean
  /** Whether certificate-bound tokens are configured (`mtls`). */
  readonly certificateBound: boolean
}

/** The RFC 9728 §2 document: `scopesSupported` are the scopes the routes can need. */
export function resourceMetadataDocument(
  info: ResourceMetadataInfo,
  scopesSupported: readonly string[],
): Readonly<Record<string, unknown>> {
  const document: Record<string, unknown> = {
    resource: info.resource,
    authorization_servers: [...info.authorizationServers],
    bearer_methods_supported: [...info.bearerMethods],
  }
  if (scopesSupported.length > 0) {
    document.scopes_supported = [...new Set(scopesSupported)].sort()
  }
  if (info.dpopAlgs !== undefined) {
    document.dpop_signing_alg_values_supported = [...info.dpopAlgs]
    if (info.dpopRequired) document.dpop_bound_access_tokens_required = true
  }
  if (info.certificateBound) document.tls_client_certificate_bound_access_tokens = true
  return Object.freeze(document)
}

/** The path part of the metadata URL, for an adapter's route. */
export function metadataPath(info: ResourceMetadataInfo): string {
  return new URL(info.metadataUrl).pathname
}
