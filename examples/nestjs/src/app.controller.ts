import { Controller, Get } from '@nestjs/common'
import {
  Auth,
  OptionalAuth,
  Public,
  RequireAnyScope,
  type VerifiedAccessToken,
} from '@bearer-guard/nestjs'

const reports = [{ id: 'q1', title: 'Orders, first quarter', total: 42 }]

@Controller()
export class AppController {
  @Public()
  @Get('health')
  health(): { status: 'ok' } {
    return { status: 'ok' }
  }

  // A token is optional here: without credentials `auth` is undefined, but a token that is sent
  // must be valid (else 400/401).
  @OptionalAuth()
  @Get('catalog')
  catalog(@Auth() auth: VerifiedAccessToken | undefined): { sub: string | null } {
    return { sub: auth?.claims.sub ?? null }
  }

  // Every other route needs a valid access token (APP_GUARD in AppModule).
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
