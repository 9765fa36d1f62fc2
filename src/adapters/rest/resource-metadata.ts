import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/env.schema';
import { machineStateMachine } from '../../model/machine/machine-state';
import { networkStateMachine } from '../../model/network/network-state';
import { PROVIDER_DRIVER, type ProviderDriver } from '../../model/provider/provider-driver';
import { descriptorOf } from '../../model/shared/resource-types';
import type { ResourceType } from '../../model/shared/resource';
import { QUOTA_METRICS } from '../../model/quota/quota';
import type { QuotaReport } from '../../model/quota/quota.service';
import { CIMI_ACTION, CIMI_NS, CIMI_TYPES } from './cimi-types';
import type { CimiUris } from './cimi-uris';
import type { CimiDoc } from './cimi.mapper';

type Cap = [name: string, value: string | boolean | number];

/**
 * ResourceMetadata (DSP0263 2.0.0 §5.9; docs/cimi.md §2.7): exactly the capabilities and actions this gateway
 * supports, computed from the model's tables and the provider driver, so what is advertised is what works.
 */
@Injectable()
export class ResourceMetadataCatalog {
  constructor(
    @Inject(APP_CONFIG) private readonly cfg: AppConfig,
    @Inject(PROVIDER_DRIVER) private readonly driver: ProviderDriver,
  ) {}

  private capabilities(type: string): Cap[] {
    const d = this.driver.capabilities;
    switch (type) {
      case 'CloudEntryPoint':
        return ['FilterParameter', 'FirstParameter', 'SelectParameter', 'ExpandParameter', 'FormatParameter', 'OrderByParameter'].map((n): Cap => [n, true]);
      case 'Machine':
        return [
          ['DefaultInitialState', machineStateMachine.defaultInitialState],
          ['InitialStates', machineStateMachine.initialStates.join(',')],
          ['MachineConfigByValue', true],
          ['MachineCredentialByValue', true],
          ['MachineImageByValue', true],
          ['MachineVolumeTemplatesByValue', true],
          ['MachineTemplateByValue', true],
          ['MachineStopForce', d.machineStopForce],
          ['MachineStopForceDefault', false],
          ['RestoreFromImage', d.restoreFromImage],
          ['UserData', 'imgmod'],
        ];
      case 'Volume':
        return [
          ['SharedVolumeSupport', false],
          ['VolumeConfigByValue', true],
          ['VolumeImageByValue', true],
          ['VolumeSnapshot', true],
          ['VolumeTemplateByValue', true],
        ];
      case 'Credential':
        return [['CredentialTemplateByValue', true]];
      case 'System':
        return [['SystemComponentTemplateByValue', true]];
      case 'Network':
      case 'NetworkPort':
        return [
          [`${type}TemplateByValue`, true],
          ['DefaultInitialState', networkStateMachine.defaultInitialState],
          ['InitialStates', networkStateMachine.initialStates.join(',')],
        ];
      case 'Address':
      case 'ForwardingGroup':
        return [[`${type}TemplateByValue`, true]];
      case 'Job':
        return [['JobRetention', this.cfg.JOB_RETENTION_MINUTES]];
      default:
        return [];
    }
  }

  private names(): string[] {
    return ['CloudEntryPoint', ...CIMI_TYPES.map((t) => t.type), 'Job'];
  }

  /** the tenant's quota of the type, as capabilities (DSP0263 2.0.0 §5.11: Provider-defined constraints) */
  private quotaCapabilities(type: string, quota: QuotaReport | undefined): Cap[] {
    return (quota?.metrics ?? []).flatMap((l): Cap[] => {
      if (QUOTA_METRICS[l.metric].of !== type) return [];
      const n = l.metric[0].toUpperCase() + l.metric.slice(1);
      return l.limit === undefined ? [[`Usage${n}`, l.used]] : [[`Quota${n}`, l.limit], [`Usage${n}`, l.used]];
    });
  }

  one(uris: CimiUris, name: string, quota?: QuotaReport): CimiDoc | undefined {
    if (!this.names().includes(name)) return undefined;
    const doc: CimiDoc = { resourceURI: `${CIMI_NS}/ResourceMetadata`, id: uris.resourceMetadata(name), name, typeURI: `${CIMI_NS}/${name}` };
    const caps = [...this.capabilities(name), ...this.quotaCapabilities(name, quota)];
    if (caps.length) doc.capabilities = caps.map(([n, v]) => ({ name: n, uri: `${CIMI_NS}/capability/${name}/${n}`, value: String(v) }));
    const sm = name === 'Job' || name === 'CloudEntryPoint' ? undefined : descriptorOf(name as ResourceType).stateMachine;
    const actions = name === 'Job' ? ['stop'] : (sm?.actions ?? []).filter((a) => !['edit', 'delete', 'use', 'attach', 'attachVolume', 'detachVolume'].includes(a));
    if (actions.length) doc.actions = actions.map((a) => ({ name: a, uri: `${CIMI_ACTION}${a}`, method: 'POST' }));
    return doc;
  }

  all(uris: CimiUris, quota?: QuotaReport): CimiDoc[] {
    return this.names().map((n) => this.one(uris, n, quota)!);
  }
}
