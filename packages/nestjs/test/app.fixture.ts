import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Req,
  UseGuards,
} from '@nestjs/common'
import {
  Auth,
  BearerGuard,
  Public,
  RequireAnyScope,
  RequireClaims,
  RequirePolicy,
  RequireScopes,
  definePolicy,
  type BearerGuardRequest,
  type VerifiedAccessToken,
} from '@bearer-guard/nestjs'

/** The CONTRACT.md routes, guarded globally (`APP_GUARD`) by the tests that use it. */
@Controller()
export class ContractController {
  @Public()
  @Get('health')
  health() {
    return { status: 'ok' }
  }

  @Get('me')
  me(@Auth() auth: VerifiedAccessToken, @Req() request: BearerGuardRequest) {
    return {
      sub: auth.claims.sub,
      client_id: auth.claims.client_id,
      scopes: [...auth.scopes],
      claims: auth.claims,
      sameAsRequestAuth: request.auth === auth,
    }
  }

  @Get('orders')
  @RequireScopes('orders:read')
  orders() {
    return [{ id: '1' }]
  }

  @Post('orders')
  @RequireScopes('orders:write')
  create(@Body() body: unknown) {
    return { id: '2', body }
  }

  @Delete('orders/:id')
  @HttpCode(204)
  @RequireScopes('orders:write', 'orders:admin')
  remove(@Param('id') _id: string) {
    return undefined
  }

  @Get('reports')
  @RequireAnyScope('reports:read', 'admin')
  reports() {
    return [{ id: 'q1' }]
  }

  @Get('acme')
  @RequireClaims((claims) => claims.tenant_id === 'acme', 'The token is not for tenant acme')
  acme() {
    return { tenant: 'acme' }
  }

  @Get('refunds')
  @RequirePolicy(definePolicy({ allOf: ['orders:write'], anyOf: ['support', 'admin'] }))
  refunds() {
    return []
  }

  @Public()
  @Get('public-auth')
  publicAuth(@Auth() auth: VerifiedAccessToken) {
    return auth.claims.sub
  }
}

/** A controller guarded with `@UseGuards`; class-level scopes, overridden on one method. */
@Controller('admin')
@UseGuards(BearerGuard)
@RequireScopes('admin')
export class AdminController {
  @Get()
  index() {
    return { admin: true }
  }

  @Get('stats')
  @RequireScopes('stats:read')
  stats() {
    return { stats: true }
  }
}

/** A controller without any guard: nothing is checked. */
@Controller('open')
export class OpenController {
  @Get()
  open() {
    return { open: true }
  }
}
