import { Controller, Get } from '@nestjs/common'
import { Auth, Public, RequireScopes, type VerifiedAccessToken } from '@bearer-guard/nestjs'
import { GreetingService } from './greeting.service'

@Controller()
export class AppController {
  // Injected by type: this app uses emitDecoratorMetadata, as the Nest starter does.
  constructor(private readonly greetings: GreetingService) {}

  @Public()
  @Get('health')
  health() {
    return { status: 'ok' }
  }

  @Get('hello')
  @RequireScopes('greet')
  hello(@Auth() auth: VerifiedAccessToken) {
    return { message: this.greetings.greet(auth.claims.sub) }
  }
}
