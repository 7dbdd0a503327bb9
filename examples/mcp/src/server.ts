/**
 * A Streamable-HTTP MCP server (the official TypeScript SDK) guarded by @bearer-guard/express, as
 * the MCP authorization specification asks of a protected MCP server: RFC 9728 protected resource
 * metadata, tokens bound to this server's URI (RFC 8707), and per-tool scopes refused with a 403
 * that names them.
 *
 *     PORT=4200 ISSUER=https://auth.example.com/ npm start
 *     PUBLIC_ORIGIN=https://mcp.example.com ISSUER=https://auth.example.com/ npm start
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import express, { type ErrorRequestHandler, type Request, type Response } from 'express'
import {
  bearerGuard,
  getAuth,
  requireScopes,
  type BearerGuardHandler,
  type BearerGuardMiddleware,
  type VerifiedAccessToken,
} from '@bearer-guard/express'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { z } from 'zod'

/** Refuses to start: one line on stderr, exit status 1. */
function cannotStart(reason: string): never {
  console.error(`example-mcp cannot start: ${reason}`)
  process.exit(1)
}

const port = Number(process.env.PORT ?? 3000)
const issuers = (process.env.ISSUER ?? '').split(' ').filter((issuer) => issuer !== '')
if (issuers.length === 0) cannotStart('ISSUER is required')
// The origin clients use to reach this server, never read from the request's Host or
// X-Forwarded-* headers: the default resource identifier is built from it, and it is the one
// `Origin` a browser may send.
const publicOrigin = process.env.PUBLIC_ORIGIN || `http://127.0.0.1:${port}`
if (!URL.canParse(publicOrigin) || new URL(publicOrigin).origin !== publicOrigin) {
  cannotStart(`PUBLIC_ORIGIN must be an origin (scheme, host, port), not '${publicOrigin}'`)
}
// This server's canonical URI: the RFC 8707 `resource` MCP clients request tokens for, which the
// tokens must carry in `aud`, and the `resource` of the RFC 9728 document. MCP clients check that
// it is the URL they connect to, or a prefix of it.
const resource = process.env.RESOURCE || `${publicOrigin}/mcp`

/**
 * The tools and the scopes each one needs: the one table that both the MCP server (which
 * registers only tools named here) and the HTTP gate below read.
 */
const TOOL_SCOPES = {
  list_orders: ['orders:read'],
  create_order: ['orders:write'],
} as const satisfies Record<string, readonly [string, ...string[]]>
type ToolName = keyof typeof TOOL_SCOPES

interface Order {
  id: string
  item: string
  quantity: number
  /** The `sub` of the token that created it (`''` for a token without one). */
  createdBy: string
}

// Tiny in-memory data, shared by every request, and bounded.
const orders = new Map<string, Order>([
  ['1', { id: '1', item: 'coffee beans', quantity: 2, createdBy: 'seed' }],
])

const MAX_ORDERS = 1000

const orderShape = {
  id: z.string(),
  item: z.string(),
  quantity: z.number().int(),
  createdBy: z.string(),
}

/**
 * The MCP server of one request, with the caller's verified token at hand. One per request is
 * the SDK's stateless pattern (an `McpServer` serves one transport at a time); MCP's 2026-07-28
 * revision drops protocol sessions altogether.
 *
 * The tools read the caller from `auth`, not from the SDK's `extra.authInfo`: the SDK's transport
 * fills that from `req.auth`, which here holds bearer-guard's `VerifiedAccessToken`, not the
 * SDK's `AuthInfo` shape.
 */
function createMcpServer(auth: VerifiedAccessToken): McpServer {
  const server = new McpServer({ name: 'bearer-guard-example-mcp', version: '1.0.0' })
  const needs = (tool: ToolName): string => `Needs the scope ${TOOL_SCOPES[tool].join(' ')}.`

  server.registerTool(
    'list_orders' satisfies ToolName,
    {
      title: 'List orders',
      description: `Lists every order. ${needs('list_orders')}`,
      outputSchema: { orders: z.array(z.object(orderShape)) },
      annotations: { readOnlyHint: true },
    },
    () => {
      const list = [...orders.values()]
      return {
        content: [{ type: 'text', text: JSON.stringify(list) }],
        structuredContent: { orders: list },
      }
    },
  )

  server.registerTool(
    'create_order' satisfies ToolName,
    {
      title: 'Create an order',
      description: `Creates an order. ${needs('create_order')}`,
      inputSchema: {
        item: z.string().min(1).max(200),
        quantity: z.number().int().min(1).max(1000),
      },
      outputSchema: orderShape,
    },
    ({ item, quantity }) => {
      if (orders.size >= MAX_ORDERS) {
        // A tool error (in the result), not a protocol error: the call was valid and authorized.
        return {
          content: [{ type: 'text', text: `This example keeps at most ${MAX_ORDERS} orders` }],
          isError: true,
        }
      }
      const order: Order = { id: randomUUID(), item, quantity, createdBy: auth.claims.sub ?? '' }
      orders.set(order.id, order)
      return {
        content: [{ type: 'text', text: JSON.stringify(order) }],
        structuredContent: { ...order },
      }
    },
  )
  return server
}

// Built once, here: options it refuses (an http:// issuer or resource off loopback, a resource
// with a query…) stop the start-up. If the issuer's keys cannot be obtained, the requests that
// need them get 503 and the guard logs one line per failure episode (`logger`: console.warn).
let guard: BearerGuardHandler
try {
  guard = bearerGuard({
    issuer: issuers,
    // Also the audience: a token issued for another resource is refused with 401 (MCP "Token
    // Handling": tokens MUST have been issued for this server; RFC 8707 §2). Every 401 and 403
    // challenge carries `resource_metadata` (RFC 9728 §5.1), and `guard.metadata` serves it.
    resource,
    // MCP "Scope Challenge Handling": servers MUST account for scope hierarchies. `orders` grants
    // both tools; a 403 names the narrow scope the tool needs, and says that `orders` also does.
    scopeHierarchy: { orders: ['orders:read', 'orders:write'] },
    // The tools' scopes are checked by the gate below, not by route middleware the document can
    // collect them from: list them for `scopes_supported`.
    metadata: { scopes: Object.values(TOOL_SCOPES).flat() },
    logger: console,
  })
} catch (error) {
  cannotStart(error instanceof Error ? error.message : String(error))
}

/**
 * The per-tool scope gate, at the HTTP layer: MCP's "Scope Challenge Handling" answers a token
 * that lacks a tool's scope with HTTP 403 `insufficient_scope` naming every scope the call needs,
 * and `resource_metadata` (RFC 6750 §3.1, RFC 9728 §5.1). That is `requireScopes()`'s refusal,
 * made once per tool and applied to the tool a `tools/call` names.
 */
const toolGates = new Map<string, BearerGuardMiddleware>(
  Object.entries(TOOL_SCOPES).map(([tool, scopes]) => [tool, requireScopes(...scopes)]),
)

/** The name of the tool a JSON-RPC message calls, if it is a `tools/call` request. */
function calledTool(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null) return undefined
  const { method, params } = message as { method?: unknown; params?: unknown }
  if (method !== 'tools/call' || typeof params !== 'object' || params === null) return undefined
  const { name } = params as { name?: unknown }
  return typeof name === 'string' ? name : undefined
}

/** A JSON-RPC error response without `id` (MCP Streamable HTTP, for HTTP-level refusals). */
function jsonRpcError(code: number, message: string): object {
  return { jsonrpc: '2.0', error: { code, message } }
}

function requireToolScopes(req: Request, res: Response, next: (error?: unknown) => void): void {
  const body: unknown = req.body
  // A batch could hide a call behind another: the MCP revisions since 2025-06-18 send one message
  // per POST, and this server takes one.
  if (Array.isArray(body)) {
    res.status(400).json(jsonRpcError(-32600, 'Send one JSON-RPC message per request'))
    return
  }
  const tool = calledTool(body)
  const gate = tool === undefined ? undefined : toolGates.get(tool)
  // Not a tool call (initialize, tools/list…), or no such tool, which the SDK answers itself.
  if (gate === undefined) next()
  else gate(req, res, next)
}

/**
 * MCP Streamable HTTP, "Security": the `Origin` header is checked on every request, against DNS
 * rebinding; a present and foreign one gets 403.
 */
function checkOrigin(req: Request, res: Response, next: () => void): void {
  const origin = req.headers.origin
  if (origin === undefined || origin === publicOrigin) next()
  else res.status(403).json(jsonRpcError(-32000, 'Origin not allowed'))
}

async function handleMcp(req: Request, res: Response): Promise<void> {
  const server = createMcpServer(getAuth(req))
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined, // stateless: no Mcp-Session-Id
    enableJsonResponse: true,
  })
  res.on('close', () => {
    void transport.close()
    void server.close()
  })
  await server.connect(transport)
  // The SDK gets the very object the gate read, so both see the same tool name. The SDK types
  // `req.auth` as its own `AuthInfo`; here it is bearer-guard's (see createMcpServer).
  await transport.handleRequest(req as IncomingMessage, res, req.body)
}

/**
 * Errors as JSON-RPC error responses: body-parser refusals (malformed JSON, too large…) with
 * their status, anything else as a 500 that says nothing of its cause (which goes to stderr).
 */
const jsonRpcErrors: ErrorRequestHandler = (error: unknown, _req, res, next) => {
  if (res.headersSent) {
    next(error)
    return
  }
  const status = (error as { status?: unknown } | null)?.status
  if (typeof status !== 'number' || status < 400 || status > 499) {
    console.error('example-mcp: a request failed:', error)
    res.status(500).json(jsonRpcError(-32603, 'Internal error'))
    return
  }
  // Fixed texts: a parser's message may quote the body.
  const reason =
    status === 400
      ? 'Parse error: the body is not JSON'
      : status === 413
        ? 'The body is larger than 100 KiB'
        : 'The body cannot be read'
  res.status(status).json(jsonRpcError(status === 400 ? -32700 : -32600, reason))
}

const app = express()
app.disable('x-powered-by')

app.get('/health', (_req, res) => {
  res.json({ status: 'ok' })
})
// Public, before the guard: GET /.well-known/oauth-protected-resource/mcp (RFC 9728 §3.1).
app.use(guard.metadata)
app.use('/mcp', checkOrigin)

// Everything below needs a valid access token for this resource.
app.use(guard)

// The body is read only once the token is verified.
app.post('/mcp', express.json({ limit: '100kb' }), requireToolScopes, handleMcp)
// Stateless: no GET stream and no session to DELETE.
app.all('/mcp', (_req, res) => {
  res.status(405).set('Allow', 'POST').json(jsonRpcError(-32000, 'Method not allowed'))
})
app.use(jsonRpcErrors)

const server = app.listen(port, '127.0.0.1', (error?: Error) => {
  if (error) {
    console.error(`example-mcp cannot listen on 127.0.0.1:${port}: ${error.message}`)
    process.exit(1)
  }
  console.log(`example-mcp listening on http://127.0.0.1:${port}/mcp (resource ${resource})`)
})

process.on('SIGTERM', () => {
  server.close(() => process.exit(0))
  // Keep-alive connections would hold close() open; they carry no work worth waiting for.
  server.closeIdleConnections()
})
