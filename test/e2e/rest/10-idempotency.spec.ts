import { randomUUID } from 'node:crypto';
import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { CIMI_NS, curl, FORMATS, items, ok, op, useRestApp } from '../../support/cimi-client';

/**
 * Plug-fest scenario 10 (docs/reliability.md rule 2): a create retried with the same Idempotency-Key returns the same
 * Machine (same Location, same Job), never a second one; the same key with a different body is 409.
 */
describe.each(ENGINES)('REST Idempotency-Key [%s]', (engine) => {
  const env = useRestApp(engine);

  describe.each(FORMATS)('%s', (format) => {
    it('a retried create returns the same machine; the same key with another body is 409', async () => {
      const c = env().client(format);
      const cep = await c.cep();
      const cfg = items(ok(await c.get(cep.machineConfigs.href, { $filter: "name='small'" }), 200).doc)[0];
      const machines = ok(await c.get(cep.machines.href), 200).doc;
      const before = machines.count;
      const key = randomUUID();
      const body = { name: `idem-${format}`, machineTemplate: { machineConfig: { href: cfg.id } } };

      const first = ok(await c.post(op(machines, 'add'), 'MachineCreate', body, { 'Idempotency-Key': key }), 201, 202);
      const location = first.headers.location;
      expect(location).toBeTruthy();
      // the retry (e.g. after a lost answer), while the job may still run, and after it finished
      const retry = ok(await c.post(op(machines, 'add'), 'MachineCreate', body, { 'Idempotency-Key': key }), 201, 202);
      expect(retry.headers.location).toBe(location);
      expect(retry.headers['cimi-job-uri']).toBe(first.headers['cimi-job-uri']);
      await c.waitJob(first.headers['cimi-job-uri']);
      const late = ok(await c.post(op(machines, 'add'), 'MachineCreate', body, { 'Idempotency-Key': key }), 201, 202);
      expect(late.headers.location).toBe(location);
      expect(late.doc.id).toBe(location);

      // concurrent retries: still one machine
      const key2 = randomUUID();
      const body2 = { ...body, name: `idem2-${format}` };
      const burst = await Promise.all([1, 2, 3, 4].map(() => c.post(cep.machines.href, 'MachineCreate', body2, { 'Idempotency-Key': key2 })));
      for (const r of burst) ok(r, 201, 202);
      expect(new Set(burst.map((r) => r.headers.location)).size).toBe(1);

      await env().h.idle();
      const after = ok(await c.get(cep.machines.href, { $filter: `name='idem-${format}' or name='idem2-${format}'` }), 200).doc;
      expect(after.count).toBe(2);
      expect(ok(await c.get(cep.machines.href), 200).doc.count).toBe(before + 2);

      // same key, different body → 409, nothing created
      const other = await c.post(cep.machines.href, 'MachineCreate', { ...body, name: 'something else' }, { 'Idempotency-Key': key });
      expect(other.status).toBe(409);
      expect(other.doc.state).toBe('FAILED');
      expect(other.doc.returnCode).toBe(409);
      expect(other.doc.statusMessage).toMatch(/IDEMPOTENCY/);
      expect(ok(await c.get(cep.machines.href), 200).doc.count).toBe(before + 2);

      // a key is per operation: the same key on an action of another kind is a conflict too, not a replay
      const m = ok(await c.get(location), 200).doc;
      const act = await c.action(op(m, 'start'), 'start', {}, { 'Idempotency-Key': key });
      expect(act.status).toBe(409);
      expect(ok(await c.get(location), 200).doc.state).toBe('STOPPED');
      // a malformed key is 400
      const badKey = await c.post(cep.machines.href, 'MachineCreate', body, { 'Idempotency-Key': 'x'.repeat(100) });
      expect(badKey.status).toBe(400);
      expect(ok(await c.get(cep.machines.href), 200).doc.count).toBe(before + 2);
    });

    it('a retried action with the same key runs once', async () => {
      const c = env().client(format);
      const cep = await c.cep();
      const cfg = items(ok(await c.get(cep.machineConfigs.href, { $filter: "name='small'" }), 200).doc)[0];
      const cr = ok(await c.post(cep.machines.href, 'MachineCreate', { machineTemplate: { machineConfig: { href: cfg.id } } }), 201, 202);
      await c.waitJob(cr.headers['cimi-job-uri']);
      const m = ok(await c.get(cr.headers.location), 200).doc;
      const key = randomUUID();
      const a1 = ok(await c.action(op(m, 'start'), 'start', {}, { 'Idempotency-Key': key }), 202);
      const a2 = ok(await c.action(op(m, 'start'), 'start', {}, { 'Idempotency-Key': key }), 202);
      expect(a2.headers['cimi-job-uri']).toBe(a1.headers['cimi-job-uri']);
      expect((await c.waitJob(a1.headers['cimi-job-uri'])).state).toBe('SUCCESS');
      const a3 = ok(await c.action(op(m, 'start'), 'start', {}, { 'Idempotency-Key': key }), 202);
      expect(a3.headers['cimi-job-uri']).toBe(a1.headers['cimi-job-uri']);
      expect(ok(await c.get(cr.headers.location), 200).doc.state).toBe('STARTED');
    });
  });

  it('curl: the same key twice gives the same Location', async () => {
    const c = env().client('json');
    const cep = await c.cep();
    const cfg = items(ok(await c.get(cep.machineConfigs.href, { $filter: "name='small'" }), 200).doc)[0];
    const key = randomUUID();
    const send = () =>
      curl('POST', cep.machines.href, {
        user: 'admin',
        password: ADMIN_PASSWORD,
        headers: { 'Content-Type': 'application/xml', Accept: 'application/xml', 'Idempotency-Key': key },
        data: `<MachineCreate xmlns="${CIMI_NS}"><name>idem-curl</name><machineTemplate><machineConfig href="${cfg.id}"/></machineTemplate></MachineCreate>`,
      });
    const a = await send();
    const b = await send();
    expect([201, 202]).toContain(a.status);
    expect([201, 202]).toContain(b.status);
    expect(b.headers.location).toBe(a.headers.location);
    // the same request in JSON is the same request: a replay, not a conflict
    const j = ok(await c.post(cep.machines.href, 'MachineCreate', { name: 'idem-curl', machineTemplate: { machineConfig: { href: cfg.id } } }, { 'Idempotency-Key': key }), 201, 202);
    expect(j.headers.location).toBe(a.headers.location);
    expect(ok(await c.get(cep.machines.href, { $filter: "name='idem-curl'" }), 200).doc.count).toBe(1);
  });
});
