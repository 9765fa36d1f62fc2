import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../persistence/typeorm/data-source';
import { PROVIDER_DRIVER, type ProviderDriver } from '../model/provider/provider-driver';

/** Liveness (the process answers) and readiness (database and provider reachable), with @nestjs/terminus. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(PROVIDER_DRIVER) private readonly driver: ProviderDriver,
  ) {}

  @Get(['', 'live'])
  @HealthCheck()
  live() {
    return this.health.check([async () => this.indicators.check('process').up({ pid: process.pid })]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      async () => {
        const s = this.indicators.check('database');
        try {
          await this.db.query('SELECT 1');
          return s.up({ type: this.db.options.type });
        } catch (e) {
          return s.down({ message: (e as Error).message });
        }
      },
      async () => {
        const s = this.indicators.check('provider');
        return (await this.driver.healthy()) ? s.up({ name: this.driver.name }) : s.down({ name: this.driver.name });
      },
    ]);
  }
}
