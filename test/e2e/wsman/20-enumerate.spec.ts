import type { AddressInfo } from 'node:net';
import type { Element } from '@xmldom/xmldom';
import { ENGINES } from '../../support/databases';
import { startHarness, type Harness } from '../../support/app-harness';
import { startGatewayProcess, type GatewayProcess } from '../../support/gateway-process';
import { MachineService } from '../../../src/model/machine/machine.service';
import { CatalogService } from '../../../src/model/template/catalog.service';
import { VolumeService } from '../../../src/model/volume/volume.service';
import { JobService } from '../../../src/model/job/job.service';
import { EventService } from '../../../src/model/event/event.service';
import type { OperationContext } from '../../../src/model/shared/operation-context';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../../../src/persistence/typeorm/data-source';
import { ACTION, CIM, envelope, enumerateBody, expectFault, NS, ok, one, page, post, prop, pullBody, releaseBody, selector, text, children, type Reply } from './enum-support';

jest.setTimeout(120000);

const CS = `${CIM}CIM_ComputerSystem`;
const MACHINES = 1000;

const contextRows = async (ds: DataSource) => Number((await ds.query('SELECT COUNT(*) AS n FROM enumeration_context'))[0].n);

/**
 * Enumerate / Pull / Release through the real door (DSP0226 §8, docs/wsman.md §2) on a running app: 1,000
 * machines paged under a small MaxEnvelopeSize, optimized and not, every EnumerationMode, the count estimate,
 * polymorphic enumeration, context expiry, Release, foreign contexts, and a Pull served by a second gateway
 * process on the same database.
 */
describe.each(ENGINES)('WS-Man enumeration on %s', (engine) => {
  let h: Harness;
  let url: string;
  let auth: { user: string; pass: string };
  let other: { user: string; pass: string };
  const ids = new Set<string>();
  let volumeId: string;
  let owner: OperationContext;

  const send = (o: Parameters<typeof envelope>[0]) => post(url, auth, envelope(o));

  beforeAll(async () => {
    // jobs stay queued: 1,000 machines are created through MachineService in seconds and enumerate as CREATING
    h = await startHarness(engine, { JOB_WORKER: 'false' }, { listen: true });
    url = `http://127.0.0.1:${(h.app.getHttpServer().address() as AddressInfo).port}`;
    const ctx = await h.user('wsenum', ['user']);
    owner = ctx;
    auth = { user: ctx.principal.userName, pass: 'password-123' };
    const o = await h.user('wsenum', ['user']);
    other = { user: o.principal.userName, pass: 'password-123' };
    const catalog = h.get(CatalogService);
    const machines = h.get(MachineService);
    const cfg = await catalog.create(ctx, 'MachineConfiguration', { name: 'small', attrs: { cpu: 1, memory: 1048576 } });
    for (let i = 0; i < MACHINES; i++) {
      const m = await machines.create(ctx, { name: `vm-${i}`, machineTemplate: { value: { machineConfig: { ref: { type: 'MachineConfiguration', id: cfg.resource!.id } } } } });
      ids.add(m.resource!.id);
    }
    const vc = await catalog.create(ctx, 'VolumeConfiguration', { attrs: { capacity: 1000, format: 'ext4' } });
    const v = await h.get(VolumeService).create(ctx, { name: 'data', volumeTemplate: { value: { volumeConfig: { ref: { type: 'VolumeConfiguration', id: vc.resource!.id } } } } });
    volumeId = v.resource!.id;
  }, 300000);
  afterAll(() => h?.close());

  /** pulls a context to its end; returns every item and checks each page against the limits */
  async function drain(first: Reply, opts: { maxElements: number; maxEnvelopeSize?: number; via?: string }): Promise<Element[]> {
    let p = page(ok(first));
    const items = [...p.items];
    let pulls = 0;
    while (!p.end) {
      expect(p.context).toMatch(/^uuid:/);
      const r = ok(await post(opts.via ?? url, auth, envelope({ action: ACTION.pull, resourceUri: CS, body: pullBody(p.context!, opts.maxElements), maxEnvelopeSize: opts.maxEnvelopeSize })));
      if (opts.maxEnvelopeSize) expect(r.bytes).toBeLessThanOrEqual(opts.maxEnvelopeSize);
      p = page(r);
      expect(p.items.length).toBeGreaterThan(0);
      expect(p.items.length).toBeLessThanOrEqual(opts.maxElements);
      items.push(...p.items);
      if (++pulls > 2 * MACHINES) throw new Error('the enumeration does not end');
    }
    // docs/wsman.md §2.2: the last PullResponse carries no context at all; a complete optimized EnumerateResponse
    // an empty one
    if (pulls > 0) expect(p.contextPresent).toBe(false);
    else expect(p.context).toBeUndefined();
    return items;
  }

  const names = (items: Element[]) => items.map((i) => prop(i, 'Name')!);
  const expectAllOnce = (got: string[]) => {
    expect(got.length).toBe(MACHINES);
    expect(new Set(got)).toEqual(ids);
  };

  it('optimized enumeration of 1,000 machines under MaxEnvelopeSize 8192: pages fit, every key exactly once', async () => {
    const max = 8192;
    const r = await send({ action: ACTION.enumerate, resourceUri: CS, maxEnvelopeSize: max, body: enumerateBody('<wsman:OptimizeEnumeration/><wsman:MaxElements>100</wsman:MaxElements>') });
    expect(r.bytes).toBeLessThanOrEqual(max);
    const first = page(ok(r));
    // the size bound, not MaxElements, cut this page
    expect(first.items.length).toBeGreaterThan(0);
    expect(first.items.length).toBeLessThan(100);
    for (const i of first.items) expect(i.namespaceURI).toMatch(/CIMIGW_Machine$/);
    expectAllOnce(names(await drain(r, { maxElements: 100, maxEnvelopeSize: max })));
  });

  it('non-optimized Enumerate returns only a context; Pull pages (MaxElements) to the end', async () => {
    const r = ok(await send({ action: ACTION.enumerate, resourceUri: CS, body: enumerateBody() }));
    const p = page(r);
    expect(p.items).toEqual([]);
    expect(p.end).toBe(false);
    expect(p.context).toMatch(/^uuid:[0-9a-f-]{36}$/);
    expectAllOnce(names(await drain(r, { maxElements: 37 })));
  });

  it('EnumerateEPR and EnumerateObjectAndEPR item shapes; TotalItemsCountEstimate in the header on Enumerate and Pull', async () => {
    const e = ok(await send({ action: ACTION.enumerate, resourceUri: CS, count: true, body: enumerateBody('<wsman:OptimizeEnumeration/><wsman:MaxElements>3</wsman:MaxElements><wsman:EnumerationMode>EnumerateEPR</wsman:EnumerationMode>') }));
    const ep = page(e);
    expect(ep.estimate).toBe(MACHINES);
    expect(ep.items.map((i) => [i.namespaceURI, i.localName])).toEqual(Array(3).fill([NS.wsa, 'EndpointReference']));
    const epr = ep.items[0];
    expect(text(one(epr, NS.wsman, 'ResourceURI'))).toMatch(/CIMIGW_Machine$/);
    expect(ids.has(selector(epr, 'Name')!)).toBe(true);
    expect(selector(epr, 'CreationClassName')).toBe('CIMIGW_Machine');
    const pl = page(ok(await send({ action: ACTION.pull, resourceUri: CS, count: true, body: pullBody(ep.context!, 2) })));
    expect(pl.estimate).toBe(MACHINES);
    expect(ok(await send({ action: ACTION.release, resourceUri: CS, body: releaseBody(ep.context!) })).status).toBe(200);

    // wsl's child order: MaxElements before EnumerationMode (capture 07)
    const o = page(ok(await send({ action: ACTION.enumerate, resourceUri: CS, body: enumerateBody('<wsman:OptimizeEnumeration/><wsman:MaxElements>2</wsman:MaxElements><wsman:EnumerationMode>EnumerateObjectAndEPR</wsman:EnumerationMode>') })));
    expect(o.estimate).toBeUndefined();
    expect(o.items.map((i) => [i.namespaceURI, i.localName])).toEqual([
      [NS.wsman, 'Item'],
      [NS.wsman, 'Item'],
    ]);
    const [inst, ref] = children(o.items[0]);
    expect(inst.localName).toBe('CIMIGW_Machine');
    expect(ref.localName).toBe('EndpointReference');
    expect(selector(ref, 'Name')).toBe(prop(inst, 'Name'));
    await send({ action: ACTION.release, resourceUri: CS, body: releaseBody(o.context!) });
  });

  it('a complete optimized response has an empty context and EndOfSequence, and keeps no context', async () => {
    const ds = h.app.get<DataSource>(DATA_SOURCE);
    const before = await contextRows(ds);
    const r = ok(await send({ action: ACTION.enumerate, resourceUri: `${CIM}CIM_LogicalDisk`, body: enumerateBody('<wsman:OptimizeEnumeration/><wsman:MaxElements>10</wsman:MaxElements>') }));
    const p = page(r);
    expect(p.items.map((i) => prop(i, 'DeviceID'))).toEqual([volumeId]);
    expect(p.contextPresent).toBe(true);
    expect(p.context).toBeUndefined();
    expect(p.end).toBe(true);
    expect(await contextRows(ds)).toBe(before);
  });

  it('polymorphic: PolymorphismMode None on the abstract base returns nothing, ExcludeSubClassProperties renders the base class', async () => {
    const none = page(ok(await send({ action: ACTION.enumerate, resourceUri: CS, body: enumerateBody('<wsman:OptimizeEnumeration/><wsmb:PolymorphismMode>None</wsmb:PolymorphismMode>') })));
    expect(none.items).toEqual([]);
    expect(none.end).toBe(true);
    const ex = page(ok(await send({ action: ACTION.enumerate, resourceUri: CS, body: enumerateBody('<wsman:OptimizeEnumeration/><wsman:MaxElements>1</wsman:MaxElements><wsmb:PolymorphismMode>ExcludeSubClassProperties</wsmb:PolymorphismMode>') })));
    expect(ex.items[0].localName).toBe('CIM_ComputerSystem');
    expect(ex.items[0].namespaceURI).toBe(CS);
    expect(prop(ex.items[0], 'Cpu')).toBeUndefined();
    await send({ action: ACTION.release, resourceUri: CS, body: releaseBody(ex.context!) });
  });

  it('polymorphic enumeration of CIM_ base classes returns every concrete class under them (DSP0227), in one sequence', async () => {
    const jobCount = (await h.get(JobService).list(owner, {})).count;
    const classesOf = async (cls: string, max = 500) => {
      const r = ok(await send({ action: ACTION.enumerate, resourceUri: `${CIM}${cls}`, count: true, body: enumerateBody(`<wsman:OptimizeEnumeration/><wsman:MaxElements>${max}</wsman:MaxElements><wsman:EnumerationMode>EnumerateEPR</wsman:EnumerationMode>`) }));
      const first = page(r);
      const eprs = await drain(r, { maxElements: max });
      const byClass: Record<string, number> = {};
      for (const e of eprs) {
        const c = text(one(e, NS.wsman, 'ResourceURI')).split('/').pop()!;
        byClass[c] = (byClass[c] ?? 0) + 1;
      }
      return { estimate: first.estimate, byClass };
    };
    // every Machine and Volume has its EventLog (a CIM_RecordLog under CIM_EnabledLogicalElement) and a CREATING Event
    const eventCount = (await h.get(EventService).list(owner, null, { first: 1, last: 1 })).page.count;
    expect(eventCount).toBe(MACHINES + 1);
    const logs = MACHINES + 1;
    expect(await classesOf('CIM_EnabledLogicalElement')).toEqual({ estimate: MACHINES + 1 + logs, byClass: { CIMIGW_Machine: MACHINES, CIMIGW_Volume: 1, CIMIGW_EventLog: logs } });
    expect(await classesOf('CIM_StorageExtent')).toEqual({ estimate: 1, byClass: { CIMIGW_Volume: 1 } });
    expect(await classesOf('CIM_ManagedElement')).toEqual({
      estimate: MACHINES + 1 + jobCount + logs + eventCount,
      byClass: { CIMIGW_Machine: MACHINES, CIMIGW_Volume: 1, CIM_ConcreteJob: jobCount, CIMIGW_EventLog: logs, CIMIGW_Event: eventCount },
    });
    expect((await classesOf('CIM_Collection')).byClass).toEqual({});
    // WQL on the all-classes URI, FROM a base class: the filter runs in each concrete class's collection
    const wql = (q: string) => send({ action: ACTION.enumerate, resourceUri: 'http://schemas.dmtf.org/wbem/wscim/1/*', body: enumerateBody(`<wsman:OptimizeEnumeration/><wsman:MaxElements>10</wsman:MaxElements><wsman:Filter Dialect="http://schemas.microsoft.com/wbem/wsman/1/WQL">${q}</wsman:Filter>`) });
    const w = page(ok(await wql("select * from CIM_EnabledLogicalElement where ElementName = 'data'")));
    // the Volume, and its EventLog (named as the resource it logs)
    expect(w.items.map((i) => [i.localName, prop(i, 'DeviceID') ?? prop(i, 'InstanceID')])).toEqual([
      ['CIMIGW_Volume', volumeId],
      ['CIMIGW_EventLog', `CIMIGW:log:${volumeId}`],
    ]);
    // a job's ElementName is computed, not stored: a query that would need it says which class refuses it
    const refused = await wql("select * from CIM_LogicalElement where ElementName = 'data'");
    expectFault(refused, NS.wsman, 'CannotProcessFilter');
    expect(text(one(refused.doc, NS.s, 'Text'))).toMatch(/^CIM_ConcreteJob: ElementName/);
  });

  it('Release frees the context: a later Pull or Release is InvalidEnumerationContext', async () => {
    const p = page(ok(await send({ action: ACTION.enumerate, resourceUri: CS, body: enumerateBody() })));
    const rel = ok(await send({ action: ACTION.release, resourceUri: CS, body: releaseBody(p.context!) }));
    expect(one(rel.doc, NS.s, 'Body')!.childNodes.length).toBe(0);
    expect(text(one(rel.doc, NS.wsa, 'Action'))).toBe(`${ACTION.release}Response`);
    expectFault(await send({ action: ACTION.pull, resourceUri: CS, body: pullBody(p.context!) }), NS.wsen, 'InvalidEnumerationContext');
    expectFault(await send({ action: ACTION.release, resourceUri: CS, body: releaseBody(p.context!) }), NS.wsen, 'InvalidEnumerationContext');
    expectFault(await send({ action: ACTION.pull, resourceUri: CS, body: pullBody('uuid:not-a-context') }), NS.wsen, 'InvalidEnumerationContext');
  });

  it("another user's context is InvalidEnumerationContext, and stays usable by its owner", async () => {
    const p = page(ok(await send({ action: ACTION.enumerate, resourceUri: CS, body: enumerateBody() })));
    expectFault(await post(url, other, envelope({ action: ACTION.pull, resourceUri: CS, body: pullBody(p.context!) })), NS.wsen, 'InvalidEnumerationContext');
    expectFault(await post(url, other, envelope({ action: ACTION.release, resourceUri: CS, body: releaseBody(p.context!) })), NS.wsen, 'InvalidEnumerationContext');
    expect(page(ok(await send({ action: ACTION.pull, resourceUri: CS, body: pullBody(p.context!, 1) }))).items.length).toBe(1);
    await send({ action: ACTION.release, resourceUri: CS, body: releaseBody(p.context!) });
  });

  it('an expired context (wsen:Expires) is InvalidEnumerationContext', async () => {
    const r = ok(await send({ action: ACTION.enumerate, resourceUri: CS, body: enumerateBody('<wsen:Expires>PT0.5S</wsen:Expires>') }));
    const p = page(r);
    expect(text(one(r.doc, NS.wsen, 'Expires'))).toMatch(/^P/);
    await new Promise((res) => setTimeout(res, 700));
    expectFault(await send({ action: ACTION.pull, resourceUri: CS, body: pullBody(p.context!) }), NS.wsen, 'InvalidEnumerationContext');
  });

  it('an Expires already past (dateTime, zero or negative duration) is wsen:InvalidExpirationTime and opens nothing (WS-Enumeration 3.1)', async () => {
    const ds = h.app.get<DataSource>(DATA_SOURCE);
    const before = await contextRows(ds);
    for (const when of ['2001-01-01T00:00:00Z', 'PT0S', '-PT5S']) {
      expectFault(await send({ action: ACTION.enumerate, resourceUri: CS, body: enumerateBody(`<wsen:Expires>${when}</wsen:Expires>`) }), NS.wsen, 'InvalidExpirationTime');
    }
    expect(await contextRows(ds)).toBe(before);
  });

  it('EncodingLimit (MaxEnvelopeSize) when not even one item fits; below 8192 is MinimumEnvelopeLimit', async () => {
    // one machine whose description alone is 12,000 UTF-8 bytes (4,000 characters): it cannot fit in 8192
    const ctx = await h.user('wsenum-big', ['user']);
    const catalog = h.get(CatalogService);
    const cfg = await catalog.create(ctx, 'MachineConfiguration', { attrs: { cpu: 1, memory: 1024 } });
    await h.get(MachineService).create(ctx, { name: 'x'.repeat(200), description: '€'.repeat(4000), machineTemplate: { value: { machineConfig: { ref: { type: 'MachineConfiguration', id: cfg.resource!.id } } } } });
    const big = { user: ctx.principal.userName, pass: 'password-123' };
    const r = await post(url, big, envelope({ action: ACTION.enumerate, resourceUri: CS, maxEnvelopeSize: 8192, body: enumerateBody('<wsman:OptimizeEnumeration/>') }));
    expectFault(r, NS.wsman, 'EncodingLimit', 'MaxEnvelopeSize');
    const e = page(ok(await post(url, big, envelope({ action: ACTION.enumerate, resourceUri: CS, maxEnvelopeSize: 8192, body: enumerateBody() }))));
    expectFault(await post(url, big, envelope({ action: ACTION.pull, resourceUri: CS, maxEnvelopeSize: 8192, body: pullBody(e.context!) })), NS.wsman, 'EncodingLimit', 'MaxEnvelopeSize');
    // wsen:MaxCharacters bounds a Pull the same way
    expectFault(await post(url, big, envelope({ action: ACTION.pull, resourceUri: CS, maxEnvelopeSize: 20000, body: `<wsen:Pull><wsen:EnumerationContext>${e.context!}</wsen:EnumerationContext><wsen:MaxCharacters>9000</wsen:MaxCharacters></wsen:Pull>` })), NS.wsman, 'EncodingLimit', 'MaxEnvelopeSize');
    // with room it comes through
    expect(page(ok(await post(url, big, envelope({ action: ACTION.pull, resourceUri: CS, maxEnvelopeSize: 20000, body: pullBody(e.context!) })))).items.length).toBe(1);
    expectFault(await send({ action: ACTION.enumerate, resourceUri: CS, maxEnvelopeSize: 4096, body: enumerateBody() }), NS.wsman, 'EncodingLimit', 'MinimumEnvelopeLimit');
  });

  it('UnsupportedFeature (unknown EnumerationMode, all-classes URI without a filter), PolymorphismModeNotSupported, UnsupportedExpirationType, unknown class', async () => {
    expectFault(await send({ action: ACTION.enumerate, resourceUri: CS, body: enumerateBody('<wsman:EnumerationMode>EnumerateObjects</wsman:EnumerationMode>') }), NS.wsman, 'UnsupportedFeature', 'EnumerationMode');
    expectFault(await send({ action: ACTION.enumerate, resourceUri: 'http://schemas.dmtf.org/wbem/wscim/1/*', body: enumerateBody() }), NS.wsman, 'UnsupportedFeature', 'FilteringRequired');
    expectFault(await send({ action: ACTION.enumerate, resourceUri: CS, body: enumerateBody('<wsmb:PolymorphismMode>Sometimes</wsmb:PolymorphismMode>') }), NS.wsmb, 'PolymorphismModeNotSupported');
    expectFault(await send({ action: ACTION.enumerate, resourceUri: CS, body: enumerateBody('<wsen:Expires>next week</wsen:Expires>') }), NS.wsen, 'UnsupportedExpirationType');
    expectFault(await send({ action: ACTION.enumerate, resourceUri: `${CIM}CIM_Nothing`, body: enumerateBody() }), NS.wsa, 'DestinationUnreachable', 'InvalidResourceURI');
  });

  describe('a second gateway process on the same database', () => {
    let gw: GatewayProcess;
    beforeAll(async () => {
      gw = await startGatewayProcess({
        SQLITE_PATH: h.cfg.SQLITE_PATH,
        DATABASE_URL: h.cfg.DATABASE_URL,
        ADMIN_PASSWORD: 'admin-secret-pw',
        SEED_DEMO: 'false',
        JOB_WORKER: 'false',
      });
    }, 120000);
    afterAll(() => gw?.kill());

    it('serves the Pulls of an enumeration the first one opened, alternating, each key exactly once', async () => {
      const first = await send({ action: ACTION.enumerate, resourceUri: CS, maxEnvelopeSize: 16384, body: enumerateBody('<wsman:OptimizeEnumeration/><wsman:MaxElements>50</wsman:MaxElements>') });
      let p = page(ok(first));
      const got = names(p.items);
      let n = 0;
      while (!p.end) {
        const via = n++ % 2 === 0 ? gw.url : url;
        p = page(ok(await post(via, auth, envelope({ action: ACTION.pull, resourceUri: CS, maxEnvelopeSize: 16384, body: pullBody(p.context!, 50) }))));
        got.push(...names(p.items));
      }
      expect(n).toBeGreaterThan(2);
      expectAllOnce(got);
    });
  });
});
