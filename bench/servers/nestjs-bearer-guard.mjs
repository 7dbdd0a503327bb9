import { BearerGuard, BearerGuardModule, RequireScopes } from '@bearer-guard/nestjs'
import { UseGuards } from '@nestjs/common'
import { startNest } from './nest-shared.mjs'
import { SCOPE, guardOptions } from './shared.mjs'

await startNest({
  imports: [BearerGuardModule.forRoot(guardOptions)],
  routeDecorators: [UseGuards(BearerGuard), RequireScopes(SCOPE)],
})
