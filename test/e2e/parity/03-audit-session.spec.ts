import { randomUUID } from 'node:crypto';
import { ENGINES } from '../../support/databases';
import { eventually } from '../../support/app-harness';
import { AuditService } from '../../../src/model/audit/audit.service';
import { AUDIT_LOG, type AuditLog } from '../../../src/model/shared/ports';
import type { AuditEvent } from '../../../src/model/audit/cadf';
import { DRIVERS, type Args, type Door, type Outcome, type Who } from './drivers';
import { auditOf, makeAll, useParityApp, waitJob, type ParityEnv } from './parity-support';

/**
 * The audit trail of one scripted session that mixes the three doors (issue 6 §3 tests): creates, actions, reads,
 * refused logins, forbidden calls, a change that rolls back and a Job that fails. Every request has exactly one
 * request record with the right fields; each asynchronous Job adds one completion record; the refused and rolled-back
 * requests leave failure records only; no secret appears anywhere in the trail.
 */
interface Step {
  door: Door;
  op: string;
  who: Who;
  a: Args;
  /** what the request record must say */
  want: { action: string; outcome: 'success' | 'failure' | 'pending'; initiator?: string; reason?: string; eventType?: 'activity' | 'control' };
  /** the completion record's outcome, for asynchronous Jobs */
  end?: 'success' | 'failure';
}

describe.each(ENGINES)('one audit trail for a session over REST, SOAP and WS-Man [%s]', (engine) => {
  const env = useParityApp(engine);
  let e: ParityEnv;
  let alice: Who;
  let reader: Who;
  const WRONG = 'Wrong-Passw0rd-For-Audit';

  beforeAll(async () => {
    e = env();
    await e.h.user('audit-session', ['user'], 'as-alice');
    await e.h.user('audit-session', ['reader'], 'as-reader');
    alice = { user: 'as-alice', pass: 'password-123', tenant: 'audit-session' };
    reader = { user: 'as-reader', pass: 'password-123', tenant: 'audit-session' };
  });

  async function run(s: Step): Promise<{ rid: string; o: Outcome }> {
    const rid = randomUUID();
    const o = await DRIVERS[s.door][s.op]({ ...e.w, rid }, s.who, s.a);
    return { rid, o };
  }

  it('has one record per request, one more per asynchronous Job, the right fields, and no secret', async () => {
    const refs = await makeAll(e, alice, 'as', {});
    const m = refs.Machine;
    const steps: Step[] = [
      // a create through SOAP: pending, then the Job's success
      { door: 'soap', op: 'Volume.create', who: alice, a: { type: 'Volume', refs, name: 'as-vol' }, want: { action: 'create', outcome: 'pending', initiator: 'as-alice' }, end: 'success' },
      // reads through each door
      { door: 'rest', op: 'Machine.read', who: alice, a: { type: 'Machine', id: m }, want: { action: 'read', outcome: 'success', initiator: 'as-alice' } },
      { door: 'wsman', op: 'Machine.read', who: alice, a: { type: 'Machine', id: m }, want: { action: 'read', outcome: 'success', initiator: 'as-alice' } },
      // an action through WS-Man, then the same action again: the model refuses the illegal transition (4097)
      { door: 'wsman', op: 'Machine.start', who: alice, a: { type: 'Machine', id: m }, want: { action: 'start', outcome: 'pending' }, end: 'success' },
      { door: 'wsman', op: 'Machine.start', who: alice, a: { type: 'Machine', id: m }, want: { action: 'start', outcome: 'failure', reason: 'MACHINE.INVALID_STATE' } },
      // refused logins in every door: the claimed user, never the password
      { door: 'rest', op: 'Session.authenticate', who: { ...alice, pass: WRONG }, a: { type: 'Machine' }, want: { action: 'authenticate', outcome: 'failure', initiator: 'unknown' } },
      { door: 'soap', op: 'Session.authenticate', who: { ...alice, pass: WRONG }, a: { type: 'Machine' }, want: { action: 'authenticate', outcome: 'failure', initiator: 'unknown' } },
      { door: 'wsman', op: 'Session.authenticate', who: { ...alice, pass: WRONG }, a: { type: 'Machine' }, want: { action: 'authenticate', outcome: 'failure', initiator: 'unknown' } },
      // forbidden calls in every door: control records
      { door: 'rest', op: 'Machine.delete', who: reader, a: { type: 'Machine', id: m }, want: { action: 'delete', outcome: 'failure', reason: 'AUTH.FORBIDDEN', eventType: 'control' } },
      { door: 'soap', op: 'Machine.delete', who: reader, a: { type: 'Machine', id: m }, want: { action: 'delete', outcome: 'failure', reason: 'AUTH.FORBIDDEN', eventType: 'control' } },
      { door: 'wsman', op: 'Machine.delete', who: reader, a: { type: 'Machine', id: m }, want: { action: 'delete', outcome: 'failure', reason: 'AUTH.FORBIDDEN', eventType: 'control' } },
      // a change that rolls back (stale version): a failure record and nothing else
      { door: 'soap', op: 'Machine.update', who: alice, a: { type: 'Machine', id: m, expectedVersion: 999999, description: 'never' }, want: { action: 'update', outcome: 'failure', reason: 'GENERIC.VERSION_MISMATCH' } },
      // a Job that fails in the provider: pending, then failure
      { door: 'rest', op: 'Machine.stop', who: alice, a: { type: 'Machine', id: m }, want: { action: 'stop', outcome: 'pending' }, end: 'failure' },
    ];
    const done: { s: Step; rid: string; o: Outcome }[] = [];
    for (const s of steps) {
      if (s.end === 'failure') e.h.driver.injectFault('stop', 1);
      const r = await run(s);
      done.push({ s, ...r });
      if (r.o.job) await waitJob(e, r.o.job, await e.h.user('audit-session', ['user'], `as-waiter-${randomUUID().slice(0, 8)}`));
    }
    await e.h.idle();

    const all: AuditEvent[] = [];
    for (const { s, rid, o } of done) {
      const what = `${s.door} ${s.op} as ${s.who.user}`;
      const recs = await eventually(async () => {
        const got = await auditOf(e, rid);
        const complete = !s.end || got.some((g) => g.requestEventId);
        return complete ? got : undefined;
      }).catch(async () => {
        throw new Error(`${what}: no completion record; answer ${o.status} job ${o.job}; records ${JSON.stringify(await auditOf(e, rid))}`);
      });
      all.push(...recs);
      const requests = recs.filter((r) => !r.requestEventId);
      expect({ what, n: requests.length }).toEqual({ what, n: 1 });
      const [req] = requests;
      expect({ what, action: req.action, outcome: req.outcome }).toEqual({ what, action: s.want.action, outcome: s.want.outcome });
      expect(req).toMatchObject({ typeURI: 'http://schemas.dmtf.org/cloud/audit/1.0/event', observer: { id: 'cimi-gateway' }, correlationId: rid, initiator: { host: { agent: s.door, address: expect.stringMatching(/127\.0\.0\.1/) } } });
      expect(Date.parse(req.eventTime)).toBeGreaterThan(Date.now() - 600000);
      if (s.want.initiator === 'unknown') expect(req.initiator).toMatchObject({ id: 'unknown', name: s.who.user });
      else expect(req.initiator.name).toBe(s.want.initiator ?? s.who.user);
      if (s.want.reason) expect({ what, reason: req.reason.reasonCode }).toEqual({ what, reason: s.want.reason });
      expect({ what, eventType: req.eventType }).toEqual({ what, eventType: s.want.eventType ?? 'activity' });
      if (s.want.outcome !== 'failure' && s.want.action !== 'read') expect({ what, target: req.target.id }).toEqual({ what, target: s.a.id ?? o.id });
      const ends = recs.filter((r) => r.requestEventId);
      if (s.end) {
        expect({ what, ends: ends.map((x) => [x.outcome, x.requestEventId, x.jobId]) }).toEqual({ what, ends: [[s.end, req.id, req.jobId]] });
        expect(ends[0].initiator).toEqual(req.initiator);
      } else {
        expect({ what, ends: ends.length }).toEqual({ what, ends: 0 });
      }
    }
    // the rolled-back update changed nothing
    expect((await e.h.get(AuditService).list(e.admin, { filter: { kind: 'cmp', attr: 'target', op: '=', value: m } })).items.filter((x) => x.action === 'update' && x.outcome === 'success')).toHaveLength(0);

    await e.h.get(AuditService).flush();
    const trail = JSON.stringify((await e.h.app.get<AuditLog>(AUDIT_LOG).list({ first: 1, last: 100000 })).items);
    for (const secret of [WRONG, 'password-123', 'pw-123456', Buffer.from(`as-alice:${WRONG}`).toString('base64')]) expect(trail).not.toContain(secret);
  });
});
