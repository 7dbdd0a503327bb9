// A NestJS application on whatever @nestjs/* its folder's node_modules holds, run by nest12.test.ts
// in a child process from a temp folder where @bearer-guard/nestjs is installed from its tarball.
// Plain JavaScript, so that no compiler sits between the test and Nest: decorators are applied the
// way tsc's `__decorate`/`__param` helpers apply them (experimentalDecorators), with
// `Reflect.decorate` from reflect-metadata.
//
// Environment: PLATFORM (express | fastify), ISSUER, AUDIENCE. Prints one line,
// `READY {"url":…,"nest":{…}}`, once listening on 127.0.0.1; closes the app on SIGTERM.
import 'reflect-metadata'
import { realpathSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { Controller, Get, Module } from '@nestjs/common'
import { APP_GUARD, NestFactory } from '@nestjs/core'
import { Auth, BearerGuard, BearerGuardModule, Public, RequireScopes } from '@bearer-guard/nestjs'

const { PLATFORM, ISSUER, AUDIENCE } = process.env
if (!ISSUER || !AUDIENCE) throw new Error('ISSUER and AUDIENCE are required')

/** `@decorator` on a method, as tsc emits it: the decorators run bottom-up on the descriptor. */
function decorateMethod(target, key, decorators) {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, key)
  Object.defineProperty(
    target.prototype,
    key,
    Reflect.decorate(decorators, target.prototype, key, descriptor) ?? descriptor,
  )
}

/** A parameter decorator at `index`, as tsc's `__param` helper. */
function param(index, decorator) {
  return (target, key) => {
    decorator(target, key, index)
  }
}

class AppController {
  health() {
    return { status: 'ok' }
  }

  me(auth) {
    return { sub: auth.claims.sub, scopes: [...auth.scopes] }
  }

  orders() {
    return [{ id: '1' }]
  }

  refunds() {
    return []
  }
}
decorateMethod(AppController, 'health', [Public(), Get('health')])
decorateMethod(AppController, 'me', [Get('me'), param(0, Auth())])
decorateMethod(AppController, 'orders', [Get('orders'), RequireScopes('orders:read')])
decorateMethod(AppController, 'refunds', [
  Get('refunds'),
  RequireScopes('orders:write', 'orders:admin'),
])
const Controllers = [Reflect.decorate([Controller()], AppController)]

class AppModule {}
const RootModule = Reflect.decorate(
  [
    Module({
      imports: [BearerGuardModule.forRoot({ issuer: ISSUER, audience: AUDIENCE })],
      controllers: Controllers,
      providers: [{ provide: APP_GUARD, useClass: BearerGuard }],
    }),
  ],
  AppModule,
)

// The platform packages are imported only for the platform in use, as an application would.
const adapter =
  PLATFORM === 'fastify'
    ? new (await import('@nestjs/platform-fastify')).FastifyAdapter()
    : new (await import('@nestjs/platform-express')).ExpressAdapter()
const app = await NestFactory.create(RootModule, adapter, { logger: ['error', 'warn'] })
await app.listen(0, '127.0.0.1')
const { port } = app.getHttpServer().address()

// Which Nest this process runs, and where the application and the adapter found it: one copy each.
const requireHere = createRequire(import.meta.url)
const requireFromAdapter = createRequire(
  realpathSync(fileURLToPath(import.meta.resolve('@bearer-guard/nestjs'))),
)
const platformPackage = `@nestjs/platform-${PLATFORM === 'fastify' ? 'fastify' : 'express'}`
const nest = {
  core: requireHere('@nestjs/core/package.json').version,
  common: requireHere('@nestjs/common/package.json').version,
  platform: requireHere(`${platformPackage}/package.json`).version,
  coreFromApp: realpathSync(requireHere.resolve('@nestjs/core')),
  coreFromAdapter: realpathSync(requireFromAdapter.resolve('@nestjs/core')),
  commonFromApp: realpathSync(requireHere.resolve('@nestjs/common')),
  commonFromAdapter: realpathSync(requireFromAdapter.resolve('@nestjs/common')),
}
console.log(`READY ${JSON.stringify({ url: `http://127.0.0.1:${port}`, nest })}`)

process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0))
})
