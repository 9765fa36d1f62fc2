import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/env.schema';
import { IdentityService } from '../model/identity/identity.service';
import { generatePassword } from '../model/identity/password';
import { JobEngine } from '../model/job/job-engine';
import { systemContext } from '../model/shared/operation-context';
import { ResourceService } from '../model/shared/resource.service';
import { CatalogService } from '../model/template/catalog.service';
import { ImageService } from '../model/image/image.service';
import { NetworkService } from '../model/network/network.service';
import { ReconcileService } from '../model/provider/reconcile.service';
import { MeterSampler } from '../model/meter/meter-sampler';
import { SubscriptionDelivery } from '../model/subscription/subscription-delivery';
import { PROVIDER_DRIVER, type ProviderDriver } from '../model/provider/provider-driver';

/**
 * First start on an empty database: tenant `demo`, the bootstrap admin (password printed once when not
 * configured) and the demo catalog (issue 2 §9). Then the job engine starts and resumes unfinished jobs.
 */
@Injectable()
export class BootstrapService implements OnApplicationBootstrap {
  private readonly log = new Logger('Bootstrap');

  constructor(
    @Inject(APP_CONFIG) private readonly cfg: AppConfig,
    private readonly identity: IdentityService,
    private readonly resources: ResourceService,
    private readonly catalog: CatalogService,
    private readonly images: ImageService,
    private readonly networks: NetworkService,
    private readonly engine: JobEngine,
    private readonly reconcile: ReconcileService,
    private readonly meters: MeterSampler,
    private readonly delivery: SubscriptionDelivery,
    @Inject(PROVIDER_DRIVER) private readonly driver: ProviderDriver,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const tenant = await this.identity.ensureTenant(this.cfg.DEMO_TENANT);
    if ((await this.identity.countUsers()) === 0) {
      const password = this.cfg.ADMIN_PASSWORD ?? generatePassword();
      await this.identity.addUser({ userName: this.cfg.ADMIN_USER, password, tenant: tenant.name, roles: ['admin'] });
      if (!this.cfg.ADMIN_PASSWORD) {
        // printed once, on the first start only: the hash is all that is stored
        process.stdout.write(`\n  cimi-gateway bootstrap admin: user "${this.cfg.ADMIN_USER}" password "${password}" (tenant ${tenant.name})\n\n`);
      }
      this.log.log(`created tenant ${tenant.name} and admin ${this.cfg.ADMIN_USER}`);
    }
    if (this.cfg.SEED_DEMO) await this.seed(tenant.id);
    this.engine.start();
    await this.reconcile.start();
    this.meters.start();
    this.delivery.start();
  }

  private async seed(tenantId: string): Promise<void> {
    const ctx = systemContext(tenantId);
    if ((await this.resources.list(ctx, 'MachineConfiguration', { first: 1, last: 1 })).count > 0) return;
    const GiB = 1024 * 1024; // KiB per GiB: memory is in KiB, capacity in KB (docs/cimi.md §8.5)
    const configs = [
      { name: 'small', description: '1 CPU, 1 GiB RAM, 10 GB disk', attrs: { cpu: 1, memory: 1 * GiB, cpuArch: 'x86_64', cpuSpeed: 2000, disks: [{ capacity: 10 * 1000 * 1000, format: 'ext4' }] } },
      { name: 'medium', description: '2 CPUs, 4 GiB RAM, 40 GB disk', attrs: { cpu: 2, memory: 4 * GiB, cpuArch: 'x86_64', cpuSpeed: 2400, disks: [{ capacity: 40 * 1000 * 1000, format: 'ext4' }] } },
      { name: 'large', description: '8 CPUs, 32 GiB RAM, 200 GB disk', attrs: { cpu: 8, memory: 32 * GiB, cpuArch: 'x86_64', cpuSpeed: 3000, disks: [{ capacity: 200 * 1000 * 1000, format: 'xfs' }] } },
    ];
    for (const c of configs) await this.catalog.create(ctx, 'MachineConfiguration', c);
    // a real backend's own images (libvirt: the pool's base volumes); the simulator has none, so example ones
    const real = await this.driver.images().catch(() => []);
    const images = real.length
      ? real
      : [
          { name: 'debian-12', description: 'debian-12 cloud image', imageLocation: 'https://images.example.org/debian-12-genericcloud-amd64.qcow2' },
          { name: 'ubuntu-24.04', description: 'ubuntu-24.04 cloud image', imageLocation: 'https://images.example.org/ubuntu-24.04-server-cloudimg-amd64.img' },
        ];
    if (real.length) {
      // small enough to boot several real guests under software emulation (TCG)
      await this.catalog.create(ctx, 'MachineConfiguration', { name: 'tiny', description: '1 CPU, 64 MiB RAM, 1 GB disk', attrs: { cpu: 1, memory: 64 * 1024, cpuArch: 'x86_64', disks: [{ capacity: 1000 * 1000 }] } });
    }
    for (const img of images) await this.images.create(ctx, 'MachineImage', { ...img, type: 'IMAGE' });
    for (const [name, gb] of [
      ['volume-10g', 10],
      ['volume-100g', 100],
    ] as const) {
      await this.catalog.create(ctx, 'VolumeConfiguration', { name, description: `${gb} GB ext4 volume`, attrs: { capacity: gb * 1000 * 1000, format: 'ext4' } });
    }
    await this.networks.createNetwork(ctx, {
      name: 'demo-net',
      description: 'private demo network',
      networkTemplate: { value: { initialState: 'STARTED', networkConfig: { value: { networkType: 'PRIVATE', mtu: 1500, classOfService: 'standard' } } } },
    });
    this.log.log('seeded the demo catalog');
  }
}
