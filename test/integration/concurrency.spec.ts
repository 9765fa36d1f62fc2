import { ENGINES } from '../support/databases';
import { eventually, startHarness, type Harness } from '../support/app-harness';
import { MachineService } from '../../src/model/machine/machine.service';
import { ResourceService } from '../../src/model/shared/resource.service';
import { CatalogService } from '../../src/model/template/catalog.service';
import { JobService } from '../../src/model/job/job.service';
import { isModelError } from '../../src/model/shared/model-error';

jest.setTimeout(60000);

/**
 * 50 concurrent actions on one machine (issue 2): exactly the legal ones succeed — one, since the first moves the
 * machine into a transient state — and every other gets invalid-state or conflict; no update is lost.
 */
describe.each(ENGINES)('concurrent actions on %s', (engine) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(engine, { SIM_STEP_LATENCY_MS: JSON.stringify({ start: 300, stop: 300 }) });
  });
  afterAll(() => h?.close());

  it('lets exactly one of 50 concurrent actions through', async () => {
    const ctx = await h.user('conc', ['user']);
    const cfg = await h.get(CatalogService).create(ctx, 'MachineConfiguration', { attrs: { cpu: 1, memory: 1024 } });
    const c = await h.get(MachineService).create(ctx, { machineTemplate: { value: { machineConfig: { ref: { type: 'MachineConfiguration', id: cfg.resource!.id } } } } });
    const id = c.resource!.id;
    await eventually(async () => (await h.get(ResourceService).get(ctx, 'Machine', id)).state === 'STOPPED');
    const before = await h.get(ResourceService).get(ctx, 'Machine', id);
    const actions = Array.from({ length: 50 }, (_, i) => ['start', 'stop', 'pause', 'restart', 'suspend'][i % 5]);
    const results = await Promise.allSettled(actions.map((a) => h.get(MachineService).act(ctx, id, a)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    for (const r of refused) {
      expect(isModelError(r.reason)).toBe(true);
      expect(['invalid-state', 'conflict']).toContain(r.reason.kind);
    }
    const winner = (ok[0] as PromiseFulfilledResult<Awaited<ReturnType<MachineService['act']>>>).value;
    expect(['start', 'restart']).toContain(winner.job.action);
    // exactly one job was written for all 50 requests
    const jobs = await h.get(JobService).list(ctx, { filter: { kind: 'cmp', attr: 'state', op: '!=', value: 'SUCCESS' } });
    expect(jobs.items.filter((j) => j.affectedResources.some((r) => r.id === id))).toHaveLength(1);
    const done = await eventually(async () => {
      const j = await h.get(JobService).get(ctx, winner.job.id);
      return j.state === 'SUCCESS' ? j : undefined;
    });
    expect(done.state).toBe('SUCCESS');
    const after = await h.get(ResourceService).get(ctx, 'Machine', id);
    expect(after.state).toBe('STARTED');
    // two writes: into STARTING (the winner) and into STARTED (completion); nothing else touched it
    expect(after.version).toBe(before.version + 2);
  });
});
