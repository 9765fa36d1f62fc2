import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { CIMI_NS, curl, FORMATS, items, ok, useRestApp, type Doc } from '../../support/cimi-client';

/**
 * Plug-fest scenario 1 (DMTF scRMD): discover the entry point, every collection it lists and ResourceMetadata,
 * starting from /cimi/cloudEntryPoint only.
 */
const CEP_COLLECTIONS = [
  'resourceMetadata',
  'systems',
  'systemTemplates',
  'machines',
  'machineTemplates',
  'machineConfigs',
  'machineImages',
  'credentials',
  'credentialTemplates',
  'volumes',
  'volumeTemplates',
  'volumeConfigs',
  'volumeImages',
  'networks',
  'networkTemplates',
  'networkConfigs',
  'networkPorts',
  'networkPortTemplates',
  'networkPortConfigs',
  'addresses',
  'addressTemplates',
  'forwardingGroups',
  'forwardingGroupTemplates',
  'jobs',
];

/** ResourceMetadata capability value by name (JSON `value`; XML `<value>` child, docs/cimi.md §2.7) */
function capability(rmd: Doc, name: string): string | undefined {
  const caps = (rmd.capabilities ?? []) as Doc[];
  const c = caps.find((x) => x.name === name);
  if (!c) return undefined;
  expect(c.uri).toBe(`${CIMI_NS}/capability/${rmd.name}/${name}`);
  return String(c.value);
}

describe.each(ENGINES)('REST discovery [%s]', (engine) => {
  const env = useRestApp(engine);

  describe.each(FORMATS)('%s', (format) => {
    it('the entry point: trailing-slash baseURI and an href for every collection', async () => {
      const c = env().client(format);
      const r = ok(await c.get(c.cepUrl()), 200);
      expect(r.contentType).toBe(c.mediaType);
      expect(r.headers['cimi-specification-version']).toBe('1.1.0');
      if (format === 'json') expect(r.doc.resourceURI).toBe(`${CIMI_NS}/CloudEntryPoint`);
      else expect(r.root).toBe('CloudEntryPoint');
      const cep = r.doc;
      expect(cep.id).toBe(c.cepUrl());
      expect(cep.baseURI).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/.*\/$/);
      for (const name of CEP_COLLECTIONS) {
        expect(typeof cep[name]?.href).toBe('string');
        // every href is absolute and under baseURI (clients resolve relative URIs against it)
        expect(cep[name].href.startsWith(cep.baseURI)).toBe(true);
      }
    });

    it('every collection the entry point lists answers with id, count and its items', async () => {
      const c = env().client(format);
      const cep = await c.cep();
      for (const name of CEP_COLLECTIONS) {
        const r = ok(await c.get(cep[name].href), 200);
        const coll = r.doc;
        expect(coll.id).toBe(cep[name].href);
        expect(typeof coll.count).toBe('number');
        expect(coll.resourceURI).toMatch(new RegExp(`^${CIMI_NS}/\\w+Collection$`));
        if (format === 'xml') expect(r.root).toBe('Collection');
        // unpaged: count = number of entries (the Deltacloud suite checks this)
        expect(items(coll).length).toBe(coll.count);
        for (const it of items(coll)) expect(typeof it.id).toBe('string');
      }
      // the seeded catalog is visible
      const configs = ok(await c.get(cep.machineConfigs.href), 200).doc;
      expect(configs.count).toBeGreaterThanOrEqual(3);
      expect(configs.machineConfigurations.map((x: Doc) => x.name).sort()).toEqual(expect.arrayContaining(['large', 'medium', 'small']));
      const images = ok(await c.get(cep.machineImages.href), 200).doc;
      expect(images.count).toBeGreaterThanOrEqual(1);
      // collections that accept creates advertise `add`
      expect((configs.operations ?? []).map((o: Doc) => o.rel)).toContain('add');
    });

    it('every resource of the seeded catalog reads back at its id', async () => {
      const c = env().client(format);
      const cep = await c.cep();
      for (const name of ['machineConfigs', 'machineImages', 'volumeConfigs', 'networks']) {
        for (const it of items(ok(await c.get(cep[name].href), 200).doc)) {
          const one = ok(await c.get(it.id), 200);
          expect(one.doc.id).toBe(it.id);
          expect(one.headers.etag).toMatch(/^"\d+"$/);
        }
      }
    });

    it('ResourceMetadata: Machine, Job and entry-point capabilities', async () => {
      const c = env().client(format);
      const cep = await c.cep();
      const coll = ok(await c.get(cep.resourceMetadata.href), 200).doc;
      expect(coll.resourceURI).toBe(`${CIMI_NS}/ResourceMetadataCollection`);
      const all = items(coll);
      expect(all.length).toBe(coll.count);
      const byType = new Map(all.map((m) => [m.typeURI, m]));
      for (const t of ['CloudEntryPoint', 'Machine', 'Volume', 'Job', 'MachineImage', 'MachineConfiguration']) expect(byType.has(`${CIMI_NS}/${t}`)).toBe(true);

      // each item reads back at its own id
      const machine = ok(await c.get(byType.get(`${CIMI_NS}/Machine`)!.id), 200).doc;
      expect(machine.typeURI).toBe(`${CIMI_NS}/Machine`);
      expect(capability(machine, 'MachineConfigByValue')).toBe('true');
      expect(capability(machine, 'DefaultInitialState')).toBe('STOPPED');
      expect(capability(machine, 'MachineStopForce')).toBe('true');
      expect(capability(machine, 'InitialStates')?.split(',')).toEqual(expect.arrayContaining(['STARTED', 'STOPPED']));
      const actions = ((machine.actions ?? []) as Doc[]).map((a) => a.uri);
      for (const a of ['start', 'stop', 'restart', 'pause', 'suspend']) expect(actions).toContain(`${CIMI_NS}/action/${a}`);

      const job = ok(await c.get(byType.get(`${CIMI_NS}/Job`)!.id), 200).doc;
      expect(Number(capability(job, 'JobRetention'))).toBeGreaterThan(0);

      const cepMeta = ok(await c.get(byType.get(`${CIMI_NS}/CloudEntryPoint`)!.id), 200).doc;
      for (const q of ['FilterParameter', 'FirstParameter', 'SelectParameter', 'ExpandParameter', 'FormatParameter', 'OrderByParameter']) {
        expect(capability(cepMeta, q)).toBe('true');
      }
    });

    it('$select and $expand on the entry point', async () => {
      const c = env().client(format);
      const sel = ok(await c.get(c.cepUrl(), { $select: 'baseURI,machines' }), 200).doc;
      const { resourceURI: _r, ...rest } = sel;
      expect(Object.keys(rest).sort()).toEqual(['baseURI', 'machines']);
      const exp = ok(await c.get(c.cepUrl(), { $expand: 'machineConfigs,jobs' }), 200).doc;
      expect(exp.machineConfigs.count).toBeGreaterThanOrEqual(3);
      expect(items(exp.machineConfigs).map((x: Doc) => x.name)).toEqual(expect.arrayContaining(['small', 'medium', 'large']));
      expect(typeof exp.jobs.count).toBe('number');
      expect(exp.machines).toEqual({ href: exp.machines.href }); // not asked for
    });

    it('$format overrides Accept; text/xml and */* are acceptable', async () => {
      const c = env().client(format);
      const other = format === 'json' ? 'xml' : 'json';
      const r = ok(await c.get(c.cepUrl(), { $format: other.toUpperCase() }), 200);
      expect(r.contentType).toBe(`application/${other}`);
      const any = ok(await c.request('GET', c.cepUrl(), { accept: '*/*' }), 200);
      expect(['application/json', 'application/xml']).toContain(any.contentType);
    });
  });

  it('curl: the entry point and a collection, in JSON and in XML (an independent client)', async () => {
    const { origin } = env();
    const cepUrl = `${origin}/cimi/cloudEntryPoint`;
    const j = await curl('GET', cepUrl, { user: 'admin', password: ADMIN_PASSWORD, headers: { Accept: 'application/json' } });
    expect(j.status).toBe(200);
    expect(j.doc.resourceURI).toBe(`${CIMI_NS}/CloudEntryPoint`);
    expect(j.doc.baseURI.endsWith('/')).toBe(true);
    const x = await curl('GET', cepUrl, { user: 'admin', password: ADMIN_PASSWORD, headers: { Accept: 'application/xml', 'CIMI-Specification-Version': '1.0' } });
    expect(x.status).toBe(200);
    expect(x.root).toBe('CloudEntryPoint');
    expect(x.headers['cimi-specification-version']).toBe('1.0.1');
    expect(x.doc.machines.href).toBe(j.doc.machines.href);
    const coll = await curl('GET', `${j.doc.machineConfigs.href}?$format=xml`, { user: 'admin', password: ADMIN_PASSWORD });
    expect(coll.status).toBe(200);
    expect(coll.root).toBe('Collection');
    expect(coll.doc.count).toBeGreaterThanOrEqual(3);
  });
});
