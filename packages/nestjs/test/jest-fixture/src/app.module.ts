import { Module } from '@nestjs/common'
import { ConfigModule, ConfigService } from '@nestjs/config'
import { APP_GUARD } from '@nestjs/core'
import { BearerGuard, BearerGuardModule } from '@bearer-guard/nestjs'
import { AppController } from './app.controller'
import { GreetingService } from './greeting.service'

@Module({
  imports: [
    ConfigModule.forRoot({ ignoreEnvFile: true }),
    BearerGuardModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        issuer: config.getOrThrow<string>('ISSUER'),
        audience: config.getOrThrow<string>('AUDIENCE'),
      }),
    }),
  ],
  controllers: [AppController],
  providers: [GreetingService, { provide: APP_GUARD, useClass: BearerGuard }],
})
export class AppModule {}
