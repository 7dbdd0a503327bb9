import { Controller, Get } from '@nestjs/common'
import {
  Auth,
  OptionalAuth,
  Public,
  RequireAnyScope,
  RequirePolicy,
  RequireScopes,
  type VerifiedAccessToken,
} from '@bearer-guard/nestjs'

const reports = [{ id: 'q1', title: 'Orders, first quarter', total: 42 }]
const auditLog = [{ at: '2025-01-01T00:00:00Z', action: 'order.delete', id: '7' }]

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

  // Step-up (RFC 9470): multi-factor authentication (`acr`) within the last 300 s (`auth_time`),
  // else 401 insufficient_user_authentication naming what would do (`acr_values`, `max_age`).
  @Get('admin/audit')
  @RequireScopes('admin')
  @RequirePolicy({ acr: ['urn:example:mfa'], maxAge: 300 })
  audit(): typeof auditLog {
    return auditLog
  }
}
