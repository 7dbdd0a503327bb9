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
  return { issuer: issuers, audience: required(config, 'AUDIENCE'), jwksUri }
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
