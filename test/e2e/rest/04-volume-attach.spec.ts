import { ENGINES } from '../../support/databases';
import { CIMI_NS, FORMATS, items, ok, op, opOrUndefined, useRestApp, type Doc } from '../../support/cimi-client';

/**
 * Plug-fest scenario 4 (1.x attach, docs/cimi.md §2.3): VolumeCreate, attach through a MachineVolume POSTed to the
 * machine's `volumes` add href, see it there, detach by deleting the MachineVolume, delete the Volume.
 */
/** a Job's targetResource and affectedResources hrefs, deduplicated */
function jobHrefs(job: Doc): string[] {
  const affected = ([] as Doc[]).concat(job.affectedResources ?? []);
  return [...new Set([job.targetResource.href as string, ...affected.map((r) => r.href as string)])];
}

describe.each(ENGINES)('REST volume attach/detach [%s]', (engine) => {
  const env = useRestApp(engine);

  describe.each(FORMATS)('%s', (format) => {
    it('VolumeCreate → attach → listed in machine volumes → detach → delete', async () => {
      const c = env().client(format);
      const cep = await c.cep();

      // a Volume from a VolumeTemplate by value whose volumeConfig is by reference
      const vcfg = items(ok(await c.get(cep.volumeConfigs.href), 200).doc)[0];
      const volumes = ok(await c.get(cep.volumes.href), 200).doc;
      const before = volumes.count;
      const vr = ok(await c.post(op(volumes, 'add'), 'VolumeCreate', { name: `vol-${format}`, volumeTemplate: { volumeConfig: { href: vcfg.id } } }), 201, 202);
      expect(vr.headers['cimi-job-uri']).toBeTruthy();
      const volHref = vr.headers.location;
      expect((await c.waitJob(vr.headers['cimi-job-uri'])).state).toBe('SUCCESS');
      const vol = ok(await c.get(volHref), 200).doc;
      expect(vol.state).toBe('AVAILABLE');
      expect(vol.capacity).toBe(vcfg.capacity);
      expect(ok(await c.get(cep.volumes.href), 200).doc.count).toBe(before + 1);

      // a second Volume with its configuration by value (VolumeConfigByValue)
      const v2 = ok(await c.post(cep.volumes.href, 'VolumeCreate', { name: `vol2-${format}`, volumeTemplate: { volumeConfig: { capacity: 2000000, format: 'xfs' } } }), 201, 202);
      await c.waitJob(v2.headers['cimi-job-uri']);
      expect(ok(await c.get(v2.headers.location), 200).doc.capacity).toBe(2000000);

      // a Machine to attach it to
      const cfg = items(ok(await c.get(cep.machineConfigs.href, { $filter: "name='small'" }), 200).doc)[0];
      const mr = ok(await c.post(cep.machines.href, 'MachineCreate', { name: `vm-vol-${format}`, machineTemplate: { machineConfig: { href: cfg.id } } }), 201, 202);
      await c.waitJob(mr.headers['cimi-job-uri']);
      const m = ok(await c.get(mr.headers.location), 200).doc;
      const mvColl = ok(await c.get(m.volumes.href), 200).doc;
      expect(mvColl.resourceURI).toBe(`${CIMI_NS}/MachineVolumeCollection`);
      expect(mvColl.count).toBe(0);

      // attach: POST a MachineVolume to the volumes collection's add href
      const ar = ok(await c.post(op(mvColl, 'add'), 'MachineVolume', { initialLocation: '/dev/vdb', volume: { href: volHref } }), 201, 202);
      const linkHref = ar.headers.location;
      expect(linkHref).toMatch(new RegExp(`^${m.volumes.href}/`));
      const attachJob = await c.waitJob(ar.headers['cimi-job-uri']);
      expect(attachJob.state).toBe('SUCCESS');
      // the Job's references are hrefs a client can follow: the MachineVolume under its Machine, the Machine, the Volume
      const attachRefs = jobHrefs(attachJob);
      expect(attachJob.targetResource.href).toBe(linkHref);
      expect([...attachRefs].sort()).toEqual([...new Set([linkHref, m.id, volHref])].sort());
      for (const href of attachRefs) expect({ href, status: (await c.get(href)).status }).toEqual({ href, status: 200 });

      const listed = ok(await c.get(m.volumes.href), 200).doc;
      expect(listed.count).toBe(1);
      const link = items(listed)[0];
      expect(link.id).toBe(linkHref);
      expect(link.initialLocation).toBe('/dev/vdb');
      expect(link.volume.href).toBe(volHref);
      // an attachment's first operation is its delete (the Deltacloud suite reads it first)
      expect(link.operations[0].rel).toBe('delete');
      // the link reads back, and $expand inlines the Volume
      const one = ok(await c.get(linkHref, { $expand: 'volume' }), 200).doc;
      expect(one.volume.href).toBe(volHref);
      expect(one.volume.capacity).toBe(vol.capacity);

      // an attached Volume cannot be deleted, nor attached twice
      const busy = await c.delete(op(vol, 'delete'));
      expect(busy.status).toBe(409);
      expect(busy.doc.state).toBe('FAILED');
      const twice = await c.post(op(mvColl, 'add'), 'MachineVolume', { initialLocation: '/dev/vdc', volume: { href: volHref } });
      expect(twice.status).toBe(409);
      expect(ok(await c.get(m.volumes.href), 200).doc.count).toBe(1);

      // detach: the MachineVolume's delete operation
      const dr = ok(await c.delete(op(link, 'delete')), 200, 202);
      expect(dr.headers['cimi-job-uri']).toBeTruthy();
      const detachJob = await c.waitJob(dr.headers['cimi-job-uri']);
      expect(detachJob.state).toBe('SUCCESS');
      // the detached link is gone; the Job still names it under its Machine, and the Machine and Volume resolve
      expect(detachJob.targetResource.href).toBe(linkHref);
      for (const href of jobHrefs(detachJob).filter((h) => h !== linkHref)) expect({ href, status: (await c.get(href)).status }).toEqual({ href, status: 200 });
      expect(ok(await c.get(m.volumes.href), 200).doc.count).toBe(0);
      expect((await c.get(linkHref)).status).toBe(404);

      // every operation the detached Volume offers works: capture (POST a VolumeImage to its href), restore
      const free = ok(await c.get(volHref), 200).doc;
      expect(free.operations.map((o: Doc) => o.rel.replace(`${CIMI_NS}/action/`, ''))).toEqual(expect.arrayContaining(['capture', 'restore', 'delete', 'edit']));
      const cap = ok(await c.post(op(free, 'capture'), 'VolumeImage', { name: `vimg-${format}`, imageLocation: volHref }), 201, 202);
      expect((await c.waitJob(cap.headers['cimi-job-uri'])).state).toBe('SUCCESS');
      expect(ok(await c.get(cap.headers.location), 200).doc.state).toBe('AVAILABLE');
      const rs = ok(await c.action(op(ok(await c.get(volHref), 200).doc, 'restore'), 'restore', { image: { href: cap.headers.location } }), 202);
      expect((await c.waitJob(rs.headers['cimi-job-uri'])).state).toBe('SUCCESS');
      expect(ok(await c.get(volHref), 200).doc.state).toBe('AVAILABLE');
      // restore needs a VolumeImage
      const noImg = await c.action(op(ok(await c.get(volHref), 200).doc, 'restore'), 'restore');
      expect(noImg.status).toBe(400);

      // delete the Volumes (200 or 202, never 204)
      for (const href of [volHref, v2.headers.location]) {
        const v = ok(await c.get(href), 200).doc;
        const del = ok(await c.delete(op(v, 'delete')), 200, 202);
        await c.waitJob(del.headers['cimi-job-uri']);
        await c.waitGone(href);
      }
      expect(ok(await c.get(cep.volumes.href), 200).doc.count).toBe(before);
      await c.waitJob(ok(await c.delete(op(m, 'delete')), 200, 202).headers['cimi-job-uri']);
    });

    it('the machine volumes collection of a reader has no add, its links no delete', async () => {
      const { h } = env();
      const reader = await h.user('demo', ['reader'], `reader-vol-${format}-${engine}`);
      const c = env().client(format);
      const rc = c.as(reader.principal.userName, 'password-123');
      const cep = await c.cep();
      const cfg = items(ok(await c.get(cep.machineConfigs.href, { $filter: "name='small'" }), 200).doc)[0];
      const mr = ok(await c.post(cep.machines.href, 'MachineCreate', { machineTemplate: { machineConfig: { href: cfg.id } } }), 201, 202);
      await c.waitJob(mr.headers['cimi-job-uri']);
      const m = ok(await rc.get(mr.headers.location), 200).doc;
      expect(m.operations ?? []).toEqual([]);
      const coll = ok(await rc.get(m.volumes.href), 200).doc;
      expect(opOrUndefined(coll, 'add')).toBeUndefined();
      const machines: Doc = ok(await rc.get(cep.machines.href), 200).doc;
      expect(opOrUndefined(machines, 'add')).toBeUndefined();
    });
  });
});
