import { ENGINES } from '../../support/databases';
import { FORMATS, items, ok, op, useRestApp } from '../../support/cimi-client';

/**
 * CIMI state Events (DSP0263 2.0.0 §5.17.13, Table 55; issue 6 §4): each Machine, Volume, Network and System links
 * its EventLog, whose Events report every state change with resName, resource, resType, state and previous.
 */
describe.each(ENGINES)('REST EventLogs of resources [%s]', (engine) => {
  const env = useRestApp(engine);

  describe.each(FORMATS)('%s', (format) => {
    it('reports the states a Machine went through, in order, filterable; other tenants cannot see them', async () => {
      const c = env().client(format);
      const cep = await c.cep();
      const cfg = items(ok(await c.get(cep.machineConfigs.href), 200).doc)[0];
      const img = items(ok(await c.get(cep.machineImages.href), 200).doc).find((i) => i.state === 'AVAILABLE')!;
      const created = ok(await c.post(cep.machines.href, 'MachineCreate', { name: `ev-${format}`, machineTemplate: { machineConfig: { href: cfg.id }, machineImage: { href: img.id } } }), 202);
      await c.waitJob(created.headers['cimi-job-uri']);
      const href = created.headers.location;
      const m = ok(await c.get(href), 200).doc;
      const start = await c.action(op(m, 'start'), 'start');
      await c.waitJob(start.headers['cimi-job-uri']);

      expect(m.eventLog.href).toMatch(/\/cimi\/eventLogs\/[0-9a-f-]{36}$/);
      const log = ok(await c.get(m.eventLog.href), 200).doc;
      expect(log).toMatchObject({ id: m.eventLog.href, targetResource: { href }, events: { href: `${m.eventLog.href}/events` } });
      const events = items(ok(await c.get(log.events.href), 200).doc);
      expect(events.map((e) => [e.content.previous ?? null, e.content.state])).toEqual([
        [null, 'CREATING'],
        ['CREATING', 'STOPPED'],
        ['STOPPED', 'STARTING'],
        ['STARTING', 'STARTED'],
      ]);
      for (const e of events) {
        expect(e).toMatchObject({ type: 'http://schemas.dmtf.org/cimi/2/event/state', outcome: 'Status', severity: 'low', content: { resName: `ev-${format}`, resource: { href }, resType: 'http://schemas.dmtf.org/cimi/2/Machine' } });
        ok(await c.get(e.id), 200);
      }
      const started = ok(await c.get(log.events.href, { $filter: "state='STARTED'" }), 200).doc;
      expect(started.count).toBe(1);

      await env().h.user('events-other', ['admin'], `ev-other-${format}`);
      const other = c.as(`ev-other-${format}`, 'password-123');
      expect((await other.get(m.eventLog.href)).status).toBe(404);
      expect((await other.get(log.events.href)).status).toBe(404);
      expect((await other.get(events[0].id)).status).toBe(404);
    });
  });
});
