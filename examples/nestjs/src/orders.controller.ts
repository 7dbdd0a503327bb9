import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common'
import { RequireScopes } from '@bearer-guard/nestjs'
import { OrdersService, type Order } from './orders.service.js'

@Controller('orders')
export class OrdersController {
  // An explicit token: this example does not emit decorator metadata.
  constructor(@Inject(OrdersService) private readonly orders: OrdersService) {}

  @Get()
  @RequireScopes('orders:read')
  list(): Order[] {
    return this.orders.list()
  }

  @Post()
  @RequireScopes('orders:write')
  create(@Body() body: unknown): Order {
    return this.orders.create(body)
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScopes('orders:write', 'orders:admin')
  remove(@Param('id') id: string): void {
    this.orders.remove(id)
  }
}
