// @nestjs/passport + passport-jwt, keys from jwks-rsa (the JWKS URL is given: no discovery),
// scope checked by a small guard after AuthGuard('jwt').
import { ForbiddenException, Injectable, UseGuards } from '@nestjs/common'
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport'
import jwksRsa from 'jwks-rsa'
import { ExtractJwt, Strategy } from 'passport-jwt'
import { startNest } from './nest-shared.mjs'
import { AUDIENCE, ISSUER, JWKS_URI, hasScope } from './shared.mjs'

class JwtStrategy extends PassportStrategy(Strategy) {
  constructor() {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: jwksRsa.passportJwtSecret({
        jwksUri: JWKS_URI,
        cache: true,
        rateLimit: true,
      }),
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['RS256'],
    })
  }

  validate(payload) {
    return payload
  }
}
Reflect.decorate([Injectable()], JwtStrategy)

class ScopeGuard {
  canActivate(context) {
    if (hasScope(context.switchToHttp().getRequest().user)) return true
    throw new ForbiddenException('insufficient_scope')
  }
}

await startNest({
  imports: [PassportModule],
  providers: [JwtStrategy],
  routeDecorators: [UseGuards(AuthGuard('jwt'), ScopeGuard)],
})
