import { Module } from '@nestjs/common'
import { ConfigModule, ConfigService } from '@nestjs/config'
import { APP_GUARD } from '@nestjs/core'
import { BearerGuard, BearerGuardModule, type BearerGuardModuleOptions } from '@bearer-guard/nestjs'
import { createRedisStores } from '@bearer-guard/redis'
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
 * Where clients fetch this API's RFC 9728 metadata: the well-known path, then the resource's path
 * (RFC 9728 §3.1), on the origin they use (PUBLIC_ORIGIN), never on one read from a request.
 */
function metadataUrl(origin: string, resource: string): string {
  let path: string
  try {
    path = new URL(resource).pathname
  } catch {
    throw new Error(`RESOURCE must be an https:// URL (or http:// on loopback), not '${resource}'`)
  }
  return `${origin}/.well-known/oauth-protected-resource${path === '/' ? '' : path.replace(/\/$/, '')}`
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
  // This API's resource identifier (RFC 8707), optional: the default AUDIENCE, and the module
  // then serves GET /.well-known/oauth-protected-resource[/p], public (RFC 9728), with the scopes
  // of the controllers' decorators, and names it in every 401 and 403 challenge.
  const resource = config.get<string>('RESOURCE') || undefined
  // DPoP (RFC 9449): `allowed` beside Bearer, `required` (Bearer tokens refused), or `off`.
  const dpopMode = oneOf(config, 'DPOP', ['allowed', 'required', 'off'], 'allowed')
  // `1`: every DPoP proof must carry a nonce this API handed out (`DPoP-Nonce`).
  const dpopNonce = oneOf(config, 'DPOP_NONCE', ['0', '1'], '0') === '1'
  // With several instances, give them all one nonce secret, so that a nonce one hands out is
  // accepted by the others (unset: a random secret per process).
  const nonceSecret = config.get<string>('DPOP_NONCE_SECRET') || undefined
  // The header in which a trusted TLS-terminating proxy passes the client certificate (URL-encoded
  // PEM), for certificate-bound tokens (RFC 8705). Unset: no header is trusted.
  const certificateHeader = config.get<string>('CLIENT_CERT_HEADER') || undefined
  // State every instance of the API shares (DPoP proofs seen, revocations, unknown-kid
  // refetches) lives in this Redis; unset, it is per process. Redis unreachable: the process still
  // starts, DPoP requests are refused (never accepted without the replay check), Bearer ones work.
  const redisUrl = config.get<string>('REDIS_URL') || undefined
  const stores =
    redisUrl === undefined
      ? undefined
      : createRedisStores({
          url: redisUrl,
          namespace: config.get<string>('REDIS_NAMESPACE') || 'bearer-guard-example',
        })
  // RFC 7662: with INTROSPECTION_CLIENT_ID and _SECRET, tokens that are not JWTs are sent to the
  // (first) issuer's introspection_endpoint (from discovery), authenticated by
  // client_secret_basic. Active answers are cached (in REDIS_URL when set), at most until exp.
  const introspectionClientId = config.get<string>('INTROSPECTION_CLIENT_ID') || undefined
  const introspection =
    introspectionClientId === undefined
      ? undefined
      : {
          clientId: introspectionClientId,
          clientSecret: required(config, 'INTROSPECTION_CLIENT_SECRET'),
          ...(stores && { cache: stores.introspection }),
        }
  return {
    issuer: issuers.map((issuer, i) =>
      i === 0 && introspection ? { issuer, introspection } : issuer,
    ),
    audience:
      resource === undefined
        ? required(config, 'AUDIENCE')
        : config.get<string>('AUDIENCE') || undefined,
    resource,
    resourceMetadataUrl: resource && metadataUrl(publicOrigin, resource),
    jwksUri,
    dpop:
      dpopMode === 'off'
        ? false
        : {
            origin: publicOrigin,
            required: dpopMode === 'required',
            nonce: dpopNonce && nonceSecret !== undefined ? { secret: nonceSecret } : dpopNonce,
            ...(stores && { replayStore: stores.replay }),
          },
    mtls: { certificateHeader },
    ...(stores && { revocation: stores.revocation, keyRefetchCoordinator: stores.keyRefetch }),
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
