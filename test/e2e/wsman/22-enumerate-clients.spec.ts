import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { ENGINES } from '../../support/databases';
import { startHarness, type Harness } from '../../support/app-harness';
import { MachineService } from '../../../src/model/machine/machine.service';
import { CatalogService } from '../../../src/model/template/catalog.service';
import { VolumeService } from '../../../src/model/volume/volume.service';
import { NetworkService } from '../../../src/model/network/network.service';
import type { Job } from '../../../src/model/job/job';
import { all, children, CIM, NS, one, page, prop, selector, text, type Reply } from './enum-support';

jest.setTimeout(300000);
const run = promisify(execFile);

const CS = `${CIM}CIM_ComputerSystem`;
const MACHINES = 1000;
const PYWINRM = join(__dirname, '22-pywinrm-enumerate.py');

/**
 * Enumeration with the independent Debian clients (docs/wsman.md §6.3, §6.4): pywinrm's Protocol.send_message with
 * the wsmancli capture envelopes, optimized and pulled, over 1,000 machines under MaxEnvelopeSize 8192; Dell's wsl
 * enumerating in every mode, with every filter dialect it can send, and with its (swapped) association options.
 */
describe.each(ENGINES)('WS-Man enumeration with wsl and pywinrm on %s', (engine) => {
  let h: Harness;
  let port: number;
  let auth: { user: string; pass: string };
  const ids = new Set<string>();
  let attached: string;
  let volume: string;
  let network: string;

  beforeAll(async () => {
    h = await startHarness(engine, {}, { listen: true });
    port = (h.app.getHttpServer().address() as AddressInfo).port;
    const ctx = await h.user('wsclients', ['user']);
    auth = { user: ctx.principal.userName, pass: 'password-123' };
    const done = (job: Job) => h.jobEnded(ctx, job);
    const catalog = h.get(CatalogService);
    const machines = h.get(MachineService);
    const cfg = await catalog.create(ctx, 'MachineConfiguration', { attrs: { cpu: 2, memory: 1048576 } });
    const vc = await catalog.create(ctx, 'VolumeConfiguration', { attrs: { capacity: 1000, format: 'ext4' } });
    const v = await h.get(VolumeService).create(ctx, { name: 'disk-a', volumeTemplate: { value: { volumeConfig: { ref: { type: 'VolumeConfiguration', id: vc.resource!.id } } } } });
    await done(v.job);
    volume = v.resource!.id;
    const n = await h.get(NetworkService).createNetwork(ctx, { name: 'lan', networkTemplate: { value: { initialState: 'STARTED', networkConfig: { value: { networkType: 'PRIVATE' } } } } });
    await done(n.job);
    network = n.resource!.id;
    const m = await machines.create(ctx, {
      name: 'web-0',
      machineTemplate: { value: { initialState: 'STARTED', machineConfig: { ref: { type: 'MachineConfiguration', id: cfg.resource!.id } }, networkInterfaces: [{ network: { ref: { type: 'Network', id: network } } }] } },
    });
    await done(m.job);
    attached = m.resource!.id;
    ids.add(attached);
    await done((await machines.attachVolume(ctx, attached, { volume: { type: 'Volume', id: volume } })).job);
    // the rest stay CREATING: their jobs are not run (stopping the worker keeps 1,000 provider jobs out of the way)
    await h.engine.shutdown();
    for (let i = 1; i < MACHINES; i++) {
      const r = await machines.create(ctx, { name: `vm-${i}`, machineTemplate: { value: { machineConfig: { ref: { type: 'MachineConfiguration', id: cfg.resource!.id } } } } });
      ids.add(r.resource!.id);
    }
  }, 300000);
  afterAll(() => h?.close());

  describe('pywinrm (python3-winrm Protocol.send_message, capture 02 envelopes)', () => {
    const py = async (mode: 'optimized' | 'pulled', maxElements: number) => {
      const { stdout } = await run('/usr/bin/python3', [PYWINRM, `http://127.0.0.1:${port}/wsman`, auth.user, auth.pass, CS, mode, String(maxElements), '8192'], { maxBuffer: 64 * 1024 * 1024 });
      return JSON.parse(stdout) as { names: string[]; pages: number; largest: number; estimate: number; lastHadContext: boolean; releasedPullFault: string | null };
    };

    it.each([
      ['optimized', 100],
      ['pulled', 100],
    ] as const)('%s enumeration of 1,000 machines under MaxEnvelopeSize 8192: every key exactly once', async (mode, max) => {
      const r = await py(mode, max);
      expect(r.names.length).toBe(MACHINES);
      expect(new Set(r.names)).toEqual(ids);
      expect(r.largest).toBeLessThanOrEqual(8192);
      // the envelope bound cut the pages, not MaxElements (100 items would need far more than 8 KB)
      expect(r.pages).toBeGreaterThan(MACHINES / max + 1);
      expect(r.estimate).toBe(MACHINES);
      expect(r.lastHadContext).toBe(false);
      // pywinrm's own fault parsing (WinRMError) of a Pull on a released context
      expect(r.releasedPullFault).toMatch(/'fault_subcode': '[A-Za-z]+:InvalidEnumerationContext'/);
      expect(r.releasedPullFault).toMatch(/'http_status_code': 500/);
    });
  });

  describe('wsl (Dell wsl 0.2.1, curl + xmllint)', () => {
    let dir: string;
    const dirs: string[] = [];
    afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

    /**
     * runs `wsl enum …` in a fresh scratch directory, also its HOME: it writes request-N/response-N files there and
     * keeps settings of earlier runs in ~/.wsl-config
     */
    async function wsl(args: string[], env: Record<string, string> = {}): Promise<Reply[]> {
      dir = mkdtempSync(join(tmpdir(), 'wsl-'));
      dirs.push(dir);
      await run('wsl', ['enum', ...args], {
        cwd: dir,
        env: { PATH: process.env.PATH!, HOME: dir, WSNOSSL: '1', WSENDPOINT: `127.0.0.1:${port}`, WSUSER: auth.user, WSPASS: auth.pass, OUTLEVEL: '1', KEEPHISTORY: '0', ...env },
        maxBuffer: 64 * 1024 * 1024,
      });
      const files = readdirSync(dir)
        .filter((f) => /response-\d+\.xml$/.test(f))
        .sort((a, b) => Number(/(\d+)\.xml$/.exec(a)![1]) - Number(/(\d+)\.xml$/.exec(b)![1]));
      return files.map((f) => {
        const t = readFileSync(join(dir, f), 'utf8');
        return { status: 200, text: t, bytes: Buffer.byteLength(t), doc: new DOMParser().parseFromString(t, 'application/xml').documentElement as unknown as Element };
      });
    }
    const items = (rs: Reply[]) => rs.flatMap((r) => page(r).items);
    const faultOf = (rs: Reply[]) => rs.map((r) => text(one(one(one(r.doc, NS.s, 'Fault'), NS.s, 'Subcode'), NS.s, 'Value'))).filter(Boolean);

    it('enum -opti 100 -mode objepr with WSMAXENVELOPESIZE 8192: optimized, then Pulls until the context is empty; every machine once', async () => {
      const rs = await wsl(['CIM_ComputerSystem', '-opti', '100', '-mode', 'objepr'], { WSMAXENVELOPESIZE: '8192' });
      expect(faultOf(rs)).toEqual([]);
      expect(rs.length).toBeGreaterThan(MACHINES / 100 + 1);
      // wsl keeps responses reformatted by xmllint: the envelope bound shows in what it asked for
      expect(readFileSync(join(dir, 'request-1.xml'), 'utf8')).toMatch(/<wsman:MaxEnvelopeSize s:mustUnderstand="true">8192<\/wsman:MaxEnvelopeSize>/);
      const got = items(rs).map((i) => {
        const [inst, epr] = children(i);
        expect(selector(epr, 'Name')).toBe(prop(inst, 'Name'));
        return prop(inst, 'Name')!;
      });
      expect(got.length).toBe(MACHINES);
      expect(new Set(got)).toEqual(ids);
    });

    it('enum -mode epr (EnumerateEPR) and plain enum (objects), with a CQL filter (wsl\'s default dialect)', async () => {
      const eprs = items(await wsl(['CIM_ComputerSystem', '-opti', '5', '-mode', 'epr', '-filter', `select * from CIM_ComputerSystem where Name='${attached}'`]));
      expect(eprs.map((e) => [e.localName, selector(e, 'Name')])).toEqual([['EndpointReference', attached]]);
      // without -opti wsl still optimizes, with MaxElements 512 (capture 07): one complete response, empty context
      const objs = await wsl(['CIM_ComputerSystem', '-filter', 'select * from CIM_ComputerSystem where EnabledState = 2']);
      expect(items(objs).map((i) => prop(i, 'Name'))).toEqual([attached]);
      expect(objs.length).toBe(1);
      expect(page(objs[0])).toMatchObject({ contextPresent: true, context: undefined, end: true });
    });

    it('enum with -dialect: both WQL URIs and the SelectorFilter', async () => {
      for (const d of ['http://schemas.microsoft.com/wbem/wsman/1/WQL', 'http://schemas.dmtf.org/wbem/wsman/1/WQL']) {
        const got = items(await wsl(['CIM_ComputerSystem', '-opti', '10', '-filter', "select * from CIM_ComputerSystem where ElementName = 'web-0'", '-dialect', d]));
        expect(got.map((i) => prop(i, 'Name'))).toEqual([attached]);
      }
      const sel = items(await wsl(['CIM_ComputerSystem', '-opti', '10', '-filter', `Name=${attached}`, '-dialect', 'http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter']));
      expect(sel.map((i) => prop(i, 'Name'))).toEqual([attached]);
      // a bad query: wsl exits non-zero and keeps the fault
      await expect(wsl(['CIM_ComputerSystem', '-opti', '10', '-filter', 'select * from CIM_ComputerSystem where', '-dialect', 'http://schemas.microsoft.com/wbem/wsman/1/WQL'])).rejects.toBeDefined();
      expect(readFileSync(join(dir, 'response-1.xml'), 'utf8')).toMatch(/<s:Value>wsman:CannotProcessFilter<\/s:Value>/);
    });

    it('association filters as wsl builds them (-references sends AssociatedInstances, -associators AssociationInstances)', async () => {
      const associated = items(await wsl(['CIM_ComputerSystem', '-opti', '10', '-references', `Name=${attached}`, 'CreationClassName=CIM_ComputerSystem']));
      const byClass = (cls: string) => associated.filter((i) => i.localName === cls);
      expect(byClass('CIMIGW_Volume').map((i) => prop(i, 'DeviceID'))).toEqual([volume]);
      expect(byClass('CIMIGW_Network').map((i) => prop(i, 'InstanceID'))).toEqual([`CIMIGW:${network}`]);
      const refs = items(await wsl(['CIM_ComputerSystem', '-opti', '10', '-associators', `Name=${attached}`, 'CreationClassName=CIM_ComputerSystem']));
      expect(refs.map((i) => i.localName).sort()).toEqual(['CIM_MemberOfCollection', 'CIM_SystemDevice']);
      const sd = refs.find((i) => i.localName === 'CIM_SystemDevice')!;
      const part = children(sd).find((c) => c.localName === 'PartComponent')!;
      expect(selector(part, 'DeviceID')).toBe(volume);
      expect(all(part, NS.wsman, 'ResourceURI').map(text)[0]).toMatch(/CIMIGW_Volume$/);
    });
  });
});
