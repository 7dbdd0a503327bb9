// NestJS without TypeScript: decorators are applied with reflect-metadata's `Reflect.decorate`,
// exactly as compiled TypeScript applies them. Every Nest server is the same controller with
// different guards on its route.
import 'reflect-metadata'
import { Controller, Get, Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { ORDERS, ready } from './shared.mjs'

/** Starts Nest (Express platform) with one controller: GET /orders behind `routeDecorators`. */
export async function startNest({ routeDecorators = [], imports = [], providers = [] } = {}) {
  class OrdersController {
    orders() {
      return ORDERS
    }
  }
  const descriptor = Object.getOwnPropertyDescriptor(OrdersController.prototype, 'orders')
  Reflect.decorate(
    [Get('orders'), ...routeDecorators],
    OrdersController.prototype,
    'orders',
    descriptor,
  )
  Reflect.decorate([Controller()], OrdersController)

  class AppModule {}
  Reflect.decorate([Module({ imports, providers, controllers: [OrdersController] })], AppModule)

  const app = await NestFactory.create(AppModule, { logger: false })
  await app.listen(0, '127.0.0.1')
  ready(app.getHttpServer().address().port)
}
