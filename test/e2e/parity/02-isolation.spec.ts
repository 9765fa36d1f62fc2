import { randomUUID } from 'node:crypto';
import { ENGINES } from '../../support/databases';
import { JobService } from '../../../src/model/job/job.service';
import { ResourceService } from '../../../src/model/shared/resource.service';
import { RESOURCE_TYPES, type ResourceType } from '../../../src/model/shared/resource';
import { descriptorOf } from '../../../src/model/shared/resource-types';
import type { OperationContext } from '../../../src/model/shared/operation-context';
import { CREATE_ORDER, DOORS, DRIVERS, rest, wsman, WS_CLASS, WS, type Args, type Door, type Outcome, type Who } from './drivers';
import { parseRows, type Row } from './matrix';
import { auditOf, makeAll, useParityApp, type ParityEnv } from './parity-support';
import { faultOf, soapCall } from '../soap/soap-support';
import { DOMParser } from '@xmldom/xmldom';
import { fault, NS } from '../../support/wsman-client';
import { EventService } from '../../../src/model/event/event.service';
import { AuditService } from '../../../src/model/audit/audit.service';

/**
 * Tenant isolation (issue 6 §5), the full matrix: for every top-level resource type, every door and every operation
 * the matrix gives that door on it (read, list, filter, update, delete, each action, create with another tenant's
 * template or references, attach, sub-resources, WS-Man selectors and association filters, SOAP ids), a user of tenant
 * A cannot touch tenant B's resources, and a `reader` of A cannot change anything. Each refusal is the door's decided
 * answer (docs/operations.md "Parity matrix"), changes nothing in the database, and writes one CADF `failure` record.
 */
const ROWS = parseRows();
const TOP = (RESOURCE_TYPES as readonly ResourceType[]).filter((t) => !descriptorOf(t).parentType);
const UNKNOWN = '00000000-0000-4000-8000-0000000f00ba';
const rowsOf = (t: string) => ROWS.filter((r) => r.op.startsWith(`${t}.`));
const doorsOf = (row: Row) => DOORS.filter((d) => row.cells[d].forms.length);

describe.each(ENGINES)('tenant isolation over REST, SOAP and WS-Man [%s]', (engine) => {
  const env = useParityApp(engine);
  let e: ParityEnv;
  let alice: Who;
  let reader: Who;
  let bob: Who;
  let bobCtx: OperationContext;
  let aliceCtx: OperationContext;
  /** one resource of each type per tenant */
  let A: Record<string, string>;
  let B: Record<string, string>;
  let bJob: string;
  const requests: { rid: string; what: string }[] = [];

  /** everything tenant B holds, as comparable JSON */
  async function snapshot(ctx: OperationContext, machine = B.Machine): Promise<string> {
    const out: Record<string, unknown> = {};
    for (const t of TOP) out[t] = (await e.h.get(ResourceService).list(ctx, t, { first: 1, last: 1000 })).items.map((r) => [r.id, r.state, r.version, r.name, r.description]);
    out.MachineVolume = (await e.h.get(ResourceService).listChildren(ctx, 'Machine', machine, 'MachineVolume', {})).items.map((r) => r.id);
    out.jobs = (await e.h.get(JobService).list(ctx, { first: 1, last: 1000 })).items.map((j) => [j.id, j.state]);
    return JSON.stringify(out);
  }

  /** drives one request that must be refused with `kind`; remembers its request id for the audit check */
  async function refused(d: Door, op: string, who: Who, a: Args, kind: string | ((o: Outcome) => void)): Promise<Outcome> {
    const rid = randomUUID();
    const o = await DRIVERS[d][op]({ ...e.w, rid }, who, a);
    const what = `${op} ${d} as ${who.user} on ${a.id ?? a.parent ?? ''}`;
    expect({ what, ok: o.ok }).toEqual({ what, ok: false });
    if (typeof kind === 'string') expect({ what, kind: o.kind }).toEqual({ what, kind });
    else kind(o);
    requests.push({ rid, what });
    return o;
  }

  beforeAll(async () => {
    e = env();
    aliceCtx = await e.h.user('tenant-a', ['user'], 'alice');
    await e.h.user('tenant-a', ['reader'], 'alice-reader');
    bobCtx = await e.h.user('tenant-b', ['user'], 'bob');
    alice = { user: 'alice', pass: 'password-123', tenant: aliceCtx.tenantId };
    reader = { user: 'alice-reader', pass: 'password-123', tenant: aliceCtx.tenantId };
    bob = { user: 'bob', pass: 'password-123', tenant: bobCtx.tenantId };
    A = await makeAll(e, alice, 'a');
    B = await makeAll(e, bob, 'b');
    await e.h.idle();
    // B's Machine has B's Volume attached (sub-resource and association rows)
    const att = await DRIVERS.rest['Machine.attachVolume'](e.w, bob, { type: 'Machine', parent: B.Machine, extra: B.Volume });
    expect(att.status).toBe(202);
    await e.h.idle();
    bJob = att.job!;
  });

  it('a user of A does not see B in any list, filter or enumeration of any type, in any door', async () => {
    const bIds = new Set(Object.values(B));
    for (const t of [...TOP, 'Job'] as ResourceType[]) {
      const row = ROWS.find((r) => r.op === `${t}.query`)!;
      for (const d of doorsOf(row)) {
        const all = await DRIVERS[d][row.op](e.w, alice, { type: t });
        expect({ t, d, ok: all.ok }).toEqual({ t, d, ok: true });
        expect({ t, d, leaked: (all.ids ?? []).filter((id) => bIds.has(id) || id === bJob) }).toEqual({ t, d, leaked: [] });
        if (t === ('Job' as ResourceType)) continue;
        // filtering by B's name finds nothing (REST $filter, SOAP filter condition, WS-Man WQL)
        const filtered = await DRIVERS[d][row.op](e.w, alice, { type: t, filterName: `b-${t}` });
        expect({ t, d, ok: filtered.ok, ids: filtered.ids }).toEqual({ t, d, ok: true, ids: [] });
      }
    }
    // REST $expand of the collection's references never reaches into B (A's resources reference only A's)
    const expanded = await DRIVERS.rest['Machine.read'](e.w, alice, { type: 'Machine', id: A.Machine });
    expect(expanded.ok).toBe(true);
    const withExpand = await fetch(`${e.w.base}/cimi/machines?$expand=*`, { headers: { Authorization: `Basic ${Buffer.from('alice:password-123').toString('base64')}`, Accept: 'application/json' } });
    const text = await withExpand.text();
    expect(withExpand.status).toBe(200);
    for (const id of bIds) expect(text).not.toContain(id);
  });

  it('a user of A cannot read, update, delete or act on any of B\'s resources through any door (B unchanged)', async () => {
    const before = await snapshot(bobCtx);
    for (const t of [...TOP, 'Job'] as string[]) {
      const id = t === 'Job' ? bJob : B[t];
      for (const row of rowsOf(t)) {
        const verb = row.op.split('.')[1];
        if (['create', 'import', 'query', 'associations', 'attachVolume', 'detachVolume'].includes(verb)) continue; // import is a collection's, like create
        for (const d of doorsOf(row)) {
          await refused(d, row.op, alice, { type: t as ResourceType, id, refs: A, form: row.cells[d].forms[0], description: 'pwned' }, 'not-found');
        }
      }
    }
    expect(await snapshot(bobCtx)).toBe(before);
  });

  it('sub-resources, attach/detach, event logs and WS-Man association filters of B refuse A like an unknown id', async () => {
    const before = await snapshot(bobCtx);
    const link = (await e.h.get(ResourceService).listChildren(bobCtx, 'Machine', B.Machine, 'MachineVolume', {})).items[0].id;
    for (const op of ['MachineVolume.read', 'MachineVolume.query', 'Disk.query']) {
      for (const d of doorsOf(ROWS.find((r) => r.op === op)!)) {
        if (d === 'wsman') continue; // association rows: below
        await refused(d, op, alice, { type: op.split('.')[0] as ResourceType, parent: B.Machine, id: link }, 'not-found');
      }
    }
    for (const d of ['rest', 'soap'] as Door[]) {
      // attach B's Volume to A's Machine, A's Volume to B's Machine, detach B's link
      const unknownVol = await DRIVERS[d]['Machine.attachVolume'](e.w, alice, { type: 'Machine', parent: A.Machine, extra: UNKNOWN });
      await refused(d, 'Machine.attachVolume', alice, { type: 'Machine', parent: A.Machine, extra: B.Volume }, (o) => expect({ kind: o.kind, code: o.code }).toEqual({ kind: unknownVol.kind, code: unknownVol.code }));
      await refused(d, 'Machine.attachVolume', alice, { type: 'Machine', parent: B.Machine, extra: A.Volume }, 'not-found');
      await refused(d, 'Machine.detachVolume', alice, { type: 'Machine', parent: B.Machine, id: link }, 'not-found');
    }
    // B's EventLog and its Events: not-found by id in every door that reads them; WS-Man's WQL on B's log finds nothing,
    // and A's own enumerations of logs and events hold none of B's
    const bEvent = (await e.h.get(EventService).list(bobCtx, B.Machine, { first: 1, last: 1 })).page.items[0].id;
    for (const op of ['EventLog.read', 'Event.query', 'Event.read']) {
      for (const d of doorsOf(ROWS.find((r) => r.op === op)!)) {
        if (op === 'Event.query' && d === 'wsman') {
          const o = await DRIVERS.wsman[op](e.w, alice, { type: 'Machine', id: B.Machine });
          expect({ op, d, ok: o.ok, ids: o.ids }).toEqual({ op, d, ok: true, ids: [] });
          continue;
        }
        await refused(d, op, alice, { type: 'Machine', parent: B.Machine, id: op === 'Event.read' ? bEvent : B.Machine }, 'not-found');
      }
    }
    for (const op of ['EventLog.query', 'Event.query'] as const) {
      const o = await DRIVERS.wsman[op](e.w, alice, { type: 'Machine', id: A.Machine });
      expect({ op, ok: o.ok }).toEqual({ op, ok: true });
      expect((o.ids ?? []).filter((id) => id === B.Machine || id === bEvent)).toEqual([]);
    }
    const logsOfA = await DRIVERS.rest['EventLog.query'](e.w, alice, { type: 'Machine' });
    expect(logsOfA.ids).toContain(A.Machine);
    expect(logsOfA.ids).not.toContain(B.Machine);
    // WS-Man selectors that name B's tenant too (a Volume's SystemName is its tenant): still B's Volume does not exist for A
    for (const action of ['Get', 'Delete']) {
      const rid = randomUUID();
      const o = await wsman({ ...e.w, rid }, alice, `${WS.wxf}/${action}`, WS_CLASS.Volume!.base, '', WS_CLASS.Volume!.keyOf(B.Volume, bob));
      expect({ action, kind: o.kind }).toEqual({ action, kind: 'not-found' });
      requests.push({ rid, what: `WS-Man ${action} of B's Volume with SystemName = B's tenant` });
    }
    // WS-Man association filters on B's Machine: the same answer as for a Machine that does not exist, and no B instance
    const assoc = ROWS.find((r) => r.op === 'Association.query')!;
    const ofB: Record<string, string> = { CIM_ComputerSystem: B.Machine, CIM_LogicalDisk: B.Volume, CIM_IPConnectivitySubnet: B.Network };
    for (const [op, form, id] of [...assoc.cells.wsman.forms.map((f) => ['Association.query', f, ofB[f.split(' ').pop()!]]), ['MachineVolume.query', '', B.Machine]]) {
      const unknown = await DRIVERS.wsman[op](e.w, alice, { type: 'Machine', id: UNKNOWN, parent: UNKNOWN, form });
      const o = await DRIVERS.wsman[op]({ ...e.w, rid: randomUUID() }, alice, { type: 'Machine', id, parent: id, form });
      expect({ op, form, ok: o.ok, kind: o.kind, ids: o.ids ?? [] }).toEqual({ op, form, ok: unknown.ok, kind: unknown.kind, ids: [] });
    }
    // B's enumeration context is not A's: A's Pull is answered as for an unknown context, and B can still pull it
    const ctxB = (await DRIVERS.wsman['Enumeration.open'](e.w, bob, { type: 'Machine' })).id!;
    const unknownCtx = await DRIVERS.wsman['Enumeration.advance'](e.w, alice, { type: 'Machine', id: `uuid:${randomUUID()}` });
    await refused('wsman', 'Enumeration.advance', alice, { type: 'Machine', id: ctxB }, (o) => expect(o.kind).toBe(unknownCtx.kind));
    expect((await DRIVERS.wsman['Enumeration.advance'](e.w, bob, { type: 'Machine', id: ctxB })).ok).toBe(true);
    expect(await snapshot(bobCtx)).toBe(before);
  });

  it('creates that name B\'s templates or references (by href / id) are refused exactly like unknown ones, and create nothing', async () => {
    const count = async () => JSON.stringify(await Promise.all(TOP.map(async (t) => (await e.h.get(ResourceService).list(aliceCtx, t, {})).count)));
    const before = await count();
    const unknownRefs = Object.fromEntries(Object.keys(B).map((k) => [k, UNKNOWN]));
    const madeByProbe: Partial<Record<string, number>> = {};
    // Meter.create names a MeterTemplate (DSP0263 2.0.0 §5.17.4.1): B's is refused like an unknown one too
    for (const t of [...CREATE_ORDER, 'Meter' as const]) {
      const row = ROWS.find((r) => r.op === `${t}.create`)!;
      for (const d of doorsOf(row)) {
        const type = t === 'Meter' ? 'Machine' : t;
        const probe = await DRIVERS[d][row.op](e.w, alice, { type, refs: unknownRefs });
        if (probe.ok) {
          madeByProbe[t] = (madeByProbe[t] ?? 0) + 1;
          continue; // a create by value names no reference (configurations, images)
        }
        await refused(d, row.op, alice, { type, refs: B }, (o) => expect({ t, d, kind: o.kind, code: o.code }).toEqual({ t, d, kind: probe.kind, code: probe.code }));
      }
    }
    await e.h.idle();
    // the by-value probes above made resources in A; the refused ones made none
    const after = JSON.parse(await count()) as number[];
    const was = JSON.parse(before) as number[];
    TOP.forEach((t, i) => expect({ t, made: after[i] - was[i] }).toEqual({ t, made: madeByProbe[t] ?? 0 }));
    expect(Object.keys(madeByProbe).sort()).toEqual(['CredentialTemplate', 'MachineConfiguration', 'MachineImage', 'MeterConfiguration', 'NetworkConfiguration', 'NetworkPortConfiguration', 'VolumeConfiguration', 'VolumeImage']);
  });

  it('an update that points A\'s template at B\'s resource is refused like an unknown reference', async () => {
    const before = await snapshot(aliceCtx, A.Machine);
    const cimi = 'http://schemas.dmtf.org/cimi/1';
    const put = (network: string) => ({ resourceURI: `${cimi}/AddressTemplate`, network: { href: `${e.w.base}/cimi/networks/${network}` } });
    const unknown = await rest(e.w, alice, 'PUT', `/addressTemplates/${A.AddressTemplate}?$select=network`, put(UNKNOWN));
    expect(unknown.kind).toBe('invalid-input');
    const rid = randomUUID();
    const o = await rest({ ...e.w, rid }, alice, 'PUT', `/addressTemplates/${A.AddressTemplate}?$select=network`, put(B.Network));
    expect({ status: o.status, kind: o.kind }).toEqual({ status: unknown.status, kind: unknown.kind });
    requests.push({ rid, what: 'PUT AddressTemplate.network = B network (REST)' });
    expect(await snapshot(aliceCtx, A.Machine)).toBe(before);
  });

  it('a reader of A cannot change anything in any door', async () => {
    const aBefore = await snapshot(aliceCtx, A.Machine);
    for (const t of [...TOP, 'Job'] as string[]) {
      for (const row of rowsOf(t)) {
        const verb = row.op.split('.')[1];
        // an export reads (it answers a package and changes nothing, issue 17): a reader may export
        if (['read', 'query', 'associations', 'export'].includes(verb)) continue;
        for (const d of doorsOf(row)) {
          const id = t === 'Job' ? (await e.h.get(JobService).list(aliceCtx, { first: 1, last: 1 })).items[0].id : A[t];
          await refused(d, row.op, reader, { type: t as ResourceType, id, parent: A.Machine, refs: A, extra: A.Volume, form: row.cells[d].forms[0], description: 'by-reader' }, 'forbidden');
        }
      }
    }
    for (const op of ['Tenant.create', 'User.create', 'Certificate.register']) await refused('soap', op, reader, { type: 'Machine', name: 'nope', extra: 'tenant-a' }, 'forbidden');
    await refused('soap', 'Tenant.create', alice, { type: 'Machine', name: 'nope' }, 'forbidden');
    // the audit trail is for admins only, in every door that reads it
    const anyRecord = (await e.h.get(AuditService).list(await e.h.user('tenant-a', ['admin'], 'alice-admin'), { first: 1, last: 1 })).items[0].id;
    for (const op of ['AuditLog.read', 'AuditEvent.query', 'AuditEvent.read']) {
      for (const d of doorsOf(ROWS.find((r) => r.op === op)!)) await refused(d, op, alice, { type: 'Machine', id: anyRecord }, 'forbidden');
    }
    await e.h.idle();
    expect(await snapshot(aliceCtx, A.Machine)).toBe(aBefore);
  });

  it('the decided answers on the wire: REST 404/403, SOAP 1.1 soap:Client and 1.2 t:ResourceNotFound / t:NotAuthorized, WS-Man wsa:DestinationUnreachable / wsman:AccessDenied', async () => {
    const basic = (w: Who) => `Basic ${Buffer.from(`${w.user}:${w.pass}`).toString('base64')}`;
    const soapEnv = { h: e.h, base: e.w.base, admin: e.admin };
    const notFound = await DRIVERS.rest['Machine.read'](e.w, alice, { type: 'Machine', id: B.Machine });
    expect(notFound.status).toBe(404);
    const forbidden = await DRIVERS.rest['Machine.update'](e.w, reader, { type: 'Machine', id: A.Machine });
    expect(forbidden.status).toBe(403);
    const s11 = faultOf(await soapCall(soapEnv, '1.1', 'GetMachine', `<t:id>${B.Machine}</t:id>`, { auth: basic(alice) }));
    expect(s11).toMatchObject({ code: 'soap:Client', kind: 'not-found' });
    const s12 = faultOf(await soapCall(soapEnv, '1.2', 'GetMachine', `<t:id>${B.Machine}</t:id>`, { auth: basic(alice) }));
    expect(s12).toMatchObject({ code: 'soap:Sender', subcode: 't:ResourceNotFound', kind: 'not-found' });
    const r12 = faultOf(await soapCall(soapEnv, '1.2', 'DeleteMachine', `<t:id>${A.Machine}</t:id>`, { auth: basic(reader) }));
    expect(r12).toMatchObject({ code: 'soap:Sender', subcode: 't:NotAuthorized', kind: 'forbidden' });
    const w404 = await DRIVERS.wsman['Machine.read'](e.w, alice, { type: 'Machine', id: B.Machine });
    const wsFault = (o: Outcome) => fault({ status: o.status, headers: {}, text: o.text, doc: new DOMParser().parseFromString(o.text, 'text/xml') });
    expect(wsFault(w404)).toMatchObject({ subcode: 'DestinationUnreachable', subcodeNs: NS.wsa, detail: expect.stringMatching(/InvalidResourceURI$/) });
    const w403 = await DRIVERS.wsman['Machine.delete'](e.w, reader, { type: 'Machine', id: A.Machine });
    expect(wsFault(w403)).toMatchObject({ subcode: 'AccessDenied', subcodeNs: NS.wsman });
  });

  it('every refusal above wrote exactly one CADF failure record', async () => {
    expect(requests.length).toBeGreaterThan(150);
    const wrong: string[] = [];
    for (const { rid, what } of requests) {
      const recs = await auditOf(e, rid);
      if (recs.length !== 1 || recs[0].outcome !== 'failure') wrong.push(`${what}: ${JSON.stringify(recs.map((r) => [r.action, r.outcome]))}`);
    }
    expect(wrong).toEqual([]);
  });
});
