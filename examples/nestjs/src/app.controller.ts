import { Controller, Get } from '@nestjs/common'
import { Auth, Public, RequireAnyScope, type VerifiedAccessToken } from '@bearer-guard/nestjs'

const reports = [{ id: 'q1', title: 'Orders, first quarter', total: 42 }]

@Controller()
export class AppController {
  @Public()
  @Get('health')
  health(): { status: 'ok' } {
    return { status: 'ok' }
  }

  // Every route without @Public() needs a valid access token (APP_GUARD in AppModule).
  @Get('me')
  me(@Auth() auth: VerifiedAccessToken) {
    const { claims, scopes } = auth
    return { sub: claims.sub, client_id: claims.client_id, scopes: [...scopes], claims }
  }

  @Get('reports')
  @RequireAnyScope('reports:read', 'admin')
  reports(): typeof reports {
    return reports
  }
}
