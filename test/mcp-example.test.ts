/**
 * examples/mcp held to the MCP authorization specification (revision 2026-07-28), exercised by
 * the MCP TypeScript SDK's own client (`Client`, `StreamableHTTPClientTransport` and its
 * client-credentials provider): from a 401 alone it finds the RFC 9728 document, the
 * authorization server (the test issuer, RFC 8414), gets a token for this server's URI (RFC 8707)
 * and calls the tools. All on loopback, the example started as a user would start it.
 */
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { createTestIssuer, type TestIssuer } from '@bearer-guard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runUntilExit, startExample, stopCleanly, type RunningExample } from './support/process.js'
import { bearerChallenge } from './support/www-authenticate.js'

const DIR = 'examples/mcp'
/** A resource another MCP server would have: tokens for it must not work here. */
const OTHER_RESOURCE = 'https://other-mcp.example.com/mcp'

/** One HTTP exchange the SDK client made, seen by the fetch it was given. */
interface Exchange {
  readonly method: string
  readonly url: string
  readonly status: number
  readonly wwwAuthenticate: string | null
  /** The form body of a token request (client credentials travel in `Authorization`). */
  readonly form?: URLSearchParams
}

/** The real `fetch`, recording every exchange: the client's requests are not changed. */
function recordingFetch(log: Exchange[]) {
  return async (url: string | URL, init?: RequestInit): Promise<Response> => {
    const response = await fetch(url, init)
    log.push({
      method: init?.method ?? 'GET',
      url: String(url),
      status: response.status,
      wwwAuthenticate: response.headers.get('www-authenticate'),
      form: init?.body instanceof URLSearchParams ? init.body : undefined,
    })
    return response
  }
}

function payloadOf(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? ''
  return JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>
}

interface Connected {
  readonly client: Client
  readonly provider: ClientCredentialsProvider
  readonly log: Exchange[]
}

interface Order {
  readonly id: string
  readonly item: string
  readonly quantity: number
  readonly createdBy: string
}

describe('examples/mcp: the MCP SDK client against a server guarded by bearer-guard', () => {
  let issuer: TestIssuer
  let api: RunningExample
  let endpoint: string
  let metadataUrl: string
  const clients: Client[] = []

  beforeAll(async () => {
    issuer = await createTestIssuer()
    // RFC 8414 §2 requires `authorization_endpoint` only of a server supporting a grant type
    // that uses it; the test issuer serves client credentials only and rightly omits it. SDK
    // 1.32.2 validates the document with a schema that requires the member anyway, so the
    // issuer's own document is served with it added (through the issuer's whole-body override),
    // naming a path nothing calls.
    const served = (await (await fetch(issuer.discoveryUrls.oauth)).json()) as object
    issuer.fail('discovery', {
      kind: 'body',
      body: JSON.stringify({ ...served, authorization_endpoint: `${issuer.issuer}/authorize` }),
    })
    // RESOURCE and PUBLIC_ORIGIN unset: the resource is http://127.0.0.1:PORT/mcp.
    api = await startExample(DIR, {
      ISSUER: issuer.issuer,
      PUBLIC_ORIGIN: undefined,
      RESOURCE: undefined,
    })
    endpoint = `${api.url}/mcp`
    metadataUrl = `${api.url}/.well-known/oauth-protected-resource/mcp`
    const register = (clientId: string, scope: string) =>
      issuer.registerClient({
        clientId,
        clientSecret: `${clientId}-secret`,
        scope,
        resources: [endpoint, OTHER_RESOURCE],
      })
    register('orders-agent', 'orders:read orders:write')
    register('reader', 'orders:read')
    register('manager', 'orders')
  })

  afterAll(async () => {
    try {
      await Promise.all(clients.map((client) => client.close()))
      await stopCleanly(api, DIR)
    } finally {
      await issuer.close()
    }
  })

  /** A client-credentials MCP client (the SDK's provider), connected: the auth flow has run. */
  async function connect(clientId: string, scope: string, token?: string): Promise<Connected> {
    const log: Exchange[] = []
    const provider = new ClientCredentialsProvider({
      clientId,
      clientSecret: `${clientId}-secret`,
      scope,
      expectedIssuer: issuer.issuer,
    })
    if (token !== undefined) provider.saveTokens({ access_token: token, token_type: 'Bearer' })
    const transport = new StreamableHTTPClientTransport(new URL(endpoint), {
      authProvider: provider,
      fetch: recordingFetch(log),
    })
    const client = new Client({ name: 'bearer-guard-contract-test', version: '1.0.0' })
    clients.push(client)
    await client.connect(transport)
    return { client, provider, log }
  }

  /** The exchanges without the client's GET for a server stream (sent unawaited, answered 405). */
  const withoutStreams = (log: readonly Exchange[]) =>
    log.filter((exchange) => exchange.method !== 'GET' || !exchange.url.startsWith(endpoint))

  async function listOrders(client: Client): Promise<Order[]> {
    const result = await client.callTool({ name: 'list_orders', arguments: {} })
    expect(result.isError ?? false).toBe(false)
    return (result.structuredContent as { orders: Order[] }).orders
  }

  it('serves the RFC 9728 document: this resource, its authorization server and the tool scopes (RFC 9728 §2, §3)', async () => {
    const response = await fetch(metadataUrl)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await response.json()).toEqual({
      resource: endpoint,
      authorization_servers: [issuer.issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: ['orders:read', 'orders:write'],
    })
  })

  it('takes the SDK client from a 401 to its tools: resource metadata, authorization server metadata, a token for this resource (MCP authorization flow; RFC 9728 §5.1, RFC 8414 §3, RFC 8707 §2)', async () => {
    const { client, provider, log } = await connect('orders-agent', 'orders:read orders:write')

    const flow = withoutStreams(log).slice(0, 5)
    expect(flow.map(({ method, url, status }) => `${method} ${url} ${status}`)).toEqual([
      `POST ${endpoint} 401`,
      `GET ${metadataUrl} 200`,
      `GET ${issuer.discoveryUrls.oauth} 200`,
      `POST ${issuer.tokenEndpoint} 200`,
      `POST ${endpoint} 200`,
    ])
    // The 401 names the document (RFC 9728 §5.1), without an error: no token was sent (RFC 6750 §3.1).
    const challenge = bearerChallenge(flow[0]?.wwwAuthenticate)
    expect(challenge.params.resource_metadata).toBe(metadataUrl)
    expect(challenge.params.error).toBeUndefined()
    // The token request names this server (RFC 8707 §2), and the token is bound to it.
    expect(flow[3]?.form?.get('resource')).toBe(endpoint)
    expect(flow[3]?.form?.get('grant_type')).toBe('client_credentials')
    const token = provider.tokens()?.access_token ?? ''
    expect(payloadOf(token)).toMatchObject({ aud: endpoint, sub: 'orders-agent' })

    const { tools } = await client.listTools()
    expect(tools.map((tool) => tool.name).sort()).toEqual(['create_order', 'list_orders'])

    const before = await listOrders(client)
    const created = await client.callTool({
      name: 'create_order',
      arguments: { item: 'green tea', quantity: 3 },
    })
    expect(created.isError ?? false).toBe(false)
    // The tool sees the verified caller.
    expect(created.structuredContent).toMatchObject({
      item: 'green tea',
      quantity: 3,
      createdBy: 'orders-agent',
    })
    expect(await listOrders(client)).toHaveLength(before.length + 1)
    // One token served every call: the SDK asked the issuer once.
    expect(log.filter((exchange) => exchange.url === issuer.tokenEndpoint)).toHaveLength(1)
  })

  it("refuses a tool call whose scope the token lacks with 403 insufficient_scope naming the tool's scope and the metadata (MCP Scope Challenge Handling; RFC 6750 §3.1)", async () => {
    const { client, log } = await connect('reader', 'orders:read')
    const before = await listOrders(client)

    const call = client.callTool({ name: 'create_order', arguments: { item: 'x', quantity: 1 } })
    const error: unknown = await call.then(
      () => undefined,
      (reason: unknown) => reason,
    )
    expect(error).toBeInstanceOf(StreamableHTTPError)
    expect((error as StreamableHTTPError).code).toBe(403)

    const refusals = log.filter((exchange) => exchange.status === 403)
    // The SDK tried to step up once (a client-credentials client asks for the scopes it has,
    // which the spec allows: "MAY attempt the step-up authorization flow or abort"), then gave up.
    expect(refusals).toHaveLength(2)
    const tokenRequests = log.filter((exchange) => exchange.url === issuer.tokenEndpoint)
    expect(tokenRequests).toHaveLength(2)
    for (const refusal of refusals) {
      const challenge = bearerChallenge(refusal.wwwAuthenticate)
      expect(challenge.params).toMatchObject({
        error: 'insufficient_scope',
        scope: 'orders:write',
        resource_metadata: metadataUrl,
      })
      // The scope hierarchy: the description says which broader scope would also do.
      expect(challenge.params.error_description).toContain('orders:write is also granted by orders')
    }
    // Nothing was created, and the client goes on with what its token allows.
    expect(await listOrders(client)).toHaveLength(before.length)
  })

  it('honours the scope hierarchy: a token granted orders calls both tools (MCP: servers MUST account for scope hierarchies)', async () => {
    const { client, provider } = await connect('manager', 'orders')
    expect(payloadOf(provider.tokens()?.access_token ?? '').scope).toBe('orders')
    const before = await listOrders(client)
    const created = await client.callTool({
      name: 'create_order',
      arguments: { item: 'oolong', quantity: 1 },
    })
    expect(created.isError ?? false).toBe(false)
    expect(created.structuredContent).toMatchObject({ createdBy: 'manager' })
    expect(await listOrders(client)).toHaveLength(before.length + 1)
  })

  it('refuses a token issued for another resource with 401 invalid_token; the SDK client then gets one for this server (MCP Token Handling; RFC 8707 §2)', async () => {
    const response = await fetch(issuer.tokenEndpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${btoa('orders-agent:orders-agent-secret')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: OTHER_RESOURCE }),
    })
    const { access_token: foreign } = (await response.json()) as { access_token: string }
    expect(payloadOf(foreign).aud).toBe(OTHER_RESOURCE)

    // By hand: the token is refused, whatever it is sent for.
    const refused = await fetch(endpoint, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${foreign}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    })
    expect(refused.status).toBe(401)
    expect(bearerChallenge(refused.headers.get('www-authenticate')).params).toMatchObject({
      error: 'invalid_token',
      resource_metadata: metadataUrl,
    })

    // The SDK client holding it is refused the same way, and recovers with a token for here.
    const { client, provider, log } = await connect('orders-agent', 'orders:read', foreign)
    const first = withoutStreams(log)[0]
    expect(first?.status).toBe(401)
    expect(bearerChallenge(first?.wwwAuthenticate).params.error).toBe('invalid_token')
    expect(payloadOf(provider.tokens()?.access_token ?? '').aud).toBe(endpoint)
    await listOrders(client)
  })

  it('refuses what could slip a tool call past its scope check: a JSON-RPC batch, a foreign Origin (MCP Streamable HTTP)', async () => {
    const tokenResponse = await fetch(issuer.tokenEndpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${btoa('reader:reader-secret')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: endpoint }),
    })
    const { access_token: token } = (await tokenResponse.json()) as { access_token: string }
    const headers = {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    }
    const createOrder = {
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'create_order', arguments: { item: 'smuggled', quantity: 1 } },
    }
    const listTools = { jsonrpc: '2.0', id: 1, method: 'tools/list' }

    const batch = await fetch(endpoint, {
      method: 'POST',
      headers,
      body: JSON.stringify([listTools, createOrder]),
    })
    expect(batch.status).toBe(400)
    expect(await batch.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32600 } })

    // The same call alone gets the 403 of the scope check.
    const alone = await fetch(endpoint, {
      method: 'POST',
      headers,
      body: JSON.stringify(createOrder),
    })
    expect(alone.status).toBe(403)
    expect(bearerChallenge(alone.headers.get('www-authenticate')).params.scope).toBe('orders:write')

    // Streamable HTTP "Security": a present, foreign Origin gets 403 (DNS rebinding).
    const foreignOrigin = await fetch(endpoint, {
      method: 'POST',
      headers: { ...headers, origin: 'https://attacker.example' },
      body: JSON.stringify(listTools),
    })
    expect(foreignOrigin.status).toBe(403)
    expect(foreignOrigin.headers.get('www-authenticate')).toBeNull()

    const malformed = await fetch(endpoint, { method: 'POST', headers, body: '{"jsonrpc":' })
    expect(malformed.status).toBe(400)
    expect(await malformed.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32700 } })

    const stream = await fetch(endpoint, { headers: { authorization: `Bearer ${token}` } })
    expect(stream.status).toBe(405)
    expect(stream.headers.get('allow')).toBe('POST')
  })

  it('refuses to start with a plain-http resource off loopback (RFC 9728 §2)', async () => {
    const { exit, output } = await runUntilExit(DIR, {
      ISSUER: issuer.issuer,
      RESOURCE: 'http://mcp.example.com/mcp',
    })
    expect(exit.code).toBe(1)
    expect(output).toMatch(/^example-mcp cannot start: .*resource/m)
  })
})
