import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { ACTION, CIMI_NS, CimiClient, curl, FORMATS, items, ok, op, opOrUndefined, rels, useRestApp, type CimiResponse, type Doc } from '../../support/cimi-client';

/**
 * Plug-fest scenario 2 (DMTF scMachEx): a Machine from a MachineTemplate by reference, followed through its Job;
 * start, stop (force), restart, pause, suspend through the `operations` hrefs with their transient and final
 * states; capture to a MachineImage; delete. Navigation starts at the entry point only.
 *
 * Each provider step takes STEP_MS so that the transient states can be seen between the 202 and the Job's end; on a
 * loaded CI machine (67 suites on 2 cores) 150 ms was sometimes over before the next GET arrived.
 */
const STEP_MS = 600;
const STEP_LATENCY = JSON.stringify(Object.fromEntries(['create', 'start', 'stop', 'pause', 'suspend', 'capture', 'restore', 'delete'].map((s) => [s, STEP_MS])));

/** an accepted asynchronous operation: 202 (or 201/200 when done at once) with a CIMI-Job-URI */
function jobUri(r: CimiResponse, ...statuses: number[]): string {
  ok(r, ...(statuses.length ? statuses : [202]));
  expect(r.headers['cimi-job-uri']).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
  return r.headers['cimi-job-uri'];
}

async function findByName(c: CimiClient, collHref: string, name: string): Promise<Doc> {
  const coll = ok(await c.get(collHref, { $filter: `name='${name}'` }), 200).doc;
  expect(coll.count).toBe(1);
  return items(coll)[0];
}

/** runs an action through the operation href and checks transient then final state */
async function act(c: CimiClient, machineHref: string, name: string, transient: string[], final: string, params: Doc = {}): Promise<Doc> {
  const m = ok(await c.get(machineHref), 200).doc;
  const href = op(m, name);
  const r = await c.action(href, name, params);
  const job = jobUri(r, 202);
  // the answer is the Job, still running
  expect(['QUEUED', 'RUNNING']).toContain(r.doc.state);
  expect(r.doc.action).toBe(`${ACTION}${name}`);
  const during = ok(await c.get(machineHref), 200).doc;
  expect(transient).toContain(during.state);
  const j = await c.waitJob(job);
  expect(j.state).toBe('SUCCESS');
  expect(j.progress).toBe(100);
  expect(j.targetResource.href).toBe(machineHref);
  expect((j.affectedResources ?? []).map((x: Doc) => x.href)).toContain(machineHref);
  const after = ok(await c.get(machineHref), 200).doc;
  expect(after.state).toBe(final);
  return after;
}

describe.each(ENGINES)('REST machine lifecycle [%s]', (engine) => {
  const env = useRestApp(engine, { SIM_STEP_LATENCY_MS: STEP_LATENCY });

  describe.each(FORMATS)('%s', (format) => {
    it('template by reference → create → job → start/stop(force)/restart/pause/suspend → capture → delete', async () => {
      const c = env().client(format);
      const cep = await c.cep();
      const config = await findByName(c, cep.machineConfigs.href, 'small');
      const image = items(ok(await c.get(cep.machineImages.href), 200).doc).find((i) => i.state === 'AVAILABLE')!;
      expect(image).toBeDefined();

      // a MachineTemplate, created by value through the collection's add operation
      const templates = ok(await c.get(cep.machineTemplates.href), 200).doc;
      const t = ok(
        await c.post(op(templates, 'add'), 'MachineTemplate', {
          name: `tpl-${format}`,
          machineConfig: { href: config.id },
          machineImage: { href: image.id },
        }),
        201,
      );
      const templateHref = t.headers.location;
      expect(templateHref).toBeTruthy();
      expect(t.headers['cimi-job-uri']).toBeTruthy();

      // MachineCreate by reference to that template
      const machines = ok(await c.get(cep.machines.href), 200).doc;
      const before = machines.count;
      const cr = await c.post(op(machines, 'add'), 'MachineCreate', { name: `vm-${format}`, description: 'plug-fest', properties: { owner: 'e2e' }, machineTemplate: { href: templateHref } });
      const createJob = jobUri(cr, 201, 202);
      const machineHref = cr.headers.location;
      expect(machineHref).toMatch(new RegExp(`^${cep.machines.href}/`));
      if (cr.status === 202) expect(cr.doc.state).toBe('CREATING');

      // follow the Job to completion
      const j = await c.waitJob(createJob);
      expect(j.state).toBe('SUCCESS');
      expect(j.progress).toBe(100);
      expect(j.targetResource.href).toBe(cep.machines.href);
      expect(j.affectedResources.map((x: Doc) => x.href)).toContain(machineHref);

      let m = ok(await c.get(machineHref), 200).doc;
      expect(m.id).toBe(machineHref);
      expect(m.name).toBe(`vm-${format}`);
      expect(m.properties).toEqual({ owner: 'e2e' });
      expect(m.state).toBe('STOPPED'); // DefaultInitialState
      expect(m.cpu).toBe(config.cpu);
      expect(m.memory).toBe(config.memory);
      expect(ok(await c.get(cep.machines.href), 200).doc.count).toBe(before + 1);
      // restart is listed before start (docs/cimi.md §8.3)
      const r0 = rels(m);
      expect(r0).toEqual(expect.arrayContaining(['start', 'capture', 'delete', 'edit']));
      expect(r0.indexOf('restart')).toBeLessThan(r0.indexOf('start'));
      expect(r0).not.toContain('stop');
      // its disks sub-collection
      const disks = ok(await c.get(m.disks.href), 200).doc;
      expect(disks.count).toBe(1);

      const updatedBefore = m.updated;
      m = await act(c, machineHref, 'start', ['STARTING'], 'STARTED');
      // `updated` changes on explicit attribute updates only, not on actions (docs/cimi.md §3)
      expect(m.updated).toBe(updatedBefore);
      expect(rels(m)).toEqual(expect.arrayContaining(['stop', 'restart', 'pause', 'suspend', 'capture']));
      expect(rels(m)).not.toContain('start');
      await act(c, machineHref, 'stop', ['STOPPING'], 'STOPPED', { force: true });
      await act(c, machineHref, 'start', ['STARTING'], 'STARTED');
      await act(c, machineHref, 'restart', ['STOPPING', 'STARTING'], 'STARTED');
      m = await act(c, machineHref, 'pause', ['PAUSING'], 'PAUSED');
      expect(rels(m)).toContain('start');
      expect(rels(m)).not.toContain('pause');
      await act(c, machineHref, 'start', ['STARTING'], 'STARTED');
      m = await act(c, machineHref, 'suspend', ['SUSPENDING'], 'SUSPENDED');

      // capture: POST a MachineImage whose imageLocation is the Machine to the capture operation's href
      const capHref = op(m, 'capture');
      const cap = await c.post(capHref, 'MachineImage', { name: `img-${format}`, imageLocation: machineHref });
      const capJob = jobUri(cap, 201, 202);
      const imageHref = cap.headers.location;
      expect(imageHref).toMatch(new RegExp(`^${cep.machineImages.href}/`));
      expect(ok(await c.get(machineHref), 200).doc.state).toBe('CAPTURING');
      expect((await c.waitJob(capJob)).state).toBe('SUCCESS');
      const img = ok(await c.get(imageHref), 200).doc;
      expect(img.state).toBe('AVAILABLE');
      expect(img.name).toBe(`img-${format}`);
      expect(ok(await c.get(machineHref), 200).doc.state).toBe('SUSPENDED');

      // restore from that image through the restore operation: RESTORING, then powered off
      await act(c, machineHref, 'restore', ['RESTORING'], 'STOPPED', { image: { href: imageHref } });

      // delete through the delete operation
      m = ok(await c.get(machineHref), 200).doc;
      const del = await c.delete(op(m, 'delete'));
      const delJob = jobUri(del, 200, 202);
      if (del.status === 202) expect(ok(await c.get(machineHref), 200, 404).doc.state ?? 'DELETING').toBe('DELETING');
      expect((await c.waitJob(delJob)).state).toBe('SUCCESS');
      expect((await c.get(machineHref)).status).toBe(404);
      expect(ok(await c.get(cep.machines.href), 200).doc.count).toBe(before);
      // the captured image outlives the Machine; deleting it answers 200 or 202 (not 204)
      const imgDel = await c.delete(op(img, 'delete'));
      await c.waitJob(jobUri(imgDel, 200, 202));
      await c.waitGone(imageHref);
    });

    it('a provider failure ends the Job FAILED and leaves the Machine in ERROR/FAILED, deletable', async () => {
      const c = env().client(format);
      const cep = await c.cep();
      const config = await findByName(c, cep.machineConfigs.href, 'small');
      env().h.driver.injectFault('create', 1, true, 'no capacity left (simulated)');
      const cr = await c.post(cep.machines.href, 'MachineCreate', { name: `doomed-${format}`, machineTemplate: { machineConfig: { href: config.id } } });
      const j = await c.waitJob(jobUri(cr, 201, 202));
      expect(j.state).toBe('FAILED');
      expect(j.progress).toBe(100);
      expect(j.statusMessage).toMatch(/no capacity/);
      expect(typeof j.returnCode).toBe('number');
      expect(j.returnCode).not.toBe(0);
      const m = ok(await c.get(cr.headers.location), 200).doc;
      expect(['ERROR', 'FAILED']).toContain(m.state); // a fatal provider error: FAILED (needs recovery)
      expect(rels(m)).toContain('delete');
      const del = await c.delete(op(m, 'delete'));
      expect((await c.waitJob(jobUri(del, 200, 202))).state).toBe('SUCCESS');
      await c.waitGone(cr.headers.location);
    });

    it('an illegal action for the state is 409 and changes nothing', async () => {
      const c = env().client(format);
      const cep = await c.cep();
      const config = await findByName(c, cep.machineConfigs.href, 'small');
      const cr = await c.post(cep.machines.href, 'MachineCreate', { name: `x-${format}`, machineTemplate: { machineConfig: { href: config.id } } });
      await c.waitJob(jobUri(cr, 201, 202));
      const href = cr.headers.location;
      // a client that kept the stop href from when the machine was STARTED
      const st = ok(await c.action(op(ok(await c.get(href), 200).doc, 'start'), 'start'), 202);
      await c.waitJob(st.headers['cimi-job-uri']);
      const stopHref = op(ok(await c.get(href), 200).doc, 'stop');
      await c.waitJob(ok(await c.action(stopHref, 'stop'), 202).headers['cimi-job-uri']);
      const m = ok(await c.get(href), 200);
      // stop of a STOPPED machine: not offered, and refused when tried at the (stale) operation href anyway
      expect(opOrUndefined(m.doc, 'stop')).toBeUndefined();
      const r = await c.action(stopHref, 'stop');
      expect(r.status).toBe(409);
      expect(r.doc.state).toBe('FAILED');
      expect(r.doc.returnCode).toBe(409);
      expect(r.doc.statusMessage).toMatch(/STOPPED/);
      const again = ok(await c.get(href), 200);
      expect(again.doc.state).toBe('STOPPED');
      expect(again.headers.etag).toBe(m.headers.etag);
      await c.waitJob(jobUri(await c.delete(op(again.doc, 'delete')), 200, 202));
    });
  });

  it('curl: create from the entry point, start, and read the Job, in JSON and XML', async () => {
    const { origin } = env();
    const auth = { user: 'admin', password: ADMIN_PASSWORD };
    const cep = (await curl('GET', `${origin}/cimi/cloudEntryPoint`, { ...auth, headers: { Accept: 'application/json' } })).doc;
    const configs = (await curl('GET', `${cep.machineConfigs.href}?$filter=${encodeURIComponent("name='small'")}`, { ...auth, headers: { Accept: 'application/json' } })).doc;
    const cfg = configs.machineConfigurations[0].id;

    // create in XML with curl
    const xml = `<?xml version="1.0"?>
<MachineCreate xmlns="${CIMI_NS}">
  <name>curl-vm</name>
  <machineTemplate><machineConfig href="${cfg}"/></machineTemplate>
</MachineCreate>`;
    const cr = await curl('POST', cep.machines.href, { ...auth, headers: { 'Content-Type': 'application/xml', Accept: 'application/xml' }, data: xml });
    expect([201, 202]).toContain(cr.status);
    expect(cr.root).toBe('Machine');
    const href = cr.headers.location;
    const jobHref = cr.headers['cimi-job-uri'];
    expect(href).toBeTruthy();
    expect(jobHref).toBeTruthy();
    const c = env().client('json');
    expect((await c.waitJob(jobHref)).state).toBe('SUCCESS');

    // read it with curl in XML, start it with curl in JSON through its operation href
    const m = await curl('GET', href, { ...auth, headers: { Accept: 'application/xml' } });
    expect(m.status).toBe(200);
    expect(m.doc.state).toBe('STOPPED');
    const startHref = op(m.doc, 'start');
    const st = await curl('POST', startHref, {
      ...auth,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      data: JSON.stringify({ resourceURI: `${CIMI_NS}/Action`, action: `${ACTION}start` }),
    });
    expect(st.status).toBe(202);
    expect(st.headers['cimi-job-uri']).toBeTruthy();
    const job = await curl('GET', st.headers['cimi-job-uri'], { ...auth, headers: { Accept: 'application/xml' } });
    expect(job.status).toBe(200);
    expect(job.root).toBe('Job');
    expect((await c.waitJob(st.headers['cimi-job-uri'])).state).toBe('SUCCESS');
    expect((await curl('GET', href, { ...auth, headers: { Accept: 'application/json' } })).doc.state).toBe('STARTED');
    // stop with force, in XML, with the Deltacloud quirks (leading space, doubled scheme)
    const stop = await curl('POST', op((await curl('GET', href, { ...auth, headers: { Accept: 'application/json' } })).doc, 'stop'), {
      ...auth,
      headers: { 'Content-Type': 'application/xml', Accept: 'application/xml' },
      data: `<Action xmlns="${CIMI_NS}"><action> http://http://schemas.dmtf.org/cimi/1/action/stop</action><force>true</force></Action>`,
    });
    expect(stop.status).toBe(202);
    expect(stop.root).toBe('Job');
    expect((await c.waitJob(stop.headers['cimi-job-uri'])).state).toBe('SUCCESS');
    // capture the Deltacloud way: a non-namespaced, lower-case <machineImageCreate> root
    const stopped = (await curl('GET', href, { ...auth, headers: { Accept: 'application/json' } })).doc;
    const cap = await curl('POST', op(stopped, 'capture'), {
      ...auth,
      headers: { 'Content-Type': 'application/xml', Accept: 'application/xml' },
      data: `<machineImageCreate><name>curl-img</name><imageLocation>${href}</imageLocation></machineImageCreate>`,
    });
    expect([201, 202]).toContain(cap.status);
    expect(cap.root).toBe('MachineImage');
    expect((await c.waitJob(cap.headers['cimi-job-uri'])).state).toBe('SUCCESS');
    expect((await curl('GET', cap.headers.location, { ...auth, headers: { Accept: 'application/json' } })).doc.state).toBe('AVAILABLE');
    const del = await curl('DELETE', href, { ...auth, headers: { Accept: 'application/json' } });
    expect([200, 202]).toContain(del.status);
    await c.waitJob(del.headers['cimi-job-uri']);
  });
});
