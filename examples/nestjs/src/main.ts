/**
 * The CONTRACT.md API on NestJS, guarded by @bearer-guard/nestjs, on Express or Fastify.
 *
 *     PORT=4100 ISSUER=https://auth.example.com/ AUDIENCE=https://api.example.com npm start
 *     NEST_PLATFORM=fastify PORT=4100 ISSUER=… AUDIENCE=… npm start
 *     PORT=4100 ISSUER='https://a.example.com/ https://b.example.com/' AUDIENCE=… npm start
 *     RESOURCE=https://api.example.com/p ISSUER=… npm start   (RFC 9728 metadata; AUDIENCE optional)
 */
import { NestFactory } from '@nestjs/core'
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import { AppModule } from './app.module.js'
import { StderrLogger } from './stderr.logger.js'

const port = Number(process.env.PORT ?? 3000)
const platform = process.env.NEST_PLATFORM ?? 'express'

async function bootstrap(): Promise<void> {
  if (platform !== 'express' && platform !== 'fastify') {
    throw new Error('NEST_PLATFORM must be "express" or "fastify"')
  }
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter()
  // Nest types its options as a class, but documents plain objects.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
  const app = await NestFactory.create(AppModule, adapter, {
    // Warnings and errors: if the issuer's keys cannot be obtained, guarded requests get 503 and
    // bearer-guard logs the cause (context BearerGuard), once per failure episode.
    logger: new StderrLogger({ logLevels: ['error', 'warn'], colors: process.stderr.isTTY }),
    abortOnError: false,
  })
  if (platform === 'express') (app as NestExpressApplication).disable('x-powered-by')
  // SIGTERM: close the server and exit with status 0.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true })
  await app.listen(port, '127.0.0.1')
  console.log(`example-nestjs (${platform}) listening on http://127.0.0.1:${port}`)
}

bootstrap().catch((error: unknown) => {
  console.error(
    `example-nestjs cannot start: ${error instanceof Error ? error.message : String(error)}`,
  )
  process.exit(1)
})
