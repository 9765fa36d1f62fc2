import { Module, type DynamicModule } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from './env.schema';

/** The validated configuration, available to every module (nobody reads process.env). */
@Module({})
export class ConfigModule {
  static forRoot(cfg: AppConfig): DynamicModule {
    return { module: ConfigModule, global: true, providers: [{ provide: APP_CONFIG, useValue: cfg }], exports: [APP_CONFIG] };
  }
}
