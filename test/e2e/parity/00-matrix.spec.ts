import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MODEL_OPERATIONS } from '../../../src/model/operations';
import { buildOpenApi } from '../../../src/adapters/rest/openapi';
import { CimiUris } from '../../../src/adapters/rest/cimi-uris';
import { loadCatalogue } from '../../../src/adapters/wsman/cim-catalogue';
import { ACTION_HANDLERS, METHOD_HANDLERS } from '../../../src/adapters/wsman/handlers';
import { METER_REQUESTED_STATES, REQUESTED_STATE_ACTIONS } from '../../../src/adapters/wsman/handlers/request-state-change';
import { DOORS, DRIVERS } from './drivers';
import { matrixSection, parseRows } from './matrix';

/**
 * The parity matrix (docs/operations.md "Parity matrix", issue 6 §1) checked against the code: one row per model
 * operation and nothing else, every form a door offers named in its column, every named form real, no empty cell,
 * and a parity driver for every form (test/e2e/parity/drivers.ts). No app is started.
 */
const ROOT = join(__dirname, '../../..');
const section = matrixSection();
const rows = parseRows();
const selfDescription = /Door self-description[^:]*:([^\n]+(?:\n[^\n]+)*?)\n\n/.exec(section)?.[1] ?? '';
const restSelf = new Set([...selfDescription.split(';')[0].matchAll(/`([^`]+)`/g)].map((m) => m[1]));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') && !p.endsWith('.spec.ts') ? [p] : [];
  });
}

describe('parity matrix (docs/operations.md)', () => {
  it('has one row per model operation, in MODEL_OPERATIONS order, with its service method', () => {
    expect(rows.map((r) => `${r.op} ${r.service}`)).toEqual(MODEL_OPERATIONS.map((o) => `${o.op} ${o.service}`));
  });

  it('names every operation the services run through Mutations.run', () => {
    const ops = new Set(MODEL_OPERATIONS.map((o) => o.op));
    const named = sourceFiles(join(ROOT, 'src/model')).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/mutations\.run\(\s*ctx,\s*'([A-Za-z]+\.[A-Za-z]+)'/g)].map((m) => m[1]));
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((n) => !ops.has(n))).toEqual([]);
    // the templated names (`${type}.update`, `${type}.${action}`) are the derived rows; the model's state machines list them
  });

  it('has no empty cell: every door cell names forms or says why not', () => {
    for (const r of rows) for (const d of DOORS) expect({ op: r.op, door: d, ok: r.cells[d].forms.length > 0 || (r.cells[d].why ?? '').length > 20 }).toEqual({ op: r.op, door: d, ok: true });
  });

  it('REST: every OpenAPI operationId is in the REST column (or is door self-description), and every REST form is an operationId', () => {
    const spec = buildOpenApi(new CimiUris('http://x'), '2.0.0') as { paths: Record<string, Record<string, { operationId?: string }>> };
    const ids = Object.values(spec.paths).flatMap((p) => Object.values(p).flatMap((o) => (o && typeof o === 'object' && o.operationId ? [o.operationId] : [])));
    const named = new Set(rows.flatMap((r) => r.cells.rest.forms));
    expect(ids.filter((id) => !named.has(id) && !restSelf.has(id))).toEqual([]);
    expect([...named].filter((f) => !ids.includes(f) && f !== 'HTTP Basic')).toEqual([]);
    expect([...restSelf].filter((f) => !ids.includes(f))).toEqual([]);
  });

  it('SOAP: every WSDL operation is in the SOAP column, and every SOAP form is a WSDL operation', () => {
    const wsdl = readFileSync(join(ROOT, 'wsdl/cimi-gateway.wsdl'), 'utf8');
    const portType = /<wsdl:portType[\s\S]*?<\/wsdl:portType>/.exec(wsdl)![0];
    const ops = [...portType.matchAll(/<wsdl:operation name="([A-Za-z]+)"/g)].map((m) => m[1]);
    expect(ops.length).toBeGreaterThan(100);
    const named = new Set(rows.flatMap((r) => r.cells.soap.forms.map((f) => f.split('(')[0])));
    expect(ops.filter((o) => !named.has(o))).toEqual([]);
    expect([...named].filter((f) => !ops.includes(f) && !['HTTP Basic', 'wsse:Security'].includes(f))).toEqual([]);
  });

  it('WS-Man: every dispatcher action x catalogue class and every class method x RequestedState is in the WS-Man column, and every form is one', () => {
    const cat = loadCatalogue();
    const transfer = readFileSync(join(ROOT, 'src/adapters/wsman/handlers/transfer.ts'), 'utf8');
    const creatable = [...(/const CREATORS[\s\S]*?> = \{([\s\S]*?)\n\};/.exec(transfer)?.[1] ?? '').matchAll(/^ {2}(\w+): /gm)].map((m) => m[1]);
    expect(creatable.length).toBeGreaterThan(0);
    const offered = new Set<string>();
    const local = (uri: string) => uri.split('/').pop()!;
    // WS-Eventing (DSP0226 10) is offered on the one event class, not on every class
    const EVENTING = ['Subscribe', 'Renew', 'GetStatus', 'Unsubscribe'];
    const actions = [...ACTION_HANDLERS.keys()].map(local).filter((a) => !EVENTING.includes(a));
    expect([...ACTION_HANDLERS.keys()].map(local).filter((a) => EVENTING.includes(a)).sort()).toEqual([...EVENTING].sort());
    for (const a of EVENTING) offered.add(`${a} CIMIGW_Event`);
    // DSP0226 10.2.9: a pull subscription's notifications are pulled with wsen:Pull on its context
    offered.add('Pull CIMIGW_Event');
    for (const cls of cat.classes.filter((c) => c.model)) {
      if (cls.association) {
        offered.add(`Enumerate(AssociationInstances) ${cls.name}`);
        continue;
      }
      for (const a of actions) {
        if (a === 'Pull' || a === 'Release') continue;
        if (a === 'Create' && !creatable.includes(String(cls.model))) continue;
        if (a === 'Put' && cls.model === 'Job') continue; // a Job has no writable property: every Put that changes one is refused
        // a Meter (read-only otherwise) is deleted when a client made it (transfer.ts remove)
        if (cls.readOnly && ['Put', 'Delete', 'Create'].includes(a) && !(cls.model === 'Meter' && a !== 'Put')) continue; // logs and records: ActionNotSupported
        offered.add(`${a} ${cls.name}`);
      }
    }
    for (const a of ['Enumerate', 'Pull', 'Release']) offered.add(`${a} CIM_ManagedElement`);
    // an association filter's Object may be either end of any association class (their reference properties)
    for (const a of cat.classes.filter((c) => c.association)) for (const p of a.properties) if (p.type === 'reference' && p.refClass) offered.add(`Enumerate(AssociatedInstances) ${p.refClass}`);
    for (const cls of cat.classes.filter((c) => c.methods.length && (!c.superclass || !c.superclass.methods.length))) {
      for (const m of cls.methods) {
        expect(METHOD_HANDLERS[m]).toBeDefined();
        // a Meter starts (2) and stops (3); a Machine has the whole table
        for (const state of Object.keys(cls.model === 'Meter' ? METER_REQUESTED_STATES : REQUESTED_STATE_ACTIONS)) offered.add(`${m}(${state}) ${cls.name}`);
      }
    }
    const named = new Set(rows.flatMap((r) => r.cells.wsman.forms).filter((f) => f !== 'HTTP Basic'));
    expect([...offered].filter((o) => !named.has(o)).sort()).toEqual([]);
    expect([...named].filter((n) => !offered.has(n)).sort()).toEqual([]);
  });

  it('every form a row names has a parity driver in its door', () => {
    const missing = rows.flatMap((r) => DOORS.filter((d) => r.cells[d].forms.length && !DRIVERS[d][r.op]).map((d) => `${r.op} ${d}`));
    expect(missing).toEqual([]);
    // and no driver for a cell that says the door cannot express the operation
    const stray = rows.flatMap((r) => DOORS.filter((d) => !r.cells[d].forms.length && DRIVERS[d][r.op]).map((d) => `${r.op} ${d}`));
    expect(stray).toEqual([]);
  });

  it('writes the isolation answer of each door once', () => {
    expect(section).toMatch(/\| another tenant's resource \(not-found\) \| 404[^|]*\| [^|]*ResourceNotFound[^|]*\| `wsa:DestinationUnreachable`/);
    expect(section).toMatch(/\| change by a `reader` \(forbidden\) \| 403[^|]*\|[^|]*NotAuthorized[^|]*\| `wsman:AccessDenied` \|/);
  });
});
