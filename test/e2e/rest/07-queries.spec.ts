import { ENGINES } from '../../support/databases';
import { CimiClient, curl, FORMATS, items, ok, op, useRestApp } from '../../support/cimi-client';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { UNIT_OF_WORK, type UnitOfWork } from '../../../src/model/shared/ports';
import { newId } from '../../../src/model/shared/ids';
import type { Resource } from '../../../src/model/shared/resource';

/**
 * Plug-fest scenario 7: queries over a collection of N ≥ 1000 Machines. The Machines are written straight into the
 * store (fast, and with controlled `created` dates); every query goes through HTTP, and every expected answer is
 * computed here from the same generator.
 */
const N = 1200;
const HOUR = 3600_000;
const T0 = Date.UTC(2024, 0, 1);
const STATES = ['STOPPED', 'STARTED', 'PAUSED'];
const TIERS = ['web', 'db', 'cache', 'batch'];
const QUOTED = `it's "quoted"`;
/** a backslash is an ordinary character in a `$filter` string (cimi-filter.parser.ts) */
const BACKSLASHED = String.raw`O'Brien\n C:\temp`;

interface Gen {
  name: string;
  description: string;
  cpu: number;
  memory: number;
  cpuArch: string;
  cpuSpeed: number;
  state: string;
  created: number;
  properties: Record<string, string>;
}

function gen(i: number): Gen {
  return {
    name: `q-${String(i).padStart(4, '0')}`,
    description: i % 10 === 0 ? QUOTED : i % 10 === 5 ? BACKSLASHED : `machine ${i}`,
    cpu: (i % 8) + 1,
    memory: ((i % 4) + 1) * 1048576,
    cpuArch: i % 5 === 0 ? 'ARM' : 'x86_64',
    cpuSpeed: 1000 + (i % 10) * 100,
    state: STATES[i % 3],
    created: T0 + i * HOUR,
    properties: i % 7 === 0 ? {} : { tier: TIERS[i % 4], idx: String(i) },
  };
}
const ALL = Array.from({ length: N }, (_, i) => gen(i));
const names = (pred: (g: Gen) => boolean) => ALL.filter(pred).map((g) => g.name);

async function seed(uow: UnitOfWork, tenantId: string): Promise<void> {
  for (let start = 0; start < N; start += 300) {
    await uow.transaction(tenantId, async (tx) => {
      for (const g of ALL.slice(start, start + 300)) {
        const r: Resource = {
          id: newId(),
          tenantId,
          type: 'Machine',
          name: g.name,
          description: g.description,
          created: new Date(g.created),
          updated: new Date(g.created),
          properties: g.properties,
          state: g.state,
          version: 1,
          attrs: { cpu: g.cpu, memory: g.memory, cpuArch: g.cpuArch, cpuSpeed: g.cpuSpeed },
        };
        await tx.resources.insert(r);
      }
    });
  }
  // a few Volumes for boolean filters
  await uow.transaction(tenantId, async (tx) => {
    for (let i = 0; i < 10; i++) {
      const now = new Date(T0 + i * HOUR);
      await tx.resources.insert({ id: newId(), tenantId, type: 'Volume', name: `qv-${i}`, created: now, updated: now, properties: {}, state: 'AVAILABLE', version: 1, attrs: { capacity: 1000 * (i + 1), bootable: i % 2 === 0 } });
    }
  });
}

describe.each(ENGINES)('REST queries over %s', (engine) => {
  const env = useRestApp(engine, { SIM_LATENCY_MS: '0' });
  let machinesHref: string;

  beforeAll(async () => {
    const { h } = env();
    const ctx = await h.user('demo', ['admin'], `seeder-${engine}`);
    await seed(h.app.get(UNIT_OF_WORK as never) as UnitOfWork, ctx.tenantId);
    machinesHref = await new CimiClient(env().origin, 'json').collectionHref('machines');
  }, 120000);

  /** all matching names, through HTTP, by pages of 1000 with $select=name */
  async function query(c: CimiClient, q: Record<string, string | string[]>): Promise<{ count: number; names: string[] }> {
    const r = ok(await c.get(machinesHref, { ...q, $select: 'name', $first: '1', $last: '1000' }), 200).doc;
    const got = items(r).map((m) => m.name);
    if (r.count > 1000) {
      const r2 = ok(await c.get(machinesHref, { ...q, $select: 'name', $first: '1001', $last: '2000' }), 200).doc;
      got.push(...items(r2).map((m) => m.name));
    }
    expect(got.length).toBe(r.count);
    return { count: r.count, names: got };
  }
  const sorted = (a: string[]) => [...a].sort();

  it('curl: a filtered, ordered, paged, selected query in JSON and XML (an independent client)', async () => {
    const q = new URLSearchParams({ $filter: "cpu>=7 and (property['tier']='db' or cpuArch='ARM')", $orderby: 'cpu:desc,name:asc', $select: 'name,cpu', $first: '2', $last: '6' });
    const pred = (g: Gen) => g.cpu >= 7 && (g.properties.tier === 'db' || g.cpuArch === 'ARM');
    const expected = ALL.filter(pred).sort((a, b) => b.cpu - a.cpu || (a.name < b.name ? -1 : 1));
    for (const accept of ['application/json', 'application/xml']) {
      const r = await curl('GET', `${machinesHref}?${q.toString().replace(/\+/g, '%20')}`, { user: 'admin', password: ADMIN_PASSWORD, headers: { Accept: accept } });
      expect(r.status).toBe(200);
      expect(r.contentType).toBe(accept);
      expect(r.doc.count).toBe(expected.length);
      expect(items(r.doc).map((m) => [m.name, m.cpu])).toEqual(expected.slice(1, 6).map((g) => [g.name, g.cpu]));
    }
  });

  describe.each(FORMATS)('%s', (format) => {
    const c = () => env().client(format);

    it('count, default page, $first/$last paging', async () => {
      const all = ok(await c().get(machinesHref, { $select: 'name' }), 200).doc;
      expect(all.count).toBe(N);
      expect(items(all)).toHaveLength(100); // default page (docs/reliability.md rule 4); count tells what was missed
      const sortedByName = { $orderby: 'name' };
      const p2 = ok(await c().get(machinesHref, { ...sortedByName, $select: 'name', $first: '101', $last: '200' }), 200).doc;
      expect(p2.count).toBe(N);
      expect(items(p2).map((m) => m.name)).toEqual(ALL.slice(100, 200).map((g) => g.name));
      const onlyLast = ok(await c().get(machinesHref, { ...sortedByName, $select: 'name', $last: '5' }), 200).doc;
      expect(items(onlyLast).map((m) => m.name)).toEqual(ALL.slice(0, 5).map((g) => g.name));
      const onlyFirst = ok(await c().get(machinesHref, { ...sortedByName, $select: 'name', $first: String(N - 2) }), 200).doc;
      expect(items(onlyFirst).map((m) => m.name)).toEqual(ALL.slice(N - 3).map((g) => g.name));
      const overlap = ok(await c().get(machinesHref, { ...sortedByName, $select: 'name', $first: String(N - 1), $last: String(N + 50) }), 200).doc;
      expect(items(overlap)).toHaveLength(2);
      const outside = ok(await c().get(machinesHref, { $select: 'name', $first: String(N + 10), $last: String(N + 20) }), 200).doc;
      expect(outside.count).toBe(N);
      expect(items(outside)).toHaveLength(0);
      const inverted = ok(await c().get(machinesHref, { $first: '10', $last: '5' }), 200).doc;
      expect(items(inverted)).toHaveLength(0);
      // count is the number of matches before subsetting
      const filtered = ok(await c().get(machinesHref, { $filter: 'cpu=1', $first: '1', $last: '3', $select: 'name' }), 200).doc;
      expect(filtered.count).toBe(names((g) => g.cpu === 1).length);
      expect(items(filtered)).toHaveLength(3);
    });

    it('integer operators = != < <= > >= and Value Op Attribute', async () => {
      const cases: [string, (g: Gen) => boolean][] = [
        ['cpu=3', (g) => g.cpu === 3],
        ['cpu!=3', (g) => g.cpu !== 3],
        ['cpu<3', (g) => g.cpu < 3],
        ['cpu<=3', (g) => g.cpu <= 3],
        ['cpu>6', (g) => g.cpu > 6],
        ['cpu>=6', (g) => g.cpu >= 6],
        ['6<cpu', (g) => g.cpu > 6],
        ['2097152>=memory', (g) => g.memory <= 2097152],
        ['cpuSpeed = 1500', (g) => g.cpuSpeed === 1500],
      ];
      for (const [f, pred] of cases) {
        const r = await query(c(), { $filter: f });
        expect({ f, names: sorted(r.names) }).toEqual({ f, names: sorted(names(pred)) });
      }
    });

    it('strings (both quote styles, doubled quotes, literal backslash), states, dates, property[...]', async () => {
      const cases: [string, (g: Gen) => boolean][] = [
        ["cpuArch='ARM'", (g) => g.cpuArch === 'ARM'],
        ['cpuArch!="ARM"', (g) => g.cpuArch !== 'ARM'],
        ["name='q-0042'", (g) => g.name === 'q-0042'],
        // DSP0263 2.0.0 §4.1.6.1 StringValue: the delimiting quote doubled inside, `\` literal (docs/operations.md)
        [`description='it''s "quoted"'`, (g) => g.description === QUOTED],
        [`description="it's ""quoted"""`, (g) => g.description === QUOTED],
        [String.raw`description='O''Brien\n C:\temp'`, (g) => g.description === BACKSLASHED],
        [String.raw`description="O'Brien\n C:\temp"`, (g) => g.description === BACKSLASHED],
        [String.raw`description!='O''Brien\n C:\temp'`, (g) => g.description !== BACKSLASHED],
        ["name='O''Brien'", () => false],
        ["state='PAUSED'", (g) => g.state === 'PAUSED'],
        ['created<2024-01-02T00:00:00Z', (g) => g.created < T0 + 24 * HOUR],
        ['created>=2024-01-10', (g) => g.created >= T0 + 9 * 24 * HOUR],
        ['created>2024-01-02T10:30:00+01:00', (g) => g.created > T0 + 33 * HOUR + 30 * 60_000], // 09:30Z
        ['created<=2024-01-01T05:00:00.000Z', (g) => g.created <= T0 + 5 * HOUR],
        ['created!=2024-01-01T01:00:00Z', (g) => g.created !== T0 + HOUR],
        ["property['tier']='web'", (g) => g.properties.tier === 'web'],
        ['property["tier"]!="web"', (g) => g.properties.tier !== 'web'],
        ["property['idx']='77'", (g) => g.properties.idx === '77'],
      ];
      for (const [f, pred] of cases) {
        const r = await query(c(), { $filter: f });
        expect({ f, names: sorted(r.names) }).toEqual({ f, names: sorted(names(pred)) });
      }
    });

    it('and / or / parentheses, precedence, and repeated $filter ANDed', async () => {
      const cases: [string | string[], (g: Gen) => boolean][] = [
        ["cpu=1 and cpuArch='ARM'", (g) => g.cpu === 1 && g.cpuArch === 'ARM'],
        ['cpu=1 or cpu=2', (g) => g.cpu === 1 || g.cpu === 2],
        ["(cpu=1 or cpu=2) and state='STARTED'", (g) => (g.cpu === 1 || g.cpu === 2) && g.state === 'STARTED'],
        ["cpu=1 or cpu=2 and state='STARTED'", (g) => g.cpu === 1 || (g.cpu === 2 && g.state === 'STARTED')],
        ["((cpu>=7) and (property['tier']='db' or cpuArch='ARM')) or name='q-0001'", (g) => (g.cpu >= 7 && (g.properties.tier === 'db' || g.cpuArch === 'ARM')) || g.name === 'q-0001'],
        [['cpu<4', "cpuArch='ARM'", 'created<2024-01-20'], (g) => g.cpu < 4 && g.cpuArch === 'ARM' && g.created < Date.UTC(2024, 0, 20)],
        [['cpu=1 or cpu=2', 'cpu=2 or cpu=3'], (g) => g.cpu === 2],
      ];
      for (const [f, pred] of cases) {
        const r = await query(c(), { $filter: f });
        expect({ f, names: sorted(r.names) }).toEqual({ f, names: sorted(names(pred)) });
      }
    });

    it('boolean filters (Volume bootable)', async () => {
      const vols = await c().collectionHref('volumes');
      const t = ok(await c().get(vols, { $filter: "bootable=true and name!='x'" }), 200).doc;
      expect(items(t).map((v) => v.name).sort()).toEqual(['qv-0', 'qv-2', 'qv-4', 'qv-6', 'qv-8']);
      const f = ok(await c().get(vols, { $filter: 'bootable=false', $orderby: 'capacity:desc' }), 200).doc;
      expect(items(f).map((v) => v.name)).toEqual(['qv-9', 'qv-7', 'qv-5', 'qv-3', 'qv-1']);
    });

    it('$orderby asc/desc on several keys, then subsetting', async () => {
      const r = ok(await c().get(machinesHref, { $orderby: 'cpu:desc,name', $select: 'name,cpu', $first: '1', $last: '20' }), 200).doc;
      const expected = [...ALL].sort((a, b) => b.cpu - a.cpu || (a.name < b.name ? -1 : 1)).slice(0, 20);
      expect(items(r).map((m) => [m.name, m.cpu])).toEqual(expected.map((g) => [g.name, g.cpu]));
      const byCreated = ok(await c().get(machinesHref, { $orderby: 'created:desc', $select: 'name,created', $first: '3', $last: '5' }), 200).doc;
      expect(items(byCreated).map((m) => m.name)).toEqual([ALL[N - 3].name, ALL[N - 4].name, ALL[N - 5].name]);
      const asc = ok(await c().get(machinesHref, { $orderby: 'memory:asc,cpuSpeed:desc,name:asc', $select: 'name', $last: '4', $filter: "cpuArch='ARM'" }), 200).doc;
      const exp2 = ALL.filter((g) => g.cpuArch === 'ARM').sort((a, b) => a.memory - b.memory || b.cpuSpeed - a.cpuSpeed || (a.name < b.name ? -1 : 1));
      expect(items(asc).map((m) => m.name)).toEqual(exp2.slice(0, 4).map((g) => g.name));
    });

    it('$select keeps only the named attributes (and id/count on the collection)', async () => {
      const r = ok(await c().get(machinesHref, { $select: 'name,cpu', $filter: "name='q-0009'" }), 200);
      expect(r.doc.count).toBe(1);
      expect(typeof r.doc.id).toBe('string');
      const m = items(r.doc)[0];
      const { resourceURI: _r, ...rest } = m;
      expect(rest).toEqual({ name: 'q-0009', cpu: 2 });
      expect(r.doc.operations).toBeUndefined();
      // on a single resource
      const full = items(ok(await c().get(machinesHref, { $filter: "name='q-0009'" }), 200).doc)[0];
      const one = ok(await c().get(full.id, { $select: 'cpuArch,state,operations' }), 200).doc;
      const { resourceURI: _r2, ...oneRest } = one;
      expect(Object.keys(oneRest).sort()).toEqual(['cpuArch', 'operations', 'state']);
      expect(one.state).toBe(ALL[9].state);
    });

    it('$expand inlines the referenced collections of each item', async () => {
      const cl = c();
      const cep = await cl.cep();
      const cfg = items(ok(await cl.get(cep.machineConfigs.href, { $filter: "name='small'" }), 200).doc)[0];
      const name = `expand-${format}`;
      const cr = ok(await cl.post(cep.machines.href, 'MachineCreate', { name, machineTemplate: { machineConfig: { href: cfg.id } } }), 201, 202);
      await cl.waitJob(cr.headers['cimi-job-uri']);
      const r = ok(await cl.get(machinesHref, { $filter: `name='${name}'`, $expand: 'disks' }), 200).doc;
      const m = items(r)[0];
      const own = ok(await cl.get(cr.headers.location), 200).doc;
      expect(m.disks.href).toBe(own.disks.href);
      expect(m.disks.count).toBe(1);
      expect(items(m.disks)[0].capacity).toBe(cfg.disks[0].capacity);
      // not expanded unless asked
      const plain = items(ok(await cl.get(machinesHref, { $filter: `name='${name}'` }), 200).doc)[0];
      expect(plain.disks).toEqual({ href: own.disks.href });
      // $expand=* on the resource
      const star = ok(await cl.get(cr.headers.location, { $expand: '*' }), 200).doc;
      expect(star.disks.count).toBe(1);
      expect(star.volumes.count).toBe(0);
      await cl.waitJob(ok(await cl.delete(op(star, 'delete')), 200, 202).headers['cimi-job-uri']);
    });

    it('malformed queries are 400 naming the parameter and the position', async () => {
      const bad: [Record<string, string>, RegExp][] = [
        [{ $filter: 'cpu=' }, /\$filter.*position 4/],
        [{ $filter: "cpu=1 and (name='x'" }, /\$filter.*position \d+/],
        [{ $filter: "name='unterminated" }, /\$filter.*position 5/],
        // `\` escapes nothing: `'it\'` is the whole string, and the `s` after it is no operator
        [{ $filter: String.raw`description='it\'s'` }, /\$filter.*position 17/],
        [{ $filter: 'cpu=1 AND cpu=2' }, /\$filter.*position 6/],
        [{ $filter: 'cpu ~ 1' }, /\$filter.*position 4/],
        [{ $filter: 'nosuchattr=1' }, /nosuchattr/],
        [{ $filter: "cpu='one'" }, /cpu/],
        [{ $filter: "cpuArch<'ARM'" }, /operator </],
        [{ $orderby: 'cpu:sideways' }, /\$orderby.*position 4/],
        [{ $first: 'abc' }, /\$first.*position 0/],
      ];
      for (const [q, msg] of bad) {
        const r = await c().get(machinesHref, q);
        expect({ q, status: r.status }).toEqual({ q, status: 400 });
        expect(r.doc.state).toBe('FAILED');
        expect(r.doc.returnCode).toBe(400);
        expect(r.doc.statusMessage).toMatch(msg);
      }
    });
  });
});
