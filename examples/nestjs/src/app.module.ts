import { Module } from '@nestjs/common'
import { ConfigModule, ConfigService } from '@nestjs/config'
import { APP_GUARD } from '@nestjs/core'
import { BearerGuard, BearerGuardModule } from '@bearer-guard/nestjs'
import { AppController } from './app.controller.js'
import { OrdersController } from './orders.controller.js'
import { OrdersService } from './orders.service.js'

function required(config: ConfigService, name: string): string {
  const value = config.get<string>(name)
  if (value === undefined || value === '') throw new Error(`${name} is required`)
  return value
}

@Module({
  imports: [
    ConfigModule.forRoot({ ignoreEnvFile: true }),
    BearerGuardModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        issuer: required(config, 'ISSUER'),
        audience: required(config, 'AUDIENCE'),
        jwksUri: config.get<string>('JWKS_URI') || undefined,
      }),
    }),
  ],
  controllers: [AppController, OrdersController],
  providers: [OrdersService, { provide: APP_GUARD, useClass: BearerGuard }],
})
export class AppModule {}
