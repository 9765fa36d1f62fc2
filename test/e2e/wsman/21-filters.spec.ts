import type { AddressInfo } from 'node:net';
import type { Element } from '@xmldom/xmldom';
import { ENGINES } from '../../support/databases';
import { startHarness, type Harness } from '../../support/app-harness';
import { MachineService } from '../../../src/model/machine/machine.service';
import { CatalogService } from '../../../src/model/template/catalog.service';
import { VolumeService } from '../../../src/model/volume/volume.service';
import { NetworkService } from '../../../src/model/network/network.service';
import type { Job } from '../../../src/model/job/job';
import type { OperationContext } from '../../../src/model/shared/operation-context';
import { ACTION, ALL, CIM, DIALECT, envelope, enumerateBody, expectFault, NS, ok, one, all, page, post, prop, pullBody, selector, text, children } from './enum-support';

jest.setTimeout(120000);

const CS = `${CIM}CIM_ComputerSystem`;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/**
 * Every enumeration filter dialect through the real door (docs/wsman.md §2.3, capture 05): SelectorFilter, WQL under
 * both URIs, CQL, association filters (AssociatedInstances / AssociationInstances with AssociationClassName,
 * ResultClassName, Role, ResultRole), and the filter faults.
 */
describe.each(ENGINES)('WS-Man enumeration filters on %s', (engine) => {
  let h: Harness;
  let url: string;
  let ctx: OperationContext;
  let auth: { user: string; pass: string };
  let started: string;
  let stopped: string;
  let big: string;
  const vols: string[] = [];
  const nets: string[] = [];

  const send = (resourceUri: string, body: string, extra: { count?: boolean } = {}) => post(url, auth, envelope({ action: ACTION.enumerate, resourceUri, body, ...extra }));
  /** `filter` is XML: a query text goes through esc() */
  const filtered = (resourceUri: string, dialect: string, filter: string, opts: { ns?: 'wsman' | 'wsen'; more?: string; count?: boolean } = {}) =>
    send(resourceUri, enumerateBody(`<wsman:OptimizeEnumeration/><wsman:MaxElements>100</wsman:MaxElements>${opts.more ?? ''}<${opts.ns ?? 'wsman'}:Filter Dialect="${dialect}">${filter}</${opts.ns ?? 'wsman'}:Filter>`), { count: opts.count });
  const ids = (items: Element[], key = 'Name') => items.map((i) => prop(i, key)!).sort();
  const sorted = (...xs: string[]) => [...xs].sort();

  beforeAll(async () => {
    h = await startHarness(engine, {}, { listen: true });
    url = `http://127.0.0.1:${(h.app.getHttpServer().address() as AddressInfo).port}`;
    ctx = await h.user('wsfilter', ['user']);
    auth = { user: ctx.principal.userName, pass: 'password-123' };
    const done = (job: Job) => h.jobEnded(ctx, job);
    const catalog = h.get(CatalogService);
    const machines = h.get(MachineService);
    const small = await catalog.create(ctx, 'MachineConfiguration', { attrs: { cpu: 1, memory: 1048576 } });
    const large = await catalog.create(ctx, 'MachineConfiguration', { attrs: { cpu: 8, memory: 8388608 } });
    const vc = await catalog.create(ctx, 'VolumeConfiguration', { attrs: { capacity: 1000, format: 'ext4' } });
    for (const name of ['v1', 'v2', 'v3']) {
      const v = await h.get(VolumeService).create(ctx, { name, volumeTemplate: { value: { volumeConfig: { ref: { type: 'VolumeConfiguration', id: vc.resource!.id } } } } });
      await done(v.job);
      vols.push(v.resource!.id);
    }
    for (const name of ['n1', 'n2']) {
      const n = await h.get(NetworkService).createNetwork(ctx, { name, networkTemplate: { value: { initialState: 'STARTED', networkConfig: { value: { networkType: 'PRIVATE' } } } } });
      await done(n.job);
      nets.push(n.resource!.id);
    }
    const machine = async (name: string, cfg: string, initialState: string, networks: string[]) => {
      const m = await machines.create(ctx, {
        name,
        machineTemplate: { value: { initialState, machineConfig: { ref: { type: 'MachineConfiguration', id: cfg } }, networkInterfaces: networks.map((id) => ({ network: { ref: { type: 'Network', id } } })) } },
      });
      await done(m.job);
      return m.resource!.id;
    };
    started = await machine('web-1', small.resource!.id, 'STARTED', [nets[0], nets[1]]);
    stopped = await machine('db-1', small.resource!.id, 'STOPPED', [nets[0]]);
    big = await machine('batch-1', large.resource!.id, 'STOPPED', []);
    await done((await machines.attachVolume(ctx, started, { volume: { type: 'Volume', id: vols[0] }, initialLocation: '/dev/vdb' })).job);
    await done((await machines.attachVolume(ctx, started, { volume: { type: 'Volume', id: vols[1] } })).job);
    await done((await machines.attachVolume(ctx, stopped, { volume: { type: 'Volume', id: vols[2] } })).job);
  }, 120000);
  afterAll(() => h?.close());

  describe('SelectorFilter', () => {
    it('selects by key selectors, any subset, names case-insensitive (capture 05 request 030)', async () => {
      const r = ok(await filtered(CS, DIALECT.selector, `<wsman:SelectorSet><wsman:Selector Name="Name">${started}</wsman:Selector></wsman:SelectorSet>`));
      expect(ids(page(r).items)).toEqual([started]);
      expect(page(r).end).toBe(true);
      const both = ok(await filtered(CS, DIALECT.selector, `<wsman:SelectorSet><wsman:Selector Name="creationclassname">CIM_ComputerSystem</wsman:Selector><wsman:Selector Name="Name">${stopped}</wsman:Selector></wsman:SelectorSet>`));
      expect(ids(page(both).items)).toEqual([stopped]);
      const none = ok(await filtered(CS, DIALECT.selector, `<wsman:SelectorSet><wsman:Selector Name="CreationClassName">CIM_Other</wsman:Selector></wsman:SelectorSet>`));
      expect(page(none).items).toEqual([]);
    });

    it('a selector that is not a key is CannotProcessFilter (wsman: or wsen: after the Filter element)', async () => {
      expectFault(await filtered(CS, DIALECT.selector, '<wsman:SelectorSet><wsman:Selector Name="ElementName">web-1</wsman:Selector></wsman:SelectorSet>'), NS.wsman, 'CannotProcessFilter');
      expectFault(await filtered(CS, DIALECT.selector, '<wsman:SelectorSet><wsman:Selector Name="ElementName">web-1</wsman:Selector></wsman:SelectorSet>', { ns: 'wsen' }), NS.wsen, 'CannotProcessFilter');
    });
  });

  describe.each([
    ['WQL (Microsoft URI)', DIALECT.wqlMs],
    ['WQL (DMTF URI)', DIALECT.wqlDmtf],
    ['CQL', DIALECT.cql],
  ])('%s', (_name, dialect) => {
    it('filters in the database by mapped properties: EnabledState, ElementName, vendor Cpu, Name, CreationClassName', async () => {
      expect(ids(page(ok(await filtered(CS, dialect, 'select * from CIM_ComputerSystem where EnabledState=2'))).items)).toEqual([started]);
      expect(ids(page(ok(await filtered(CS, dialect, esc(`SELECT * FROM CIM_ComputerSystem WHERE EnabledState <> 2 AND (ElementName = 'db-1' OR ElementName = 'batch-1')`)))).items)).toEqual(sorted(stopped, big));
      expect(ids(page(ok(await filtered(CS, dialect, 'select * from CIMIGW_Machine where Cpu >= 4'))).items)).toEqual([big]);
      expect(ids(page(ok(await filtered(CS, dialect, `select * from CIM_ComputerSystem where Name='${started}' or Name='${big}'`))).items)).toEqual(sorted(started, big));
      expect(ids(page(ok(await filtered(CS, dialect, `select * from CIM_ComputerSystem where CreationClassName='CIM_ComputerSystem' and not ElementName='web-1'`))).items)).toEqual(sorted(stopped, big));
      const counted = ok(await filtered(CS, dialect, 'select * from CIM_ComputerSystem where EnabledState = 3', { count: true }));
      expect(page(counted).estimate).toBe(2);
    });

    it('FROM picks the class on the all-classes URI; a FROM unrelated to the ResourceURI class is CannotProcessFilter', async () => {
      const disks = ok(await filtered(ALL, dialect, "select * from CIM_LogicalDisk where ElementName != 'v2'"));
      expect(ids(page(disks).items, 'DeviceID')).toEqual(sorted(vols[0], vols[2]));
      expectFault(await filtered(CS, dialect, 'select * from CIM_LogicalDisk'), NS.wsman, 'CannotProcessFilter');
    });

    it.each([
      ['select * from CIM_ComputerSystem where', 'syntax'],
      ['select * from CIM_ComputerSystem where Bogus = 1', 'unknown property'],
      ["select * from CIM_ComputerSystem where EnabledState > 'x'", 'ordering on an enumeration'],
      ['select * from CIM_Nothing', 'unknown class'],
      ['select Name from CIM_ComputerSystem', 'projection'],
      ["select * from CIMIGW_Machine where Cpu = 'many'", 'type mismatch'],
    ])('%s -> CannotProcessFilter (%s)', async (q) => {
      expectFault(await filtered(CS, dialect, esc(q)), NS.wsman, 'CannotProcessFilter');
      expectFault(await filtered(CS, dialect, esc(q), { ns: 'wsen' }), NS.wsen, 'CannotProcessFilter');
    });
  });

  it('an unsupported dialect (XPath, or none given) is FilterDialectRequestedUnavailable listing the supported ones', async () => {
    const r = await filtered(CS, 'http://www.w3.org/TR/1999/REC-xpath-19991116', '/CIM_ComputerSystem');
    expectFault(r, NS.wsen, 'FilterDialectRequestedUnavailable');
    expect(all(r.doc, NS.wsen, 'SupportedDialect').map(text)).toEqual(expect.arrayContaining([DIALECT.selector, DIALECT.wqlMs, DIALECT.wqlDmtf, DIALECT.cql, DIALECT.association]));
    expectFault(await send(CS, enumerateBody('<wsen:Filter>x</wsen:Filter>')), NS.wsen, 'FilterDialectRequestedUnavailable');
  });

  describe('association filters (DSP0227 §8.2)', () => {
    const object = (resourceUri: string, sel: Record<string, string>, withAddress = false) =>
      `<wsmb:Object>${withAddress ? '<wsa:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:Address>' : ''}<wsa:ReferenceParameters><wsman:ResourceURI>${resourceUri}</wsman:ResourceURI><wsman:SelectorSet>${Object.entries(sel)
        .map(([k, v]) => `<wsman:Selector Name="${k}">${v}</wsman:Selector>`)
        .join('')}</wsman:SelectorSet></wsa:ReferenceParameters></wsmb:Object>`;
    const machine = (id: string, withAddress = false) => object(CS, { Name: id, CreationClassName: 'CIM_ComputerSystem' }, withAddress);
    const associated = (obj: string, more = '') => `<wsmb:AssociatedInstances>${obj}${more}</wsmb:AssociatedInstances>`;
    const references = (obj: string, more = '') => `<wsmb:AssociationInstances>${obj}${more}</wsmb:AssociationInstances>`;
    const assoc = (f: string, more?: string) => filtered(ALL, DIALECT.association, f, { more });

    it('associators of a machine: its volumes (CIM_SystemDevice) and networks (CIM_MemberOfCollection), narrowed by class and role', async () => {
      // capture 05 request 033 (wsl sends an Address in the Object too)
      const disks = page(ok(await assoc(associated(machine(started, true), '<wsmb:AssociationClassName>CIM_SystemDevice</wsmb:AssociationClassName><wsmb:ResultClassName>CIM_LogicalDisk</wsmb:ResultClassName>'))));
      expect(ids(disks.items, 'DeviceID')).toEqual(sorted(vols[0], vols[1]));
      expect(disks.items.every((i) => i.localName === 'CIMIGW_Volume')).toBe(true);
      const everything = page(ok(await assoc(associated(machine(started)))));
      expect(everything.items.map((i) => i.localName).sort()).toEqual(['CIMIGW_Network', 'CIMIGW_Network', 'CIMIGW_Volume', 'CIMIGW_Volume']);
      const networks = page(ok(await assoc(associated(machine(started), '<wsmb:ResultClassName>CIM_IPConnectivitySubnet</wsmb:ResultClassName>'))));
      expect(ids(networks.items, 'InstanceID')).toEqual(sorted(...nets.map((n) => `CIMIGW:${n}`)));
      const byRole = page(ok(await assoc(associated(machine(started), '<wsmb:Role>Member</wsmb:Role>'))));
      expect(byRole.items.map((i) => i.localName)).toEqual(['CIMIGW_Network', 'CIMIGW_Network']);
      const byResultRole = page(ok(await assoc(associated(machine(started), '<wsmb:ResultRole>PartComponent</wsmb:ResultRole>'))));
      expect(ids(byResultRole.items, 'DeviceID')).toEqual(sorted(vols[0], vols[1]));
      expect(page(ok(await assoc(associated(machine(big))))).items).toEqual([]);
    });

    it('associators of a volume and of a network: the machines', async () => {
      // the volume's EPR as the enumeration gives it (its keys include the tenant-scoped SystemName)
      const e = page(ok(await filtered(`${CIM}CIM_LogicalDisk`, DIALECT.selector, `<wsman:SelectorSet><wsman:Selector Name="DeviceID">${vols[2]}</wsman:Selector></wsman:SelectorSet>`, { more: '<wsman:EnumerationMode>EnumerateEPR</wsman:EnumerationMode>' })));
      const epr = e.items[0];
      const sel: Record<string, string> = {};
      for (const s of all(epr, NS.wsman, 'Selector')) sel[s.getAttribute('Name') ?? ''] = text(s);
      const m = page(ok(await assoc(associated(object(`${CIM}CIM_LogicalDisk`, sel)))));
      expect(ids(m.items)).toEqual([stopped]);
      const onNet0 = page(ok(await assoc(associated(object(`${CIM}CIM_IPConnectivitySubnet`, { InstanceID: `CIMIGW:${nets[0]}` }), '<wsmb:ResultClassName>CIM_ComputerSystem</wsmb:ResultClassName>'))));
      expect(ids(onNet0.items)).toEqual(sorted(started, stopped));
    });

    it('references of a machine: association instances whose keys are EPRs, narrowed by ResultClassName and Role; EPR mode', async () => {
      const refs = page(ok(await assoc(references(machine(started)))));
      const sd = refs.items.filter((i) => i.localName === 'CIM_SystemDevice');
      const moc = refs.items.filter((i) => i.localName === 'CIM_MemberOfCollection');
      expect(sd.length).toBe(2);
      expect(moc.length).toBe(2);
      for (const i of sd) {
        const group = children(i).find((c) => c.localName === 'GroupComponent')!;
        const part = children(i).find((c) => c.localName === 'PartComponent')!;
        expect(selector(group, 'Name')).toBe(started);
        expect(vols).toContain(selector(part, 'DeviceID'));
      }
      const onlySd = page(ok(await assoc(references(machine(started), '<wsmb:ResultClassName>CIM_SystemDevice</wsmb:ResultClassName>'))));
      expect(onlySd.items.map((i) => i.localName)).toEqual(['CIM_SystemDevice', 'CIM_SystemDevice']);
      const byRole = page(ok(await assoc(references(machine(started), '<wsmb:Role>Member</wsmb:Role>'))));
      expect(byRole.items.map((i) => i.localName)).toEqual(['CIM_MemberOfCollection', 'CIM_MemberOfCollection']);
      const eprs = page(ok(await assoc(references(machine(started), '<wsmb:ResultClassName>CIM_SystemDevice</wsmb:ResultClassName>'), '<wsman:EnumerationMode>EnumerateEPR</wsman:EnumerationMode>')));
      expect(eprs.items.map((i) => i.localName)).toEqual(['EndpointReference', 'EndpointReference']);
      expect(text(one(eprs.items[0], NS.wsman, 'ResourceURI'))).toBe(`${CIM}CIM_SystemDevice`);
      // the association's key selectors hold EPRs of the two ends (DSP0227 §7.x)
      const group = all(eprs.items[0], NS.wsman, 'Selector').find((s) => s.getAttribute('Name') === 'GroupComponent')!;
      expect(one(group, NS.wsa, 'EndpointReference')).toBeDefined();
    });

    it('association results page through Pull like any enumeration', async () => {
      const r = ok(await send(ALL, enumerateBody(`<wsman:Filter Dialect="${DIALECT.association}">${associated(machine(started))}</wsman:Filter>`)));
      let p = page(r);
      const got: string[] = [];
      while (!p.end) {
        p = page(ok(await post(url, auth, envelope({ action: ACTION.pull, resourceUri: ALL, body: pullBody(p.context!, 1) }))));
        got.push(...p.items.map((i) => i.localName ?? ''));
      }
      expect(got.sort()).toEqual(['CIMIGW_Network', 'CIMIGW_Network', 'CIMIGW_Volume', 'CIMIGW_Volume']);
    });

    it('faults: unknown Object instance, malformed filter, AssociationClassName in AssociationInstances, an association class without a filter', async () => {
      expectFault(await assoc(associated(machine('00000000-0000-4000-8000-000000000000'))), NS.wsa, 'DestinationUnreachable');
      expectFault(await assoc('<wsmb:Nothing/>'), NS.wsman, 'CannotProcessFilter');
      expectFault(await assoc('<wsmb:AssociatedInstances/>'), NS.wsman, 'CannotProcessFilter');
      expectFault(await assoc(references(machine(started), '<wsmb:AssociationClassName>CIM_SystemDevice</wsmb:AssociationClassName>')), NS.wsman, 'CannotProcessFilter');
      // association instances are reached from an instance, not listed on their own
      expectFault(await send(`${CIM}CIM_SystemDevice`, enumerateBody()), NS.wsman, 'UnsupportedFeature', 'FilteringRequired');
    });
  });
});
