import { randomBytes } from 'node:crypto';
import { CheckFailed, expect, skip } from '../check';
import type { InteropSession, Reply } from '../session';
import { first, parseXml, xmllintValidate } from '../xml';

/**
 * CIMI REST scenarios (DSP0263 2.0.0 §4, the plug-fest scenarios): CEP discovery in JSON and XML, every collection
 * the entry point offers, errors, queries, Machine create by reference and by value, lifecycle actions and their
 * Jobs, Volume create/attach/detach, delete. Everything is reached from the entry point's hrefs and the resources'
 * `operations`, never from paths this gateway happens to use.
 */
export interface RestSuiteOptions {
  /** the CloudEntryPoint URL */
  url: string;
  /** DSP8009 schema file for the XML checks (skipped without it or without xmllint) */
  schema?: string;
  /** how long a Job may take to finish */
  jobTimeoutMs?: number;
}

type Doc = Record<string, any>;
const JSON_H = { Accept: 'application/json' };
const FINAL = ['SUCCESS', 'FAILED', 'CANCELLED'];

/** what later suites may use: the Machine this run made, and the check that deletes it (run last) */
export interface RestSuiteResult {
  machineHref?: string;
  finish(): Promise<void>;
}

export async function restSuite(s: InteropSession, o: RestSuiteOptions): Promise<RestSuiteResult> {
  const tag = `interop-${randomBytes(4).toString('hex')}`;
  let cep: Doc = {};
  let ns = 'http://schemas.dmtf.org/cimi/1';
  const get = async (href: string, headers: Record<string, string> = JSON_H) => s.send('GET', href, { headers });
  const json = (r: Reply, what: string): Doc => {
    expect(/json/i.test(r.headers['content-type'] ?? ''), `${what} as application/json (DSP0263 4.1.4)`, r.headers['content-type'] ?? 'no Content-Type');
    try {
      return JSON.parse(r.body) as Doc;
    } catch {
      throw new CheckFailed(`${what}: a JSON document`, r.body.slice(0, 200));
    }
  };
  const status = (r: Reply, what: string, ...codes: number[]) => expect(codes.includes(r.status), `${what}: HTTP ${codes.join(' or ')}`, `HTTP ${r.status}: ${r.body.slice(0, 300)}`);
  const collections = () => Object.entries(cep).filter(([k, v]) => k !== 'baseURI' && v && typeof v === 'object' && typeof v.href === 'string') as [string, { href: string }][];
  const op = (doc: Doc, rel: string): string | undefined =>
    ((doc.operations ?? []) as { rel: string; href: string }[]).find((x) => x.rel === rel || x.rel.endsWith(`/action/${rel}`))?.href;
  const itemsOf = (doc: Doc): Doc[] => {
    const k = Object.keys(doc).find((x) => Array.isArray(doc[x]) && x !== 'operations');
    return k ? (doc[k] as Doc[]) : [];
  };
  const waitJob = async (href: string): Promise<Doc> => {
    const until = Date.now() + (o.jobTimeoutMs ?? 60000);
    for (;;) {
      const j = json(await get(href), 'a Job');
      if (FINAL.includes(j.state) || Date.now() > until) return j;
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  /** the Job of a 202 (header CIMI-Job-URI, DSP0263 4.1.7.1) followed to its end, which must be SUCCESS */
  const jobDone = async (r: Reply, what: string) => {
    const jobUri = r.headers['cimi-job-uri'];
    if (r.status !== 202 && !jobUri) return;
    expect(jobUri || !cep.jobs, `${what}: a CIMI-Job-URI header (DSP0263 4.2.1.7: the Provider supports Jobs)`, 'none');
    if (!jobUri) return;
    const j = await waitJob(jobUri);
    expect(j.state === 'SUCCESS', `${what}: its Job ends SUCCESS`, `Job ${j.state}${j.statusMessage ? `: ${j.statusMessage}` : ''}`);
  };
  const waitState = async (href: string, state: string): Promise<Doc> => {
    const until = Date.now() + (o.jobTimeoutMs ?? 60000);
    for (;;) {
      const m = json(await get(href), 'a resource');
      if (m.state === state || Date.now() > until) return m;
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  await s.check('rest', 'rest.cep', 'DSP0263 5.12', 'GET the CloudEntryPoint (JSON)', async () => {
    const r = await get(o.url);
    status(r, 'GET CloudEntryPoint', 200);
    cep = json(r, 'the CloudEntryPoint');
    expect(typeof cep.resourceURI === 'string' && /\/CloudEntryPoint$/.test(cep.resourceURI), 'resourceURI …/CloudEntryPoint (DSP0263 5.12)', cep.resourceURI);
    ns = cep.resourceURI.replace(/\/CloudEntryPoint$/, '');
    expect(typeof cep.id === 'string', 'an id (DSP0263 5.7.1)', cep.id);
    expect(collections().length > 0, 'at least one collection href', Object.keys(cep));
  });

  await s.check('rest', 'rest.cep.xml', 'DSP0263 4.1.4', 'GET the CloudEntryPoint as XML', async () => {
    const r = await get(o.url, { Accept: 'application/xml' });
    status(r, 'GET CloudEntryPoint (XML)', 200);
    expect(/xml/i.test(r.headers['content-type'] ?? ''), 'Content-Type application/xml', r.headers['content-type']);
    const doc = parseXml(r.body, 'the CloudEntryPoint');
    const root = doc.documentElement!;
    expect(root.localName === 'CloudEntryPoint' && root.namespaceURI === ns, `root {${ns}}CloudEntryPoint (DSP0263 4.1.2)`, `{${root.namespaceURI}}${root.localName}`);
    expect(first(doc, ns, 'id')?.textContent?.trim() === cep.id, 'the same id as the JSON form', first(doc, ns, 'id')?.textContent);
  }, ['rest.cep']);

  await s.check('rest', 'rest.xml.schema', 'DSP8009 1.0.2', 'CloudEntryPoint and a collection validate against the CIMI XML schema', async () => {
    if (!o.schema) skip('no DSP8009 schema file given (--schema)');
    if (!ns.endsWith('/cimi/1')) skip(`DSP8009 is the 1.x schema; the endpoint speaks ${ns}`);
    const targets = [o.url, ...collections().slice(0, 3).map(([, v]) => v.href)];
    for (const href of targets) {
      const r = await get(href, { Accept: 'application/xml' });
      status(r, `GET ${href} (XML)`, 200);
      const msg = xmllintValidate(r.body, o.schema);
      if (msg === null) skip('xmllint (libxml2-utils) is not installed');
      expect(msg === undefined, `${href} valid against DSP8009`, msg ?? '');
    }
  }, ['rest.cep.xml']);

  for (const [name, { href }] of collections()) {
    await s.check('rest', `rest.collection.${name}`, 'DSP0263 5.5.12', `GET the ${name} collection`, async () => {
      const r = await get(href);
      status(r, `GET ${name}`, 200);
      const c = json(r, name);
      expect(typeof c.resourceURI === 'string' && /Collection$/.test(c.resourceURI), 'resourceURI …Collection', c.resourceURI);
      expect(c.id === href || typeof c.id === 'string', 'an id', c.id);
      if (c.count !== undefined) expect(Number.isInteger(c.count) && c.count >= itemsOf(c).length, 'count ≥ the items returned', c.count);
    }, ['rest.cep']);
  }

  await s.check('rest', 'rest.error.not-found', 'DSP0263 4.2.2', 'an unknown resource is 404 with an error Job', async () => {
    if (!cep.machines) skip('the entry point offers no machines');
    const r = await get(`${cep.machines.href.replace(/\/$/, '')}/${tag}-no-such-machine`);
    status(r, 'GET an unknown Machine', 404);
    // the error is described by a Job representation (DSP0263 4.2.2: "shall")
    const j = json(r, 'the error body');
    expect(typeof j.resourceURI === 'string' && /\/Job$/.test(j.resourceURI), 'an error Job (resourceURI …/Job)', j.resourceURI ?? r.body.slice(0, 200));
  }, ['rest.cep']);

  await s.check('rest', 'rest.query.paging', 'DSP0263 4.1.6.2', '$first/$last subset a collection', async () => {
    const c = collections().find(([k]) => /Config/.test(k)) ?? collections()[0];
    const r = await get(`${c[1].href}${c[1].href.includes('?') ? '&' : '?'}$first=1&$last=1`);
    status(r, `GET ${c[0]} ?$first=1&$last=1`, 200);
    const items = itemsOf(json(r, c[0]));
    expect(items.length <= 1, 'at most one item', items.length);
  }, ['rest.cep']);

  await s.check('rest', 'rest.query.bad-filter', 'DSP0263 4.1.6.1', 'a malformed $filter is 400', async () => {
    const c = collections()[0];
    const r = await get(`${c[1].href}?$filter=${encodeURIComponent("name='unclosed")}`);
    status(r, 'a malformed $filter', 400);
  }, ['rest.cep']);

  if (s.readOnly) return { finish: async () => undefined };
  const written = ['rest.cep'];
  let machine: Doc | undefined;
  let machineHref: string | undefined;

  const createMachine = async (id: string, clause: string, title: string, template: () => Promise<Doc>) =>
    s.check('rest', id, clause, title, async () => {
      if (!cep.machines) skip('the entry point offers no machines');
      const coll = json(await get(cep.machines.href), 'machines');
      const add = op(coll, 'add');
      if (!add) skip('the machines collection offers no add operation to this user');
      const r = await s.send('POST', add, {
        headers: { ...JSON_H, 'Content-Type': 'application/json' },
        body: JSON.stringify({ resourceURI: `${ns}/MachineCreate`, name: `${tag}-${id.split('.').pop()}`, machineTemplate: await template() }),
      });
      status(r, 'MachineCreate', 201, 202);
      const loc = r.headers.location;
      expect(loc, 'a Location header (DSP0263 4.2.1.1)', 'none');
      s.onCleanup(`Machine ${loc}`, async () => void (await deleteAndWait(loc)));
      await jobDone(r, 'MachineCreate');
      const m = json(await get(loc), 'the new Machine');
      expect(m.id === loc, 'the Machine at its Location', m.id);
      expect(m.name === `${tag}-${id.split('.').pop()}`, 'the name sent', m.name);
      machine ??= m;
      machineHref ??= loc;
    }, written);

  const deleteAndWait = async (href: string) => {
    const cur = await get(href);
    if (cur.status === 404) return;
    const del = op(JSON.parse(cur.body) as Doc, 'delete') ?? href;
    const r = await s.send('DELETE', del, { headers: JSON_H });
    if (![200, 202, 204].includes(r.status)) throw new Error(`DELETE ${href}: HTTP ${r.status}`);
    const until = Date.now() + (o.jobTimeoutMs ?? 60000);
    while ((await get(href)).status !== 404) {
      if (Date.now() > until) throw new Error(`${href} still there after DELETE`);
      await new Promise((res) => setTimeout(res, 200));
    }
  };

  await createMachine('rest.machine.create-by-reference', 'DSP0263 5.14.2.1', 'MachineCreate with a MachineTemplate by reference', async () => {
    if (!cep.machineTemplates) skip('the entry point offers no machineTemplates');
    const coll = json(await get(cep.machineTemplates.href), 'machineTemplates');
    const t = itemsOf(coll)[0];
    if (t) return { href: t.id };
    // none offered: make one from a configuration and an image (DSP0263 4.2.1.1, 5.14.3), removed at the end of the run
    const add = op(coll, 'add');
    if (!add || !cep.machineConfigs || !cep.machineImages) skip('no MachineTemplate to refer to, and none can be made');
    const cfg = itemsOf(json(await get(cep.machineConfigs.href), 'machineConfigs'))[0];
    const img = itemsOf(json(await get(cep.machineImages.href), 'machineImages'))[0];
    if (!cfg || !img) skip('no MachineTemplate, and no MachineConfiguration or MachineImage to make one of');
    const r = await s.send('POST', add, {
      headers: { ...JSON_H, 'Content-Type': 'application/json' },
      body: JSON.stringify({ resourceURI: `${ns}/MachineTemplate`, name: `${tag}-template`, machineConfig: { href: cfg.id }, machineImage: { href: img.id } }),
    });
    status(r, 'MachineTemplate create (DSP0263 4.2.1.1)', 201, 202);
    const loc = r.headers.location;
    expect(loc, 'a Location header for the MachineTemplate', 'none');
    s.onCleanup(`MachineTemplate ${loc}`, async () => void (await deleteAndWait(loc)));
    await jobDone(r, 'MachineTemplate create');
    return { href: loc };
  });

  await createMachine('rest.machine.create-by-value', 'DSP0263 5.14.2.1', 'MachineCreate with a MachineTemplate by value', async () => {
    if (!cep.machineConfigs || !cep.machineImages) skip('the entry point offers no machineConfigs or machineImages');
    const cfg = itemsOf(json(await get(cep.machineConfigs.href), 'machineConfigs'))[0];
    const img = itemsOf(json(await get(cep.machineImages.href), 'machineImages'))[0];
    if (!cfg || !img) skip('no MachineConfiguration or MachineImage to refer to');
    return { machineConfig: { href: cfg.id }, machineImage: { href: img.id } };
  });

  const action = (name: string, final: string) =>
    s.check('rest', `rest.machine.${name}`, 'DSP0263 5.14.1.2', `the Machine's ${name} operation and its Job`, async () => {
      if (!machineHref) skip('no Machine was created');
      const m = json(await get(machineHref), 'the Machine');
      const href = op(m, name);
      expect(href, `a ${name} operation on a ${m.state} Machine (DSP0263 5.14.1.2)`, (m.operations ?? []).map((x: Doc) => x.rel));
      const r = await s.send('POST', href, {
        headers: { ...JSON_H, 'Content-Type': 'application/json' },
        body: JSON.stringify({ resourceURI: `${ns}/Action`, action: `${ns}/action/${name}` }),
      });
      status(r, name, 200, 202, 204);
      await jobDone(r, name);
      const after = await waitState(machineHref, final);
      expect(after.state === final, `state ${final}`, after.state);
    });

  await action('start', 'STARTED');
  await action('stop', 'STOPPED');

  await s.check('rest', 'rest.volume.attach-detach', 'DSP0263 5.15.2, 5.14.1.1', 'VolumeCreate, attach to the Machine, detach, delete', async () => {
    if (!machineHref) skip('no Machine was created');
    if (!cep.volumes || !cep.volumeConfigs) skip('the entry point offers no volumes or volumeConfigs');
    const vcfg = itemsOf(json(await get(cep.volumeConfigs.href), 'volumeConfigs'))[0];
    if (!vcfg) skip('no VolumeConfiguration to refer to');
    const add = op(json(await get(cep.volumes.href), 'volumes'), 'add');
    if (!add) skip('the volumes collection offers no add operation');
    const vr = await s.send('POST', add, {
      headers: { ...JSON_H, 'Content-Type': 'application/json' },
      body: JSON.stringify({ resourceURI: `${ns}/VolumeCreate`, name: `${tag}-vol`, volumeTemplate: { volumeConfig: { href: vcfg.id } } }),
    });
    status(vr, 'VolumeCreate', 201, 202);
    const vol = vr.headers.location;
    expect(vol, 'a Location header', 'none');
    s.onCleanup(`Volume ${vol}`, async () => void (await deleteAndWait(vol)));
    await jobDone(vr, 'VolumeCreate');
    const m = json(await get(machineHref), 'the Machine');
    expect(m.volumes?.href, 'the Machine links its volumes collection (DSP0263 5.14.1.1)', Object.keys(m));
    const mv = json(await get(m.volumes.href), 'the MachineVolume collection');
    const attach = op(mv, 'add');
    expect(attach, 'an add operation on the MachineVolume collection', mv.operations);
    const ar = await s.send('POST', attach, {
      headers: { ...JSON_H, 'Content-Type': 'application/json' },
      body: JSON.stringify({ resourceURI: `${ns}/MachineVolume`, initialLocation: '/dev/vdb', volume: { href: vol } }),
    });
    status(ar, 'attach (MachineVolume add)', 201, 202);
    const link = ar.headers.location;
    expect(link, 'a Location header for the MachineVolume', 'none');
    await jobDone(ar, 'attach');
    const listed = itemsOf(json(await get(m.volumes.href), 'the MachineVolume collection'));
    expect(listed.some((x) => x.volume?.href === vol), 'the Volume listed in the Machine volumes', listed.map((x) => x.volume?.href));
    const l = json(await get(link), 'the MachineVolume');
    const dr = await s.send('DELETE', op(l, 'delete') ?? link, { headers: JSON_H });
    status(dr, 'detach (MachineVolume delete)', 200, 202, 204);
    await jobDone(dr, 'detach');
    const gone = itemsOf(json(await get(m.volumes.href), 'the MachineVolume collection'));
    expect(!gone.some((x) => x.volume?.href === vol), 'the Volume no longer listed', gone.length);
  }, []);

  const finish = async () => {
    await s.check('rest', 'rest.machine.delete', 'DSP0263 4.2.1.4', "the Machine's delete operation removes it", async () => {
      if (!machineHref) skip('no Machine was created');
      await deleteAndWait(machineHref);
      const r = await get(machineHref);
      status(r, 'GET after delete', 404);
    }, []);
  };
  return { machineHref, finish };
}
