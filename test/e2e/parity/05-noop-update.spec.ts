import { ENGINES } from '../../support/databases';
import { NetworkService } from '../../../src/model/network/network.service';
import { DOORS, DRIVERS, type Door } from './drivers';
import { okOf, resource, useParityApp, waitJob, type ParityEnv } from './parity-support';

/**
 * One rule for updates in every door (ResourceService.update): an update that changes nothing keeps the version,
 * `updated` and so every client's ETag (DSP0263 2.0.0 §4.1.7.2); a real change bumps the version once.
 */
describe.each(ENGINES)('no-op updates [%s]', (engine) => {
  const env = useParityApp(engine);
  let e: ParityEnv;
  let network: string;

  beforeAll(async () => {
    e = env();
    const net = await e.h.get(NetworkService).createNetwork(e.admin, { name: 'noop-net', description: 'd0', networkTemplate: { value: { networkConfig: { value: { networkType: 'PRIVATE' } } } } });
    await waitJob(e, net.job.id);
    network = net.resource!.id;
    await e.h.idle();
  });

  const auth = () => `Basic ${Buffer.from(`${e.adminWho.user}:${e.adminWho.pass}`).toString('base64')}`;
  /** the ETag a REST client holds for the Network */
  async function restGet(): Promise<{ etag: string | null; doc: Record<string, unknown> }> {
    const r = await fetch(`${e.w.base}/cimi/networks/${network}`, { headers: { Authorization: auth(), Accept: 'application/json' } });
    expect(r.status).toBe(200);
    return { etag: r.headers.get('etag'), doc: (await r.json()) as Record<string, unknown> };
  }
  const update = (d: Door, description: string) => DRIVERS[d]['Network.update'](e.w, e.adminWho, { type: 'Network', id: network, description });

  it.each(DOORS)('%s: an update to the current value keeps version, updated and ETag; a change bumps them', async (d) => {
    const before = (await resource(e, 'Network', network))!;
    const etag = (await restGet()).etag;
    expect(etag).toBeTruthy();

    okOf(await update(d, before.description!), `no-op ${d}`);
    await e.h.idle();
    const same = (await resource(e, 'Network', network))!;
    expect({ version: same.version, updated: same.updated, description: same.description }).toEqual({ version: before.version, updated: before.updated, description: before.description });
    expect((await restGet()).etag).toBe(etag);

    okOf(await update(d, `changed-${d}`), `change ${d}`);
    await e.h.idle();
    const changed = (await resource(e, 'Network', network))!;
    expect({ version: changed.version, description: changed.description }).toEqual({ version: before.version + 1, description: `changed-${d}` });
    expect(changed.updated.getTime()).toBeGreaterThanOrEqual(before.updated.getTime());
    expect((await restGet()).etag).not.toBe(etag);
  });

  it('rest: a PUT of the document as read (Get-modify-Put with no modification) answers the same ETag', async () => {
    const { etag, doc } = await restGet();
    const version = (await resource(e, 'Network', network))!.version;
    const r = await fetch(`${e.w.base}/cimi/networks/${network}`, {
      method: 'PUT',
      headers: { Authorization: auth(), Accept: 'application/json', 'Content-Type': 'application/json', 'If-Match': etag! },
      body: JSON.stringify(doc),
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('etag')).toBe(etag);
    expect((await resource(e, 'Network', network))!.version).toBe(version);
    expect((await restGet()).etag).toBe(etag);
  });
});
