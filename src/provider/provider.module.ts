import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { PROVIDER_DRIVER, type ProviderDriver } from '../model/provider/provider-driver';
import { SimulatedDriver, type SimulatedOptions } from './simulated/simulated.driver';
import { LibvirtDriver, type LibvirtOptions } from './libvirt/libvirt.driver';

export interface ProviderConfig {
  provider: string;
  simulated: SimulatedOptions;
  libvirt: LibvirtOptions;
}

/** Binds the provider driver port to the configured backend; adapters never see which one. */
@Module({})
export class ProviderModule implements OnApplicationShutdown {
  constructor(@Inject(PROVIDER_DRIVER) private readonly driver: ProviderDriver) {}

  /** the backend connection (libvirt's D-Bus socket) must not keep a stopped gateway's process alive */
  async onApplicationShutdown(): Promise<void> {
    await this.driver.close?.();
  }

  static forRoot(cfg: ProviderConfig): DynamicModule {
    let driver: ProviderDriver;
    if (cfg.provider === 'simulated') driver = new SimulatedDriver(cfg.simulated);
    else if (cfg.provider === 'libvirt') driver = new LibvirtDriver(cfg.libvirt);
    else throw new Error(`unknown PROVIDER ${cfg.provider}`);
    return {
      module: ProviderModule,
      global: true,
      providers: [{ provide: PROVIDER_DRIVER, useValue: driver }],
      exports: [PROVIDER_DRIVER],
    };
  }
}
