import { Module } from '@nestjs/common'
import { ConfigModule, ConfigService } from '@nestjs/config'
import { APP_GUARD } from '@nestjs/core'
import { BearerGuard, BearerGuardModule, type BearerGuardModuleOptions } from '@bearer-guard/nestjs'
import { AppController } from './app.controller.js'
import { OrdersController } from './orders.controller.js'
import { OrdersService } from './orders.service.js'

function required(config: ConfigService, name: string): string {
  const value = config.get<string>(name)
  if (value === undefined || value === '') throw new Error(`${name} is required`)
  return value
}

function oneOf<const T extends string>(
  config: ConfigService,
  name: string,
  values: readonly T[],
  fallback: T,
): T {
  const value = config.get<string>(name) || fallback
  if (!(values as readonly string[]).includes(value)) {
    throw new Error(`${name} must be ${values.join(', ')} or unset, not '${value}'`)
  }
  return value as T
}

/**
 * The validator's options from the environment. `ISSUER` holds one issuer, or several separated
 * by spaces: each one's keys are found by its own discovery and verify only the tokens whose `iss`
 * names it; a token naming any other issuer is refused. What cannot work stops the start-up.
 */
function guardOptions(config: ConfigService): BearerGuardModuleOptions {
  const issuers = required(config, 'ISSUER')
    .split(' ')
    .filter((issuer) => issuer !== '')
  if (issuers.length === 0) throw new Error('ISSUER is required')
  const jwksUri = config.get<string>('JWKS_URI') || undefined
  if (jwksUri !== undefined && issuers.length > 1) {
    throw new Error(
      `JWKS_URI is the key set of a single issuer, but ISSUER lists ${issuers.length}; unset JWKS_URI (each issuer's keys are then found by its own discovery) or list one issuer`,
    )
  }
  // The origin clients use to reach the API: DPoP proofs name it (`htu`), and it is never read
  // from the request's Host or X-Forwarded-* headers.
  const port = Number(config.get<string>('PORT') ?? 3000)
  const publicOrigin = config.get<string>('PUBLIC_ORIGIN') || `http://127.0.0.1:${port}`
  // DPoP (RFC 9449): `allowed` beside Bearer, `required` (Bearer tokens refused), or `off`.
  const dpopMode = oneOf(config, 'DPOP', ['allowed', 'required', 'off'], 'allowed')
  // `1`: every DPoP proof must carry a nonce this API handed out (`DPoP-Nonce`).
  const dpopNonce = oneOf(config, 'DPOP_NONCE', ['0', '1'], '0') === '1'
  // The header in which a trusted TLS-terminating proxy passes the client certificate (URL-encoded
  // PEM), for certificate-bound tokens (RFC 8705). Unset: no header is trusted.
  const certificateHeader = config.get<string>('CLIENT_CERT_HEADER') || undefined
  return {
    issuer: issuers,
    audience: required(config, 'AUDIENCE'),
    jwksUri,
    dpop:
      dpopMode === 'off'
        ? false
        : { origin: publicOrigin, required: dpopMode === 'required', nonce: dpopNonce },
    mtls: { certificateHeader },
  }
}

@Module({
  imports: [
    ConfigModule.forRoot({ ignoreEnvFile: true }),
    BearerGuardModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: guardOptions,
    }),
  ],
  controllers: [AppController, OrdersController],
  providers: [OrdersService, { provide: APP_GUARD, useClass: BearerGuard }],
})
export class AppModule {}
