import { ADMIN_PASSWORD, eventually, startHarness, type Harness } from '../../support/app-harness';
import { IdentityService } from '../../../src/model/identity/identity.service';
import { JobService } from '../../../src/model/job/job.service';
import { MachineService } from '../../../src/model/machine/machine.service';
import { NetworkService } from '../../../src/model/network/network.service';
import { SystemService } from '../../../src/model/system/system.service';
import { ResourceService } from '../../../src/model/shared/resource.service';
import { AuditService } from '../../../src/model/audit/audit.service';
import { AUDIT_LOG, type AuditLog } from '../../../src/model/shared/ports';
import type { AuditEvent } from '../../../src/model/audit/cadf';
import type { Job } from '../../../src/model/job/job';
import type { Resource, ResourceType } from '../../../src/model/shared/resource';
import type { OperationContext } from '../../../src/model/shared/operation-context';
import { CREATE_ORDER, DRIVERS, type Outcome, type Who, type World } from './drivers';

const FINAL = ['SUCCESS', 'FAILED', 'STOPPED'];

export interface ParityEnv {
  h: Harness;
  w: World;
  admin: OperationContext;
  adminWho: Who;
}

/** One running app for the suite (listening on 127.0.0.1:0), with the seeded catalog provisioned. */
export function useParityApp(engine: 'sqlite' | 'postgres', env: Record<string, string> = {}): () => ParityEnv {
  jest.setTimeout(180000);
  let state: ParityEnv | undefined;
  beforeAll(async () => {
    const h = await startHarness(engine, { SIM_LATENCY_MS: '2', ...env }, { listen: true });
    await h.idle();
    const addr = h.app.getHttpServer().address() as { port: number };
    const identity = h.get(IdentityService);
    const admin = identity.context(await identity.authenticate('admin', ADMIN_PASSWORD), 'internal', 'parity');
    state = { h, w: { base: `http://127.0.0.1:${addr.port}`, port: addr.port }, admin, adminWho: { user: 'admin', pass: ADMIN_PASSWORD, tenant: admin.tenantId } };
  }, 180000);
  afterAll(async () => {
    await state?.h.idle().catch(() => undefined);
    await state?.h.close();
  }, 60000);
  return () => state!;
}

export function okOf(o: Outcome, what: string): Outcome {
  if (!o.ok) throw new Error(`${what}: HTTP ${o.status} ${o.kind ?? ''} ${o.text.slice(0, 700)}`);
  return o;
}

export async function waitJob(e: ParityEnv, id: string, ctx: OperationContext = e.admin): Promise<Job> {
  return eventually(async () => {
    const j = await e.h.get(JobService).get(ctx, id);
    return FINAL.includes(j.state) ? j : undefined;
  }, 30000);
}

/** the newest Job on a resource with that action (WS-Man Create/Delete answer with the resource or nothing, not the Job) */
export async function jobOn(e: ParityEnv, id: string, action: string, ctx: OperationContext = e.admin): Promise<string> {
  return eventually(async () => {
    const page = await e.h.get(JobService).list(ctx, { first: 1, last: 1000 });
    const hits = page.items.filter((j) => j.action === action && ((j.targetResource as { id: string }).id === id || j.affectedResources.some((r) => r.id === id)));
    hits.sort((a, b) => b.created.getTime() - a.created.getTime());
    return hits[0]?.id;
  });
}

export async function resource(e: ParityEnv, t: ResourceType, id: string, ctx: OperationContext = e.admin): Promise<Resource | undefined> {
  try {
    return await e.h.get(ResourceService).get(ctx, t, id);
  } catch {
    return undefined;
  }
}

/** the model's view of a resource with everything door- or instance-specific (ids, times, names) mapped out */
export function norm(v: unknown, keep: Set<string>): unknown {
  if (v instanceof Date) return 'DATE';
  if (typeof v === 'string') return /^[0-9a-f]{8}-[0-9a-f]{4}-/.test(v) && !keep.has(v) ? 'ID' : v;
  if (Array.isArray(v)) return v.map((x) => norm(x, keep));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x, keep)]));
  return v;
}

export function resourceView(r: Resource | undefined, keep: Set<string>): unknown {
  if (!r) return 'GONE';
  return norm({ type: r.type, name: r.name, description: r.description, properties: r.properties, state: r.state, version: r.version, attrs: r.attrs }, keep);
}

export function jobView(j: Job, keep: Set<string>): unknown {
  return norm({ action: j.action, state: j.state, targetType: j.targetResource.type, affected: j.affectedResources.map((r) => r.type).sort(), returnCode: j.returnCode }, keep);
}

/** Brings a Machine / Network / NetworkPort / System into `want` (STARTED or STOPPED) through the model. */
export async function ensureState(e: ParityEnv, t: ResourceType, id: string, want: string): Promise<void> {
  const stable = ['STARTED', 'STOPPED', 'PAUSED', 'SUSPENDED', 'MIXED', 'ERROR'];
  for (let i = 0; i < 100; i++) {
    await e.h.idle();
    const state = (await resource(e, t, id))!.state!;
    if (state === want) return;
    if (!stable.includes(state)) {
      // a System's state is derived from its Machines and follows them a moment later
      await new Promise((r) => setTimeout(r, 30));
      continue;
    }
    const action = state === 'STARTED' || (state === 'ERROR' && want === 'STOPPED') ? 'stop' : 'start';
    try {
      if (t === 'Machine') await e.h.get(MachineService).act(e.admin, id, action);
      else if (t === 'System') await e.h.get(SystemService).act(e.admin, id, action);
      else await e.h.get(NetworkService).act(e.admin, t as 'Network', id, action);
    } catch (err) {
      if ((err as { kind?: string }).kind !== 'invalid-state') throw err;
    }
  }
  throw new Error(`${t} ${id} did not reach ${want}`);
}

/** One resource of every creatable type, made through REST in dependency order; references point at earlier ones. */
export async function makeAll(e: ParityEnv, who: Who, prefix: string, refs: Record<string, string> = {}): Promise<Record<string, string>> {
  const out: Record<string, string> = { ...refs };
  for (const t of CREATE_ORDER) out[t] = await makeOne(e, who, t, out, `${prefix}-${t}`);
  await e.h.idle();
  return out;
}

export async function makeOne(e: ParityEnv, who: Who, t: ResourceType, refs: Record<string, string>, name = `fx-${t}`): Promise<string> {
  const r = okOf(await DRIVERS.rest[`${t}.create`](e.w, who, { type: t, refs, name }), `create ${t}`);
  if (r.job) await e.h.idle();
  return r.id!;
}

/** the CADF records of one request (its X-Request-Id), after the audit queue is flushed */
export async function auditOf(e: ParityEnv, rid: string): Promise<AuditEvent[]> {
  await e.h.get(AuditService).flush();
  const log = e.h.app.get<AuditLog>(AUDIT_LOG);
  return (await log.list({ filter: { kind: 'cmp', attr: 'correlationId', op: '=', value: rid } })).items;
}
