import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { CimiClient, curl, FORMATS, newMachine, ok, op, useRestApp, type Doc } from '../../support/cimi-client';

/**
 * Plug-fest scenario 8 (DSP0263 2.0.0 §4.1.7.2, docs/cimi.md §4.2): two clients PUT the same resource with the
 * same ETag in If-Match: exactly one wins (200), the other gets 412 with a Job-shaped error body.
 */
describe.each(ENGINES)('REST ETag / If-Match [%s]', (engine) => {
  const env = useRestApp(engine);

  describe.each(FORMATS)('%s', (format) => {
    it('two concurrent PUTs with the same If-Match: one 200, one 412; the winner’s change is kept', async () => {
      const c = env().client(format);
      const other = new CimiClient(env().origin, format);
      const href = await newMachine(c, `etag-${format}`);
      for (let round = 0; round < 5; round++) {
        const [a, b] = await Promise.all([c.get(href), other.get(href)]);
        const tag = ok(a, 200).headers.etag;
        expect(tag).toMatch(/^"\d+"$/);
        expect(ok(b, 200).headers.etag).toBe(tag);
        const edit = op(a.doc, 'edit');
        const [ra, rb] = await Promise.all([
          c.put(edit, 'Machine', { ...a.doc, name: `A${round}`, description: 'from A' }, { 'If-Match': tag }),
          other.put(edit, 'Machine', { ...b.doc, name: `B${round}`, description: 'from B' }, { 'If-Match': tag }),
        ]);
        const statuses = [ra.status, rb.status].sort();
        expect({ round, statuses }).toEqual({ round, statuses: [200, 412] });
        const [win, lose] = ra.status === 200 ? [ra, rb] : [rb, ra];
        expect(win.headers.etag).not.toBe(tag);
        expect(win.headers['cimi-job-uri']).toBeTruthy();
        expect(lose.doc.state).toBe('FAILED');
        expect(lose.doc.returnCode).toBe(412);
        expect(lose.doc.statusMessage).toMatch(/VERSION_MISMATCH|version/);
        const now = ok(await c.get(href), 200);
        expect(now.doc.name).toBe(win.doc.name);
        expect(now.headers.etag).toBe(win.headers.etag);
      }
    });

    it('a stale ETag is 412 for PUT, DELETE and actions, and changes nothing', async () => {
      const c = env().client(format);
      const href = await newMachine(c, `stale-${format}`);
      const first = ok(await c.get(href), 200);
      const stale = first.headers.etag;
      ok(await c.put(op(first.doc, 'edit'), 'Machine', { ...first.doc, name: `renamed-${format}` }, { 'If-Match': stale }), 200);
      const now = ok(await c.get(href), 200);
      expect(now.doc.name).toBe(`renamed-${format}`);

      const put = await c.put(op(now.doc, 'edit'), 'Machine', { ...now.doc, name: 'lost' }, { 'If-Match': stale });
      expect(put.status).toBe(412);
      const del = await c.delete(op(now.doc, 'delete'), { 'If-Match': stale });
      expect(del.status).toBe(412);
      const act = await c.action(op(now.doc, 'start'), 'start', {}, { 'If-Match': stale });
      expect(act.status).toBe(412);
      const weird = await c.delete(op(now.doc, 'delete'), { 'If-Match': '"not-a-version"' });
      expect(weird.status).toBe(412);
      const after = ok(await c.get(href), 200);
      expect(after.doc.name).toBe(`renamed-${format}`);
      expect(after.doc.state).toBe('STOPPED');
      expect(after.headers.etag).toBe(now.headers.etag);
      // the current ETag (or *) works
      const okDel = ok(await c.delete(op(after.doc, 'delete'), { 'If-Match': after.headers.etag }), 200, 202);
      await c.waitJob(okDel.headers['cimi-job-uri']);
    });

    it('partial update with $select changes only the listed attributes', async () => {
      const c = env().client(format);
      const href = await newMachine(c, `partial-${format}`);
      const m = ok(await c.get(href), 200).doc;
      ok(await c.put(op(m, 'edit'), 'Machine', { description: 'only this', properties: { k: 'v' } }, {}, { $select: 'description,properties' }), 200);
      const after: Doc = ok(await c.get(href), 200).doc;
      expect(after.updated > m.updated).toBe(true);
      expect(after.created).toBe(m.created);
      expect(after.name).toBe(`partial-${format}`);
      expect(after.description).toBe('only this');
      expect(after.properties).toEqual({ k: 'v' });
      // an attribute that is not in $select is an error
      const bad = await c.put(op(m, 'edit'), 'Machine', { name: 'x', description: 'y' }, {}, { $select: 'description' });
      expect(bad.status).toBe(400);
      expect(ok(await c.get(href), 200).doc.name).toBe(`partial-${format}`);
    });
  });

  it('curl: two concurrent PUTs with the same If-Match', async () => {
    const c = env().client('json');
    const href = await newMachine(c, 'etag-curl');
    const g = ok(await c.get(href), 200);
    const tag = g.headers.etag;
    const auth = { user: 'admin', password: ADMIN_PASSWORD };
    const put = (name: string) =>
      curl('PUT', op(g.doc, 'edit'), {
        ...auth,
        headers: { 'Content-Type': 'application/json', Accept: 'application/xml', 'If-Match': tag },
        data: JSON.stringify({ ...g.doc, name }),
      });
    const [a, b] = await Promise.all([put('curl-A'), put('curl-B')]);
    expect([a.status, b.status].sort()).toEqual([200, 412]);
    const lose = a.status === 412 ? a : b;
    expect(lose.root).toBe('Job');
    expect(lose.doc.returnCode).toBe(412);
  });
});
