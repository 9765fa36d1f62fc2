import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD, eventually } from '../../support/app-harness';
import { items, ok, type CimiClient } from '../../support/cimi-client';
import { useRestApp } from '../../support/cimi-client';
import { AuditService } from '../../../src/model/audit/audit.service';
import { AUDIT_LOG, type AuditLog } from '../../../src/model/shared/ports';
import type { AuditEvent } from '../../../src/model/audit/cadf';

const execFileAsync = promisify(execFile);

/**
 * The CADF audit trail through the REST door (issue 6 §3): exactly one record per request, with the request's
 * X-Request-Id as correlation id, a later record for an asynchronous Job's end, nothing for what rolled back, and
 * no secret anywhere in a record.
 */
describe.each(ENGINES)('REST audit trail [%s]', (engine) => {
  const env = useRestApp(engine);
  let log: AuditLog;

  async function records(correlationId: string): Promise<AuditEvent[]> {
    await env().h.get(AuditService).flush();
    const page = await log.list({ filter: { kind: 'cmp', attr: 'correlationId', op: '=', value: correlationId } });
    return page.items;
  }

  /** one request with its own id; returns the id and the response */
  async function req<T>(c: CimiClient, fn: (c: CimiClient) => Promise<T>): Promise<{ rid: string; r: T }> {
    const rid = randomUUID();
    const cc = new (c.constructor as typeof CimiClient)(c.origin, c.format, c.user, c.password, { 'X-Request-Id': rid });
    return { rid, r: await fn(cc) };
  }

  beforeAll(() => {
    log = env().h.app.get(AUDIT_LOG);
  });

  it('records a create as pending with its Job, then the Job end as success, linked', async () => {
    const c = env().client('json');
    const cep = await c.cep();
    const cfg = items(ok(await c.get(cep.machineConfigs.href), 200).doc)[0];
    const img = items(ok(await c.get(cep.machineImages.href), 200).doc).find((i) => i.state === 'AVAILABLE')!;
    const { rid, r } = await req(c, (x) =>
      x.post(cep.machines.href, 'MachineCreate', { name: 'audited', machineTemplate: { machineConfig: { href: cfg.id }, machineImage: { href: img.id } } }),
    );
    ok(r, 202);
    const [rec, ...more] = await records(rid);
    expect(more.filter((m) => !m.requestEventId)).toHaveLength(0);
    expect(rec).toMatchObject({
      typeURI: 'http://schemas.dmtf.org/cloud/audit/1.0/event',
      eventType: 'activity',
      action: 'create',
      outcome: 'pending',
      initiator: { name: 'admin', typeURI: 'service/security/account/user', host: { agent: 'rest', address: expect.stringMatching(/127\.0\.0\.1/) }, credential: { type: 'basic' } },
      target: { id: r.doc.id.split('/').pop(), typeURI: 'http://schemas.dmtf.org/cimi/2/Machine' },
      observer: { id: 'cimi-gateway' },
      reason: { reasonCode: 'OK' },
      correlationId: rid,
    });
    expect(Date.parse(rec.eventTime)).toBeGreaterThan(Date.now() - 60000);
    await c.waitJob(r.headers['cimi-job-uri']);
    const end = await eventually(async () => (await records(rid)).find((e) => e.requestEventId === rec.id));
    expect(end).toMatchObject({ outcome: 'success', action: 'create', jobId: rec.jobId, initiator: { name: 'admin' }, target: rec.target });
  });

  it('records reads, refused logins, forbidden and invalid-state requests once each, and no secret', async () => {
    const c = env().client('json');
    const cep = await c.cep();
    const read = await req(c, (x) => x.get(cep.machines.href));
    ok(read.r, 200);
    expect(await records(read.rid)).toEqual([expect.objectContaining({ action: 'read/list', outcome: 'success', target: expect.objectContaining({ typeURI: 'http://schemas.dmtf.org/cimi/2/MachineCollection' }) })]);

    const badPw = 'Wrong-Secret-Pw-42';
    const login = await req(c.as('admin', badPw), (x) => x.get(x.cepUrl()));
    expect(login.r.status).toBe(401);
    const [refused, ...none] = await records(login.rid);
    expect(none).toHaveLength(0);
    expect(refused).toMatchObject({ action: 'authenticate', outcome: 'failure', initiator: { id: 'unknown', name: 'admin' }, reason: { reasonCode: 'AUTH.UNAUTHENTICATED' } });

    // a reader of the same tenant may read but not act: a control record of the refused start
    await env().h.user(env().h.cfg.DEMO_TENANT, ['reader'], 'audit-reader');
    const vol = items(ok(await c.get(cep.volumes.href), 200).doc)[0] ?? items(ok(await c.get(cep.machineConfigs.href), 200).doc)[0];
    const reader = c.as('audit-reader', 'password-123');
    const f = await req(reader, (x) => x.delete(vol.id));
    expect(f.r.status).toBe(403);
    expect(await records(f.rid)).toEqual([
      expect.objectContaining({ eventType: 'control', action: 'delete', outcome: 'failure', initiator: expect.objectContaining({ name: 'audit-reader' }), reason: { reasonType: 'cimi-gateway', reasonCode: 'AUTH.FORBIDDEN' } }),
    ]);

    const all = await log.list({ first: 1, last: 1000 });
    const text = JSON.stringify(all.items);
    expect(text).not.toContain(badPw);
    expect(text).not.toContain(ADMIN_PASSWORD);
    expect(text).not.toContain('password-123');
    expect(text).not.toMatch(/Basic [A-Za-z0-9+/=]{8,}/);
  });

  it('writes no success record for a change that rolled back', async () => {
    const c = env().client('json');
    const cep = await c.cep();
    const m = items(ok(await c.get(cep.machines.href), 200).doc)[0];
    if (!m) return;
    // a stale If-Match: the update is refused and nothing commits
    const bad = await req(c, (x) => x.put(m.id, 'Machine', { name: 'never' }, { 'If-Match': '"999999"' }));
    expect(bad.r.status).toBe(412);
    const recs = await records(bad.rid);
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ outcome: 'failure', action: 'update', reason: { reasonCode: 'GENERIC.VERSION_MISMATCH' } });
  });

  it('lets admins read and filter the trail as CIMI Events of the audit EventLog; others are refused', async () => {
    const c = env().client('json');
    const cep = await c.cep();
    const logs = ok(await c.get(cep.eventLogs.href), 200).doc;
    // DSP0263 §5.17.10: every EventLog the caller may read: the audit trail first, then each evented resource's log
    const machines = ok(await c.get(cep.machines.href), 200).doc.count as number;
    const networks = ok(await c.get(cep.networks.href), 200).doc.count as number;
    const volumes = ok(await c.get(cep.volumes.href), 200).doc.count as number;
    const systems = ok(await c.get(cep.systems.href), 200).doc.count as number;
    expect(logs.count).toBe(1 + machines + networks + volumes + systems);
    expect(items(logs).length).toBe(logs.count);
    expect(items(logs).slice(1).every((l) => /\/(machines|networks|volumes|systems)\//.test(l.targetResource.href))).toBe(true);
    const second = ok(await c.get(cep.eventLogs.href, { $first: '2', $last: '2' }), 200).doc;
    expect({ count: second.count, ids: items(second).map((l) => l.id) }).toEqual({ count: logs.count, ids: [items(logs)[1].id] });
    expect((await c.get(cep.eventLogs.href, { $filter: "name='audit'" })).status).toBe(400);
    const audit = ok(await c.get(items(logs)[0].id), 200).doc;
    expect(audit).toMatchObject({ name: 'audit', persistence: 'durable', targetResource: { href: c.cepUrl() } });
    await env().h.get(AuditService).flush();

    const failures = ok(await c.get(audit.events.href, { $filter: "outcome='Failure' and action='authenticate'" }), 200).doc;
    expect(failures.count).toBeGreaterThan(0);
    for (const e of items(failures)) {
      expect(e).toMatchObject({ type: 'http://schemas.dmtf.org/cloud/audit/1.0/event', outcome: 'Failure', severity: 'high', content: { action: 'authenticate', outcome: 'failure' } });
      ok(await c.get(e.id), 200);
    }
    const since = new Date(Date.now() - 3600000).toISOString();
    const mine = ok(await c.get(audit.events.href, { $filter: `initiator='admin' and timestamp>${since}`, $orderby: 'timestamp:desc', $last: '5' }), 200).doc;
    expect(items(mine).length).toBeGreaterThan(0);
    const times = items(mine).map((e) => Date.parse(e.timestamp));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(items(mine).every((e) => e.content.initiator.name === 'admin')).toBe(true);
    expect((await c.get(audit.events.href, { $filter: "password='x'" })).status).toBe(400);

    await env().h.user(env().h.cfg.DEMO_TENANT, ['user'], 'audit-user');
    const u = c.as('audit-user', 'password-123');
    const theirs = ok(await u.get(cep.eventLogs.href), 200).doc;
    expect(theirs.count).toBe(logs.count - 1);
    expect(items(theirs).map((l) => l.id)).not.toContain(audit.id);
    expect((await u.get(audit.events.href)).status).toBe(403);
  });

  it('exports the trail as JSON Lines with the CLI, oldest first, filtered by time and tenant', async () => {
    const h = env().h;
    await h.get(AuditService).flush();
    const total = (await log.list({ first: 1, last: 1 })).count;
    const cli = join(__dirname, '..', '..', '..', 'src', 'cli', 'audit-export.ts');
    const run = (args: string[]) =>
      execFileAsync(process.execPath, ['-r', 'ts-node/register/transpile-only', cli, ...args], {
        env: { ...process.env, SQLITE_PATH: h.cfg.SQLITE_PATH, DATABASE_URL: h.cfg.DATABASE_URL ?? '', LOG_LEVEL: 'silent' },
        maxBuffer: 64 * 1024 * 1024,
      });
    const { stdout, stderr } = await run([]);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as AuditEvent);
    expect(lines.length).toBeGreaterThanOrEqual(total);
    expect(stderr).toMatch(/\d+ records/);
    const times = lines.map((e) => Date.parse(e.eventTime));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(lines.every((e) => e.typeURI === 'http://schemas.dmtf.org/cloud/audit/1.0/event' && e.observer.id === 'cimi-gateway')).toBe(true);
    expect(stdout).not.toContain(ADMIN_PASSWORD);
    const none = await run(['--since', new Date(Date.now() - 3600000).toISOString(), '--tenant', 'no-such-tenant']);
    expect(none.stdout).toBe('');
    await expect(run(['--since', 'yesterday-ish'])).rejects.toMatchObject({ code: 78 });
    // archive, then purge: exactly the exported records go, the file holds them, later ones stay
    await expect(run(['--purge'])).rejects.toMatchObject({ code: 64 });
    const until = new Date(Date.now() - 1000).toISOString();
    const archive = join(mkdtempSync(join(tmpdir(), 'audit-archive-')), 'audit.jsonl');
    const before = (await log.list({ first: 1, last: 1 })).count;
    const purged = await run(['--until', until, '--out', archive, '--purge']);
    const archived = readFileSync(archive, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditEvent);
    expect(archived.length).toBeGreaterThan(0);
    expect(purged.stderr).toContain(`${archived.length} records purged`);
    expect(archived.every((e) => e.eventTime <= until)).toBe(true);
    const rest = await log.list({ first: 1, last: 100000 });
    expect(rest.count).toBe(before - archived.length);
    expect(rest.items.every((e) => e.eventTime > until)).toBe(true);
  }, 180000);
});
