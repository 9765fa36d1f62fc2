import type { Job, JobFinal, JobStep } from '../job/job';
import { checkDeletable, requireAllowed } from '../shared/guards';
import type { Mutations } from '../shared/mutation';
import type { OperationContext } from '../shared/operation-context';
import type { TenantTx } from '../shared/ports';
import { isRef, type Resource, type ResourceType } from '../shared/resource';
import { descriptorOf } from '../shared/resource-types';
import { GONE } from '../shared/state-machine';

/**
 * Deleting a System deletes its components with it (DSP0263 2.0.0 §5.10.2: children go with their parent):
 * Machines first (which releases their volume attachments), then Volumes and Networks, in one Job; every
 * component must allow its delete now, or nothing happens. The general delete (ResourceService.delete) hands a
 * System to this function, so every door deletes a System the same way.
 */
export async function startSystemDelete(ctx: OperationContext, tx: TenantTx, mutations: Mutations, system: Resource): Promise<{ resource: Resource; job: Job }> {
  const rule = await requireAllowed(tx, system, 'delete');
  const sref = { type: system.type, id: system.id };
  const order: ResourceType[] = ['Machine', 'Volume', 'Network', 'NetworkPort', 'Credential', 'Address', 'ForwardingGroup'];
  const components: Resource[] = [];
  for (const link of await tx.resources.children(system.id)) {
    const ref = Object.values(link.attrs).find(isRef);
    const c = ref && (await tx.resources.get(ref.type, ref.id));
    if (c) components.push(c);
  }
  components.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
  // a component still used from outside the System (a Volume attached to, a Network under an interface of,
  // another Machine) refuses the whole delete; uses by components that go with it do not count
  const leaving = new Set(components.map((c) => c.id));
  for (const c of components) await checkDeletable(tx, c, leaving);
  const steps: JobStep[] = [];
  const finals: JobFinal[] = [];
  for (const c of components) {
    const ref = { type: c.type, id: c.id };
    if (descriptorOf(c.type).stateMachine) {
      const crule = await requireAllowed(tx, c, 'delete');
      steps.push(...crule.phases.map((p) => ({ ref, state: p.state, step: p.step })));
      finals.push({ ref, to: crule.to, previous: c.state });
      c.state = crule.phases[0].state;
      c.version += 1;
      await tx.resources.update(c);
    } else {
      finals.push({ ref, to: GONE });
    }
  }
  steps.push(...rule.phases.map((p) => ({ ref: sref, state: p.state, step: p.step })));
  finals.push({ ref: sref, to: rule.to, previous: system.state });
  system.state = rule.phases[0].state;
  system.version += 1;
  await tx.resources.update(system);
  const job = mutations.newJob(ctx, { action: 'delete', target: sref, affected: [sref, ...components.map((c) => ({ type: c.type, id: c.id }))], steps, finals });
  await tx.jobs.insert(job);
  return { resource: system, job };
}
