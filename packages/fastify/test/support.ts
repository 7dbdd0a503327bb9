import Fastify, { type FastifyInstance } from 'fastify'
import { bearerChallenge } from '../../../test/support/www-authenticate.js'

export const audience = 'https://api.example.com'

/** A Fastify app with logging off, as every test builds one. */
export function createApp(): FastifyInstance {
  return Fastify({ logger: false })
}

/** A running app on 127.0.0.1 and a `fetch` bound to it. */
export interface Running {
  readonly url: string
  request(path: string, init?: RequestInit): Promise<Response>
  close(): Promise<void>
}

/** Starts `app` on a free loopback port: real HTTP, as clients see it. */
export async function listen(app: FastifyInstance): Promise<Running> {
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return {
    url,
    request: (path, init) => fetch(url + path, init),
    close: () => app.close(),
  }
}

export function bearer(token: string, init: RequestInit = {}): RequestInit {
  return { ...init, headers: { authorization: `Bearer ${token}` } }
}

/** Reads a refusal: its status, parsed Bearer challenge and JSON body. */
export async function refusal(response: Response) {
  return {
    status: response.status,
    challenge: bearerChallenge(response.headers.get('www-authenticate')).params,
    body: (await response.json()) as Record<string, unknown>,
  }
}
