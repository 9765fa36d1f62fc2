import { randomUUID } from 'node:crypto';
import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD, eventually, startHarness, type Harness } from '../../support/app-harness';
import { startGatewayProcess, type GatewayProcess } from '../../support/gateway-process';
import { AUDIT_LOG, type AuditLog } from '../../../src/model/shared/ports';

jest.setTimeout(120000);

const AUTH = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;

/**
 * Group commit of request records (issue 13 §3): a read's record waits in the buffer for up to AUDIT_FLUSH_MS and
 * commits with others in one transaction; a full buffer holds new requests back instead of dropping records; a
 * graceful shutdown (SIGTERM) writes whatever is buffered. Driven through the REST door of a real gateway process.
 */
describe.each(ENGINES)('audit group commit [%s]', (engine) => {
  let h: Harness;
  let log: AuditLog;
  const procs: GatewayProcess[] = [];

  beforeAll(async () => {
    h = await startHarness(engine, { JOB_WORKER: 'false' });
    log = h.app.get(AUDIT_LOG);
  });
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.kill()));
  });
  afterAll(() => h?.close());

  const start = async (env: Record<string, string>) => {
    const p = await startGatewayProcess({ DATABASE_URL: h.db.databaseUrl, SQLITE_PATH: h.db.sqlitePath, ADMIN_PASSWORD, SEED_DEMO: 'false', ...env });
    procs.push(p);
    return p;
  };
  const count = async (prefix: string) => {
    const page = await log.list({ filter: { kind: 'cmp', attr: 'protocol', op: '=', value: 'rest' }, first: 1, last: 100000 });
    return page.items.filter((e) => e.correlationId.startsWith(prefix)).length;
  };
  const read = (p: GatewayProcess, rid: string) => fetch(`${p.url}/cimi/machines`, { headers: { Authorization: AUTH, 'X-Request-Id': rid } });

  it('commits a read record within the flush window, not per request', async () => {
    const p = await start({ AUDIT_FLUSH_MS: '1000' });
    const prefix = `gc-${randomUUID()}-`;
    expect((await read(p, `${prefix}1`)).status).toBe(200);
    // answered at once, recorded within the window
    expect(await count(prefix)).toBe(0);
    await eventually(async () => (await count(prefix)) === 1, 5000, 50);
  });

  it('a full buffer delays requests instead of dropping records, and SIGTERM writes what is buffered', async () => {
    const p = await start({ AUDIT_FLUSH_MS: '1000', AUDIT_BUFFER_MAX: '100' });
    const prefix = `gs-${randomUUID()}-`;
    const n = 260;
    for (let i = 0; i < n; i += 20) {
      const rs = await Promise.all(Array.from({ length: 20 }, (_, k) => read(p, `${prefix}${String(i + k).padStart(4, '0')}`)));
      expect(rs.map((r) => r.status)).toEqual(rs.map(() => 200));
    }
    await p.kill('SIGTERM');
    expect(p.child.exitCode ?? p.child.signalCode).not.toBe('SIGKILL');
    expect(await count(prefix)).toBe(n);
  });
});
