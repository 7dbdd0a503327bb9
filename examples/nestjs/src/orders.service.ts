import { randomUUID } from 'node:crypto'
import { Injectable } from '@nestjs/common'

/** An order, as the API returns it. */
export interface Order {
  id: string
  item: string
  quantity: number
}

/** Tiny in-memory data: enough to show what each route returns (the same as examples/express). */
@Injectable()
export class OrdersService {
  private readonly orders = new Map<string, Order>([
    ['1', { id: '1', item: 'coffee beans', quantity: 2 }],
  ])

  list(): Order[] {
    return [...this.orders.values()]
  }

  /** Creates an order from a request body of any shape, with defaults for what is missing. */
  create(body: unknown): Order {
    const input = (typeof body === 'object' && body !== null ? body : {}) as Partial<Order>
    const order: Order = {
      id: randomUUID(),
      item: typeof input.item === 'string' ? input.item : 'unnamed item',
      quantity: typeof input.quantity === 'number' ? input.quantity : 1,
    }
    this.orders.set(order.id, order)
    return order
  }

  remove(id: string): void {
    this.orders.delete(id)
  }
}
