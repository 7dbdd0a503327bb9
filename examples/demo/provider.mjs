// A real OAuth 2.0 authorization server for the demo, built with the certified `oidc-provider`:
// client-credentials grant + resource indicators (RFC 8707), issuing RFC 9068 JWT access tokens
// (`typ: at+jwt`, RS256) to the clients below. Everything lives in memory and dies with the process.
import { Buffer } from 'node:buffer'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import { URLSearchParams } from 'node:url'

// oidc-provider prints console notices that are expected in a throw-away demo: "Unsupported
// runtime" on Node 20 (it works; it officially supports the Node 22+ LTS lines) and reminders that
// the in-memory adapter is for development only. They are kept off the demo's output;
// DEMO_VERBOSE=1 shows them. The filter is installed before oidc-provider is loaded, hence the
// dynamic import.
export const providerNotices = []
for (const method of ['info', 'warn']) {
  const original = console[method].bind(console)
  console[method] = (...args) => {
    if (typeof args[0] === 'string' && /oidc-provider (NOTICE|WARNING):/.test(args[0])) {
      providerNotices.push(args[0])
    } else {
      original(...args)
    }
  }
}
const { default: Provider, errors } = await import('oidc-provider')

export const API = 'https://api.example.com'
export const API_SCOPES = 'orders:read orders:write orders:admin reports:read admin'
/** A second protected resource, so that a genuine token for another audience can be obtained. */
export const OTHER_API = 'https://billing.example.com'
const OTHER_API_SCOPES = 'orders:read billing:read'

const resourceServers = {
  [API]: { scope: API_SCOPES, audience: API },
  [OTHER_API]: { scope: OTHER_API_SCOPES, audience: OTHER_API },
}

/**
 * Confidential clients and the scopes each may obtain (client metadata `scope`). The last two are
 * ordinary clients whose tokens the server deliberately mis-issues (see `formats.customizers.jwt`
 * below) so that the demo has properly signed tokens that are nevertheless unacceptable.
 */
export const CLIENTS = [
  { client_id: 'orders-reader', auth: 'client_secret_basic', scope: 'orders:read' },
  {
    client_id: 'orders-service',
    auth: 'client_secret_post',
    scope: 'orders:read orders:write orders:admin',
  },
  { client_id: 'reports-service', auth: 'client_secret_basic', scope: 'reports:read' },
  { client_id: 'admin-console', auth: 'client_secret_post', scope: 'admin' },
  { client_id: 'billing-service', auth: 'client_secret_basic', scope: 'orders:read billing:read' },
  { client_id: 'backdated-issuer', auth: 'client_secret_basic', scope: 'orders:read' },
  { client_id: 'logout-token-issuer', auth: 'client_secret_basic', scope: 'orders:read' },
].map((client) => ({ ...client, client_secret: randomBytes(24).toString('base64url') }))

/** Per-client edits of the signed token: an expired one, and one of another type than `at+jwt`. */
const misissue = {
  'backdated-issuer': (token) => {
    const now = Math.floor(Date.now() / 1000)
    Object.assign(token.payload, { iat: now - 7200, exp: now - 3600 })
  },
  // A JWT of another kind signed by the same server (here: an OIDC back-channel logout token).
  'logout-token-issuer': (token) => {
    token.header = { typ: 'logout+jwt' }
  },
}

/** A new RS256 signing key (private JWK) with a short, readable `kid` such as `key-2-3f9a1c`. */
export function generateSigningKey(number) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const kid = `key-${number}-${randomBytes(3).toString('hex')}`
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256' }
}

const cookieKeys = [randomBytes(32).toString('base64url')]

/**
 * Starts the authorization server on 127.0.0.1 and resolves once it accepts requests. `port` 0
 * picks a free port; passing the port of a stopped server restarts "the same" server: clients and
 * their secrets live in this module, so only the signing `keys` (private JWKs; the first one signs,
 * all are published at `jwks_uri`) need to be passed again. `jwksRequests` counts the requests
 * for the key set, so the demo can show when the API fetches it.
 */
export async function startAuthorizationServer({ port = 0, keys }) {
  let handler = (_req, res) => res.writeHead(503).end()
  const counter = { jwksRequests: 0 }
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/jwks')) counter.jwksRequests += 1
    handler(req, res)
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', resolve)
  })
  const issuer = `http://127.0.0.1:${server.address().port}`

  const provider = new Provider(issuer, {
    jwks: { keys: keys.map((key) => ({ ...key })) },
    cookies: { keys: cookieKeys },
    scopes: ['openid', ...new Set(`${API_SCOPES} ${OTHER_API_SCOPES}`.split(' '))],
    clients: CLIENTS.map(({ client_id, client_secret, auth, scope }) => ({
      client_id,
      client_secret,
      token_endpoint_auth_method: auth,
      scope,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    })),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          const info = resourceServers[resource]
          if (!info) throw new errors.InvalidTarget(`unknown resource ${resource}`)
          return { ...info, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }
        },
      },
    },
    formats: {
      customizers: { jwt: (_ctx, token, jwt) => misissue[token.clientId]?.(jwt) },
    },
    ttl: { ClientCredentials: 600 },
  })
  provider.on('server_error', (_ctx, err) => console.error('authorization server error:', err))
  handler = provider.callback()

  return {
    issuer,
    port: server.address().port,
    keys,
    counter,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/**
 * Requests an access token with the client-credentials grant, authenticating the client the way
 * it is registered. Returns the parsed token response, or `{ error, … }` for a refusal.
 */
export async function requestToken(tokenEndpoint, client, { scope, resource = API } = {}) {
  const form = new URLSearchParams({ grant_type: 'client_credentials', resource })
  if (scope) form.set('scope', scope)
  const headers = { 'content-type': 'application/x-www-form-urlencoded' }
  if (client.auth === 'client_secret_basic') {
    const user = `${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`
    headers.authorization = `Basic ${Buffer.from(user).toString('base64')}`
  } else {
    form.set('client_id', client.client_id)
    form.set('client_secret', client.client_secret)
  }
  const response = await fetch(tokenEndpoint, {
    method: 'POST',
    headers,
    body: form,
    signal: AbortSignal.timeout(5000),
  })
  return { status: response.status, ...(await response.json()) }
}

export async function getJson(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) })
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`)
  return response.json()
}
