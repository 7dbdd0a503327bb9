import { Injectable } from '@nestjs/common'

@Injectable()
export class GreetingService {
  greet(subject: string | undefined): string {
    return `hello ${subject ?? 'anonymous'}`
  }
}
