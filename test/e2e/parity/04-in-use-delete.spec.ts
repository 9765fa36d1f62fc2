import { ENGINES } from '../../support/databases';
import { JobService } from '../../../src/model/job/job.service';
import { MachineService } from '../../../src/model/machine/machine.service';
import { NetworkService } from '../../../src/model/network/network.service';
import { ResourceService } from '../../../src/model/shared/resource.service';
import { DOORS, DRIVERS, rest, type Door, type Outcome } from './drivers';
import { ensureState, makeOne, okOf, resource, useParityApp, waitJob, type ParityEnv } from './parity-support';

/**
 * A resource still in use cannot be deleted, in any door (checkDeletable, src/model/shared/guards.ts): a Volume attached to a
 * Machine, and a Network a Machine's network interface is on. The Network refusal must be what each door already
 * answers for the attached Volume (REST 409 + CIMI error, SOAP Client fault with the model code, WS-Man Concurrency
 * fault with the model code), and nothing may change: the Network stays, at the same version, with no delete Job.
 */
describe.each(ENGINES)('deleting a resource in use [%s]', (engine) => {
  const env = useParityApp(engine);
  let e: ParityEnv;
  let machine: string;
  let network: string;
  let volume: string;
  const shared: Record<string, string> = {};

  beforeAll(async () => {
    e = env();
    for (const t of ['MachineConfiguration', 'VolumeConfiguration', 'VolumeTemplate'] as const) shared[t] = await makeOne(e, e.adminWho, t, shared, `inuse-${t}`);
    const net = await e.h.get(NetworkService).createNetwork(e.admin, { name: 'in-use-net', networkTemplate: { value: { initialState: 'STARTED', networkConfig: { value: { networkType: 'PRIVATE' } } } } });
    await waitJob(e, net.job.id);
    network = net.resource!.id;
    const m = await e.h.get(MachineService).create(e.admin, {
      name: 'in-use-vm',
      machineTemplate: { value: { machineConfig: { ref: { type: 'MachineConfiguration', id: shared.MachineConfiguration } }, networkInterfaces: [{ network: { ref: { type: 'Network', id: network } } }] } },
    });
    await waitJob(e, m.job.id);
    machine = m.resource!.id;
    volume = await makeOne(e, e.adminWho, 'Volume', shared, 'in-use-vol');
    const att = okOf(await DRIVERS.rest['Machine.attachVolume'](e.w, e.adminWho, { type: 'Machine', parent: machine, extra: volume }), 'attach');
    await waitJob(e, att.job!);
    await e.h.idle();
  });

  const del = (d: Door, type: 'Volume' | 'Network', id: string): Promise<Outcome> => DRIVERS[d][`${type}.delete`](e.w, e.adminWho, { type, id });
  const deleteJobs = async (id: string) =>
    (await e.h.get(JobService).list(e.admin, { first: 1, last: 1000 })).items.filter((j) => j.action === 'delete' && j.affectedResources.some((r) => r.id === id) && j.state !== 'FAILED');
  const soapFault = (o: Outcome) => ({
    faultcode: /<faultcode>([^<]+)<\/faultcode>/.exec(o.text)?.[1],
    kind: /<t:kind>([^<]+)<\/t:kind>/.exec(o.text)?.[1],
    code: /<t:code>([^<]+)<\/t:code>/.exec(o.text)?.[1],
    resourceType: /<t:resourceType>([^<]+)<\/t:resourceType>/.exec(o.text)?.[1],
    resourceId: /<t:resourceId>([^<]+)<\/t:resourceId>/.exec(o.text)?.[1],
  });

  it.each(DOORS)('%s: a Network a machine interface is on is refused like an attached Volume', async (d) => {
    const volBefore = await resource(e, 'Volume', volume);
    const netBefore = await resource(e, 'Network', network);
    const vol = await del(d, 'Volume', volume);
    const net = await del(d, 'Network', network);
    expect(vol.ok).toBe(false);
    expect(net.ok).toBe(false);
    expect({ status: net.status, kind: net.kind }).toEqual({ status: vol.status, kind: vol.kind });
    expect(net.kind).toBe('invalid-state');
    if (d === 'rest') {
      // cimi-error.filter.ts: 409 with a CIMI Job in FAILED state whose statusMessage starts with the model code
      expect(vol.code).toBe('VOLUME.INVALID_STATE');
      expect(net.code).toBe('NETWORK.INVALID_STATE');
      const body = JSON.parse(net.text) as Record<string, unknown>;
      expect({ status: net.status, resourceURI: body.resourceURI, state: body.state }).toEqual({ status: 409, resourceURI: 'http://schemas.dmtf.org/cimi/1/Job', state: 'FAILED' });
    } else if (d === 'soap') {
      // soap-fault.ts: SOAP 1.1 faultcode Client, the GatewayFault detail carries kind, model code and resource
      expect(soapFault(vol)).toEqual({ faultcode: 'soap:Client', kind: 'invalid-state', code: 'VOLUME.INVALID_STATE', resourceType: 'Volume', resourceId: volume });
      expect(soapFault(net)).toEqual({ faultcode: 'soap:Client', kind: 'invalid-state', code: 'NETWORK.INVALID_STATE', resourceType: 'Network', resourceId: network });
    } else {
      // wsman-fault.ts: invalid state on Delete is wsman:Concurrency carrying the model code
      expect({ kind: vol.kind, code: vol.code }).toEqual({ kind: 'invalid-state', code: 'VOLUME.INVALID_STATE' });
      expect({ kind: net.kind, code: net.code }).toEqual({ kind: 'invalid-state', code: 'NETWORK.INVALID_STATE' });
    }
    await e.h.idle();
    expect(await resource(e, 'Volume', volume)).toEqual(volBefore);
    expect(await resource(e, 'Network', network)).toEqual(netBefore);
    expect(await deleteJobs(network)).toEqual([]);
  });

  it('rest: a System whose Network component a Machine outside it uses is refused, and nothing is deleted', async () => {
    const cimi = 'http://schemas.dmtf.org/cimi/1';
    const ncfg = await makeOne(e, e.adminWho, 'NetworkConfiguration', {}, 'sys-ncfg');
    const ntpl = await makeOne(e, e.adminWho, 'NetworkTemplate', { NetworkConfiguration: ncfg }, 'sys-ntpl');
    const st = okOf(
      await rest(e.w, e.adminWho, 'POST', '/systemTemplates', {
        resourceURI: `${cimi}/SystemTemplate`,
        name: 'net-only',
        componentDescriptors: [{ name: 'net', type: `${cimi}/Network`, quantity: 1, networkTemplate: { href: `${e.w.base}/cimi/networkTemplates/${ntpl}` } }],
      }),
      'SystemTemplate',
    );
    const sys = await makeOne(e, e.adminWho, 'System', { SystemTemplate: st.id! }, 'net-system');
    await e.h.idle();
    const links = await e.h.get(ResourceService).listChildren(e.admin, 'System', sys, 'SystemNetwork', {});
    const sysNet = (links.items[0].attrs as { network: { id: string } }).network.id;
    await ensureState(e, 'Network', sysNet, 'STARTED');
    const outside = await e.h.get(MachineService).create(e.admin, {
      name: 'outside-vm',
      machineTemplate: { value: { machineConfig: { ref: { type: 'MachineConfiguration', id: shared.MachineConfiguration } }, networkInterfaces: [{ network: { ref: { type: 'Network', id: sysNet } } }] } },
    });
    await waitJob(e, outside.job.id);
    await e.h.idle();
    const sysBefore = await resource(e, 'System', sys);
    const netBefore = await resource(e, 'Network', sysNet);
    const o = await rest(e.w, e.adminWho, 'DELETE', `/systems/${sys}`);
    expect({ status: o.status, code: o.code }).toEqual({ status: 409, code: 'NETWORK.INVALID_STATE' });
    await e.h.idle();
    expect(await resource(e, 'System', sys)).toEqual(sysBefore);
    expect(await resource(e, 'Network', sysNet)).toEqual(netBefore);
    expect(await deleteJobs(sys)).toEqual([]);
  });

  it('once its Machine is gone, the Network can be deleted', async () => {
    const gone = await e.h.get(ResourceService).delete(e.admin, 'Machine', machine);
    await waitJob(e, gone.job.id);
    await e.h.idle();
    const o = okOf(await del('rest', 'Network', network), 'delete network');
    expect((await waitJob(e, o.job!)).state).toBe('SUCCESS');
    await e.h.idle();
    expect(await resource(e, 'Network', network)).toBeUndefined();
  });
});
