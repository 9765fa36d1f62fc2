import { Module, type DynamicModule } from '@nestjs/common';
import { PROVIDER_DRIVER } from '../model/provider/provider-driver';
import { SimulatedDriver, type SimulatedOptions } from './simulated/simulated.driver';

/** Binds the provider driver port to the configured backend; adapters never see which one. */
@Module({})
export class ProviderModule {
  static forRoot(cfg: { provider: string; simulated: SimulatedOptions }): DynamicModule {
    if (cfg.provider !== 'simulated') throw new Error(`unknown PROVIDER ${cfg.provider}`);
    const driver = new SimulatedDriver(cfg.simulated);
    return {
      module: ProviderModule,
      global: true,
      providers: [{ provide: PROVIDER_DRIVER, useValue: driver }],
      exports: [PROVIDER_DRIVER],
    };
  }
}
