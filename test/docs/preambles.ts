/**
 * What the ```ts snippets of each README may use without declaring it themselves, for
 * readme-snippets.test.ts. Each preamble is a module whose `declare global` block is in scope for
 * every snippet of that README; a snippet that declares the same name simply shadows it.
 *
 * A snippet may use, without declaring it:
 * - what an earlier snippet of the same README **imported**: the test carries those imports over
 *   by itself (a README is read top to bottom), so they are not repeated here;
 * - the **application's own names**, declared here: its route handlers (`listOrders`), its
 *   configuration (`issuer`, `audience`), its logger, its modules and services;
 * - what an earlier snippet **created** (`const app = express()`), declared here too.
 *
 * Nothing else: every library name must be imported by the snippet or an earlier one, so that a
 * user who copies the snippets gets no "Cannot find name" and, above all, no implicit `any`.
 * Keep each entry to the names its README's snippets really use, each with its category.
 */
export const preambles: Readonly<Record<string, string>> = {
  'README.md': `
import type { IncomingHttpHeaders } from 'node:http'
import type { Express, RequestHandler } from 'express'

// A route handler of the application that both the Express and the Fastify snippet mount. No
// single type fits both frameworks' overloads (an intersection breaks Express's inference), so
// its parameters are left open: the snippets' own code is what is checked, not the handler.
type AnyFrameworkHandler = (...args: any[]) => any

declare global {
  // The application's configuration and logger.
  const issuer: string
  const audience: string
  const logger: { warn(message: string): void }
  // The application's route handlers (the first two are used by the Express and the Fastify snippet).
  const listOrders: AnyFrameworkHandler
  const listReports: AnyFrameworkHandler
  const deleteOrder: RequestHandler
  // The request the framework-free core snippet handles.
  const request: { readonly headers: IncomingHttpHeaders }
  // A metrics counter (e.g. prom-client's Counter).
  const verifications: { inc(labels: Record<string, string>): void }
  // Created by the first Express snippet (\`const app = express()\`).
  const app: Express
  // The application's root module, for the NestJS CORS snippet.
  class AppModule {}
}
export {}
`,

  'packages/cli/README.md': `
declare global {
  // The access token to explain, as the application received it.
  const token: string
}
export {}
`,

  'packages/core/README.md': `export {}`,

  'packages/express/README.md': `
import type { Express, RequestHandler } from 'express'

declare global {
  // The application's route handlers.
  const listOrders: RequestHandler
  const deleteOrder: RequestHandler
  const listReports: RequestHandler
  // The application's configuration.
  const issuer: string
  const audience: string
  // Created by the first snippet (\`const app = express()\`).
  const app: Express
}
export {}
`,

  'packages/fastify/README.md': `
import type { FastifyInstance } from 'fastify'

declare global {
  // The application's configuration.
  const issuer: string
  const audience: string
  // Created by the first snippet (\`const app = Fastify()\`).
  const app: FastifyInstance
}
export {}
`,

  'packages/nestjs/README.md': `
declare global {
  // The application's configuration.
  const issuer: string
  const audience: string
  // The application's own service, injected into the controller.
  class OrdersService {
    listFor(sub: string | undefined): unknown[]
  }
}
export {}
`,

  'packages/grpc/README.md': `
import type { ServerUnaryCall, ServiceClientConstructor, ServiceDefinition, sendUnaryData } from '@grpc/grpc-js'
import type { BearerGuardInterceptor } from '@bearer-guard/grpc'

declare global {
  // The application's configuration, and the token its client sends.
  const issuer: string
  const audience: string
  const accessToken: string
  // The application's services, loaded with @grpc/proto-loader (the first snippet shows how).
  const ordersService: ServiceDefinition
  const healthService: ServiceDefinition
  const Orders: ServiceClientConstructor
  // The application's own handlers and data.
  const createOrder: (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void
  const deleteOrder: (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void
  function ordersOf(sub: string | undefined): unknown[]
  function watchOrdersOf(sub: string | undefined, send: (event: unknown) => void): () => void
  // Created by the first snippet (\`const guard = bearerGuard(…)\`).
  const guard: BearerGuardInterceptor
}
export {}
`,

  'packages/opentelemetry/README.md': `
import type { MetricReader } from '@opentelemetry/sdk-metrics'

declare global {
  // The application's metric reader (e.g. a PrometheusExporter, which is a MetricReader).
  const metricReader: MetricReader
}
export {}
`,

  'packages/presets/README.md': `export {}`,

  'packages/redis/README.md': `
declare global {
  // The verified claims of the token to revoke, and the application's logger.
  const claims: { jti: string; exp: number; iss: string; sub: string }
  const log: { warn(fields: Record<string, unknown>): void }
}
export {}
`,

  'packages/ws/README.md': `
import type { Server as HttpServer } from 'node:http'
import type { WebSocket } from 'ws'
import type { DefaultEventsMap, Server } from 'socket.io'
import type { AccessPolicy, AccessTokenValidator, VerifiedAccessToken } from '@bearer-guard/core'
import type { WebSocketGuard } from '@bearer-guard/ws'

declare global {
  // The application's configuration.
  const issuer: string
  const audience: string
  // Created by the first snippet (\`const server = createServer()\`, \`const guard = bearerGuard(…)\`).
  const server: HttpServer
  const guard: WebSocketGuard<WebSocket>
  // Declared by the Socket.IO recipe snippet.
  interface BearerSocketData {
    auth: VerifiedAccessToken
  }
  function useBearerAuth(
    io: Server<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, BearerSocketData>,
    validator: AccessTokenValidator,
    policy?: AccessPolicy,
  ): void
}
export {}
`,

  'packages/testing/README.md': `
import type { TestIssuer } from '@bearer-guard/testing'

declare global {
  // Created by the first snippet (\`issuer = await createTestIssuer(…)\` in \`beforeAll\`).
  const issuer: TestIssuer
}
export {}
`,
}

/**
 * Declarations of untyped modules a README's snippets import, standing in for the `@types/…`
 * package the README tells users to install (compiled as a declaration file, not checked).
 */
export const moduleStubs: Readonly<Record<string, string>> = {
  // The GraphQL recipe: @nestjs/graphql is not a dependency of this repository.
  'packages/nestjs/README.md': `
declare module '@nestjs/graphql' {
  import type { ExecutionContext } from '@nestjs/common'
  export class GqlExecutionContext {
    static create(context: ExecutionContext): GqlExecutionContext
    getContext<T = any>(): T
  }
}
`,
  // `cors` is in this repository (through NestJS), @types/cors is not.
  'README.md': `
declare module 'cors' {
  import type { RequestHandler } from 'express'
  interface CorsOptions {
    origin?: boolean | string | RegExp | (string | RegExp)[]
    methods?: string | string[]
    allowedHeaders?: string | string[]
    exposedHeaders?: string | string[]
    credentials?: boolean
    maxAge?: number
  }
  function cors(options?: CorsOptions): RequestHandler
  export = cors
}
`,
}
