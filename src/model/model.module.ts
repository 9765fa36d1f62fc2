import { ModelFacade } from './model.facade';
import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { CLOCK, systemClock } from './shared/clock';
import { Mutations } from './shared/mutation';
import { ResourceService } from './shared/resource.service';
import { JobEngine, JOB_ENGINE_OPTIONS, type JobEngineOptions } from './job/job-engine';
import { JobService } from './job/job.service';
import { MachineService } from './machine/machine.service';
import { VolumeService } from './volume/volume.service';
import { ImageService } from './image/image.service';
import { NetworkService } from './network/network.service';
import { SystemService } from './system/system.service';
import { OvfService } from './system/ovf.service';
import { CatalogService } from './template/catalog.service';
import { IdentityService } from './identity/identity.service';
import { CertificateService } from './identity/certificate.service';
import { EnumerationService } from './shared/enumeration.service';
import { AssociationService } from './shared/association.service';
import { KEYRING, type Keyring } from './identity/keyring';
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle, LOGIN_THROTTLE_OPTIONS, type LoginThrottleOptions } from './identity/login-throttle';
import { AuditService, AUDIT_OPTIONS, type AuditOptions } from './audit/audit.service';
import { EventService } from './event/event.service';
import { QuotaService } from './quota/quota.service';
import { MeterService } from './meter/meter.service';
import { MeterSampler, METER_OPTIONS, type MeterOptions } from './meter/meter-sampler';
import { SubscriptionService, SUBSCRIPTION_OPTIONS, type SubscriptionOptions } from './subscription/subscription.service';
import { SubscriptionDelivery, DELIVERY_OPTIONS, type DeliveryOptions } from './subscription/subscription-delivery';
import { ReconcileService, RECONCILE_OPTIONS, type ReconcileOptions } from './provider/reconcile.service';

const SERVICES = [ModelFacade, AuditService, EventService, ResourceService, MachineService, VolumeService, ImageService, NetworkService, SystemService, OvfService, CatalogService, JobService, IdentityService, CertificateService, EnumerationService, AssociationService, QuotaService, MeterService, SubscriptionService];

/**
 * The application services: the operation list every adapter maps (docs/operations.md). Adapter modules import
 * this module only; persistence and the provider driver are bound by the app module through their port tokens.
 */
@Module({})
export class ModelModule {
  static forRoot(engine: JobEngineOptions, keyring: Keyring, reconcile: ReconcileOptions = { intervalMs: 0 }, audit: AuditOptions = { flushMs: 0, bufferMax: 10000 }, throttle: LoginThrottleOptions = DEFAULT_LOGIN_THROTTLE, meters: MeterOptions = { sampleSeconds: 60, retentionHours: 168, timer: false }, subscriptions: SubscriptionOptions & DeliveryOptions = { maxExpiresSeconds: 86400, pollMs: 500, leaseMs: 30000, maxFailures: 5, retryBaseMs: 1000, timer: false }): DynamicModule {
    const providers: Provider[] = [
      { provide: AUDIT_OPTIONS, useValue: audit },
      { provide: LOGIN_THROTTLE_OPTIONS, useValue: throttle },
      LoginThrottle,
      { provide: RECONCILE_OPTIONS, useValue: reconcile },
      ReconcileService,
      { provide: METER_OPTIONS, useValue: meters },
      MeterSampler,
      { provide: SUBSCRIPTION_OPTIONS, useValue: subscriptions },
      { provide: DELIVERY_OPTIONS, useValue: subscriptions },
      SubscriptionDelivery,
      { provide: CLOCK, useValue: systemClock },
      { provide: KEYRING, useValue: keyring },
      { provide: JOB_ENGINE_OPTIONS, useValue: engine },
      JobEngine,
      Mutations,
      ...SERVICES,
    ];
    return { module: ModelModule, global: true, providers, exports: [...SERVICES, JobEngine, ReconcileService, MeterSampler, SubscriptionDelivery, CLOCK, KEYRING] };
  }
}
