import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { CLOCK, type Clock } from '../shared/clock';
import { IDENTITY_STORE, UNIT_OF_WORK, type IdentityStore, type UnitOfWork } from '../shared/ports';
import type { Resource, ResourceType } from '../shared/resource';
import { descriptorOf } from '../shared/resource-types';
import { withStateEvents } from '../event/resource-event';
import { AuditService } from '../audit/audit.service';
import { OBSERVED_GONE, PROVIDER_DRIVER, type Observation, type ProviderDriver } from './provider-driver';
import { PeriodicPass } from '../shared/periodic-pass';

export interface ReconcileOptions {
  /** PROVIDER_RECONCILE_S in ms; 0 = only at start-up and on backend events */
  intervalMs: number;
}
export const RECONCILE_OPTIONS = Symbol('RECONCILE_OPTIONS');

const PAGE = 200;

/**
 * Moves CIMI resources to the state their backend reports when it changed outside the gateway (issue 12 §2): a
 * domain stopped or crashed behind the gateway's back, a network destroyed with virsh. Runs at start-up, every
 * interval, and for the resource a backend lifecycle event names. Only resources in a stable state and without a
 * running Job are touched (a Job's own transitions are the Job's business); ERROR and FAILED stay until an action
 * clears them. A resource the backend no longer has becomes ERROR with the reason in its state Event and audit
 * record: never silently deleted. Each change writes a state Event and a CADF record whose initiator is the
 * provider, in one transaction that first re-reads the resource.
 */
@Injectable()
export class ReconcileService implements OnApplicationShutdown {
  private readonly log = new Logger('Reconcile');
  private readonly passes = new PeriodicPass('reconcile pass', this.log, () => this.sweep());
  private unwatch?: () => void;

  constructor(
    @Inject(PROVIDER_DRIVER) private readonly driver: ProviderDriver,
    @Inject(UNIT_OF_WORK) private readonly uow: UnitOfWork,
    @Inject(IDENTITY_STORE) private readonly identity: IdentityStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(RECONCILE_OPTIONS) private readonly opts: ReconcileOptions,
    private readonly audit: AuditService,
  ) {}

  async start(): Promise<void> {
    if (this.passes.stopped || !this.driver.observable.length) return;
    try {
      this.unwatch = await this.driver.watch((ref) => void this.reconcileOne(ref.type, ref.id));
    } catch (e) {
      this.log.warn(`no backend events (${(e as Error).message}); relying on the periodic pass`);
    }
    void this.pass();
    if (this.opts.intervalMs > 0) this.passes.every(this.opts.intervalMs);
  }

  /** one pass over every tenant's observable resources; returns how many changed (one pass at a time) */
  pass(): Promise<number> {
    return this.passes.run();
  }

  private async sweep(): Promise<number> {
    let changed = 0;
    for (const tenant of await this.identity.listTenants()) {
      for (const type of this.driver.observable) {
        let after: string | undefined;
        for (;;) {
          if (this.passes.stopped) return changed;
          const page = await this.uow.read(tenant.id, (tx) => tx.resources.list(type, { first: 1, last: PAGE, ...(after ? { after } : {}) }));
          const stable = page.items.filter((r) => this.stable(r));
          if (stable.length) {
            const seen = await this.driver.observe(stable.map((r) => ({ tenantId: r.tenantId, type: r.type, id: r.id })));
            for (let i = 0; i < stable.length; i++) if (await this.apply(stable[i], seen[i])) changed++;
          }
          if (page.items.length < PAGE) break;
          after = page.items[page.items.length - 1].id;
        }
      }
    }
    return changed;
  }

  /** a backend event named this resource: look it up in whichever tenant holds it */
  async reconcileOne(type: ResourceType, id: string): Promise<boolean> {
    try {
      for (const tenant of await this.identity.listTenants()) {
        const r = await this.uow.read(tenant.id, (tx) => tx.resources.get(type, id));
        if (!r) continue;
        if (!this.stable(r)) return false;
        const [seen] = await this.driver.observe([{ tenantId: r.tenantId, type, id }]);
        return await this.apply(r, seen);
      }
    } catch (e) {
      this.log.warn(`reconcile of ${type} ${id} failed: ${(e as Error).message}`);
    }
    return false;
  }

  private stable(r: Resource): boolean {
    return settled(r.type, r.state);
  }

  /** writes the observed state if the resource is still as it was read and no Job has started on it since */
  private async apply(read: Resource, seen: Observation): Promise<boolean> {
    const sm = descriptorOf(read.type).stateMachine!;
    const target = seen.state === OBSERVED_GONE ? sm.errorState : seen.state;
    if (target === read.state || !(sm.states as readonly string[]).includes(target)) return false;
    // a transient state the backend reports (e.g. a guest shutting down) is not a settled fact yet
    if (seen.state !== OBSERVED_GONE && target !== sm.errorState && !settled(read.type, target)) return false;
    const reason = seen.reason ?? `${this.driver.name} reports ${read.type} ${read.name ?? read.id} ${target}`;
    return this.uow.transaction(read.tenantId, async (raw) => {
      const tx = withStateEvents(raw, () => this.clock.now());
      const r = await tx.resources.get(read.type, read.id);
      if (!r || r.version !== read.version || (await tx.jobs.activeFor(r.id))) return false;
      const previous = r.state!;
      r.state = target;
      r.version += 1;
      await tx.resources.update(r);
      await this.audit.recordProviderChange(tx, this.driver.name, r, previous, reason);
      this.log.log(`${r.type} ${r.id}: ${previous} -> ${target} (${reason})`);
      return true;
    });
  }

  onApplicationShutdown(): Promise<void> {
    this.unwatch?.();
    return this.passes.stop();
  }
}

/** a state no operation is moving the resource through, and not one that waits for an operator (ERROR, FAILED) */
function settled(type: ResourceType, state: string | undefined): boolean {
  const sm = descriptorOf(type).stateMachine;
  return !!sm && !!state && (sm.states as readonly string[]).includes(state) && !sm.isTransient(state) && state !== sm.errorState && state !== 'FAILED';
}
