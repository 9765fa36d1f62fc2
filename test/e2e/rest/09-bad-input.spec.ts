import { gzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { CIMI_NS, CimiClient, curl, FORMATS, items, ok, op, opOrUndefined, useRestApp, type CimiResponse, type Doc } from '../../support/cimi-client';

/**
 * Plug-fest scenario 9: bad input. Every case gets its status and a Job-shaped error body (DSP0263 2.0.0 §4.2.2:
 * `id` "", state FAILED, returnCode = the status, progress 100) in the requested format — XML error bodies are
 * validated against DSP8009 by the client — and nothing changes in the database.
 */
describe.each(ENGINES)('REST bad input [%s]', (engine) => {
  const env = useRestApp(engine);

  describe.each(FORMATS)('%s', (format) => {
    let c: CimiClient;
    let cep: Doc;
    let machineHref: string;
    let configHref: string;
    /** operation hrefs of the victim while it was STARTED (a client holding stale links) */
    let startedOps: Record<string, string>;
    /** a Machine that existed and was deleted, with its representation from before */
    let ghost: Doc;

    beforeAll(async () => {
      c = env().client(format);
      cep = await c.cep();
      configHref = items(ok(await c.get(cep.machineConfigs.href, { $filter: "name='small'" }), 200).doc)[0].id;
      const cr = ok(await c.post(cep.machines.href, 'MachineCreate', { name: `victim-${format}`, machineTemplate: { machineConfig: { href: configHref } } }), 201, 202);
      await c.waitJob(cr.headers['cimi-job-uri']);
      machineHref = cr.headers.location;
      // start it to learn the operations of a STARTED machine, then stop it again
      await c.waitJob(ok(await c.action(op(ok(await c.get(machineHref), 200).doc, 'start'), 'start'), 202).headers['cimi-job-uri']);
      const started = ok(await c.get(machineHref), 200).doc;
      startedOps = Object.fromEntries(['stop', 'pause', 'suspend', 'restart', 'start'].flatMap((a) => (opOrUndefined(started, a) ? [[a, op(started, a)]] : [])));
      await c.waitJob(ok(await c.action(startedOps.stop, 'stop'), 202).headers['cimi-job-uri']);
      // and a machine that is gone
      const gr = ok(await c.post(cep.machines.href, 'MachineCreate', { name: `ghost-${format}`, machineTemplate: { machineConfig: { href: configHref } } }), 201, 202);
      await c.waitJob(gr.headers['cimi-job-uri']);
      ghost = ok(await c.get(gr.headers.location), 200).doc;
      await c.waitJob(ok(await c.delete(op(ghost, 'delete')), 200, 202).headers['cimi-job-uri']);
    });

    /** the database as a client sees it: collection sizes and the victim's representation */
    async function snapshot(): Promise<unknown> {
      const counts: Record<string, number> = {};
      for (const k of ['machines', 'machineTemplates', 'volumes', 'credentials', 'systems', 'machineImages']) counts[k] = ok(await c.get(cep[k].href), 200).doc.count;
      const m = ok(await c.get(machineHref), 200);
      return { counts, etag: m.headers.etag, machine: m.text };
    }

    /** the error is a transient Job in the requested format (or JSON when no format can be honoured) */
    function expectErrorJob(r: CimiResponse, status: number, as: 'json' | 'xml' = format): void {
      expect({ status: r.status, body: r.text.slice(0, 300) }).toEqual({ status, body: expect.any(String) });
      expect(r.contentType).toBe(`application/${as}`);
      if (as === 'xml') expect(r.root).toBe('Job');
      else expect(r.doc.resourceURI).toBe(`${CIMI_NS}/Job`);
      expect(r.doc.id ?? '').toBe('');
      expect(r.doc.state).toBe('FAILED');
      expect(r.doc.returnCode).toBe(status);
      expect(r.doc.progress).toBe(100);
      expect(typeof r.doc.statusMessage).toBe('string');
      expect(r.headers['cimi-specification-version']).toMatch(/^1\.\d\.\d$/);
    }

    async function unchanged<T>(fn: () => Promise<T>): Promise<T> {
      const before = await snapshot();
      const out = await fn();
      await env().h.idle();
      expect(await snapshot()).toEqual(before);
      return out;
    }

    it('malformed JSON and XML bodies → 400', async () => {
      await unchanged(async () => {
        for (const [body, contentType] of [
          ['{"name": "x", "machineTemplate": ', 'application/json'],
          ['[1, 2, 3]', 'application/json'],
          ['"just a string"', 'application/json'],
          ['', 'application/json'],
          ['<MachineCreate xmlns="http://schemas.dmtf.org/cimi/1"><name>x</MachineCreate>', 'application/xml'],
          ['<MachineCreate xmlns="http://example.org/other"><name>x</name></MachineCreate>', 'application/xml'],
          ['<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><MachineCreate xmlns="http://schemas.dmtf.org/cimi/1"><name>&lol2;</name></MachineCreate>', 'application/xml'],
          ['<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><MachineCreate xmlns="http://schemas.dmtf.org/cimi/1"><name>&xxe;</name></MachineCreate>', 'text/xml'],
          ['not xml at all', 'application/xml'],
          ['<Machine xmlns="http://schemas.dmtf.org/cimi/1"><name>wrong root</name></Machine>', 'application/xml'],
        ]) {
          const r = await c.request('POST', cep.machines.href, { body, contentType });
          expectErrorJob(r, 400);
          expect(r.text).not.toContain('root:x:0');
        }
      });
    });

    it('text XML cannot carry (control characters) → 400, so no resource becomes unreadable in XML', async () => {
      await unchanged(async () => {
        const body = JSON.stringify({ name: 'bad\u0001name', machineTemplate: { machineConfig: { href: configHref } } });
        expectErrorJob(await c.request('POST', cep.machines.href, { body, contentType: 'application/json' }), 400);
        const props = JSON.stringify({ name: 'ok', cpu: 1, memory: 1024, properties: { k: 'v\u0002' } });
        expectErrorJob(await c.request('POST', cep.machineConfigs.href, { body: props, contentType: 'application/json' }), 400);
        const key = JSON.stringify({ name: 'ok', cpu: 1, memory: 1024, properties: { 'k\u0003': 'v' } });
        expectErrorJob(await c.request('POST', cep.machineConfigs.href, { body: key, contentType: 'application/json' }), 400);
        const m = ok(await c.get(machineHref), 200).doc;
        expectErrorJob(await c.request('PUT', op(m, 'edit'), { body: JSON.stringify({ ...m, description: 'x\u001by' }), contentType: 'application/json' }), 400);
      });
      // every collection still reads in XML
      ok(await c.get(cep.machineConfigs.href, { $format: 'xml' }), 200);
    });

    it('unknown attributes → 400 (create, update, action)', async () => {
      await unchanged(async () => {
        const json = { name: 'x', machineTemplate: { machineConfig: { href: configHref } }, color: 'red' };
        const r1 = await c.request('POST', cep.machines.href, { body: JSON.stringify(json), contentType: 'application/json' });
        expectErrorJob(r1, 400);
        expect(r1.doc.statusMessage).toMatch(/color/);
        const r2 = await c.request('POST', cep.machines.href, {
          body: `<MachineCreate xmlns="${CIMI_NS}"><name>x</name><color>red</color><machineTemplate><machineConfig href="${configHref}"/></machineTemplate></MachineCreate>`,
          contentType: 'application/xml',
        });
        expectErrorJob(r2, 400);
        expect(r2.doc.statusMessage).toMatch(/color/);
        // inside the template
        const r3 = await c.request('POST', cep.machines.href, { body: JSON.stringify({ machineTemplate: { machineConfig: { href: configHref }, flavour: 'x' } }), contentType: 'application/json' });
        expectErrorJob(r3, 400);
        // on update
        const m = ok(await c.get(machineHref), 200).doc;
        const r4 = await c.request('PUT', op(m, 'edit'), { body: JSON.stringify({ ...m, name: 'changed', colour: 'blue' }), contentType: 'application/json' });
        expectErrorJob(r4, 400);
        // in an Action
        const r5 = await c.request('POST', op(m, 'start'), { body: JSON.stringify({ action: `${CIMI_NS}/action/start`, turbo: true }), contentType: 'application/json' });
        expectErrorJob(r5, 400);
        // an Action for another operation than its href
        const r6 = await c.action(op(m, 'start'), 'stop');
        expectErrorJob(r6, 400);
        // a wrong resourceURI
        const r7 = await c.request('POST', cep.machines.href, { body: JSON.stringify({ resourceURI: `${CIMI_NS}/VolumeCreate`, machineTemplate: { machineConfig: { href: configHref } } }), contentType: 'application/json' });
        expectErrorJob(r7, 400);
        // a template href that is not a MachineTemplate of this gateway
        const r8 = await c.post(cep.machines.href, 'MachineCreate', { machineTemplate: { href: 'http://elsewhere.example/cimi/machineTemplates/1' } });
        expectErrorJob(r8, 400);
      });
    });

    it('wrong media type → 415; unacceptable Accept or $format → 406; unsupported CIMI-Specification-Version → 400', async () => {
      await unchanged(async () => {
        const body = JSON.stringify({ machineTemplate: { machineConfig: { href: configHref } } });
        for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/yaml']) {
          const r = await c.request('POST', cep.machines.href, { body, contentType: ct });
          expectErrorJob(r, 415);
        }
        // 406: no acceptable format to answer in, so the error body is JSON
        for (const accept of ['image/png', 'text/html;q=1, application/pdf']) {
          const r = await c.request('GET', cep.machines.href, { accept });
          expectErrorJob(r, 406, 'json');
        }
        const r406 = await c.get(cep.machines.href, { $format: 'yaml' });
        expectErrorJob(r406, 406, 'json');
        // a POST whose answer cannot be given is refused before it changes anything
        const post406 = await c.request('POST', cep.machines.href, { body, contentType: 'application/json', accept: 'image/png' });
        expectErrorJob(post406, 406, 'json');
        for (const v of ['2.0', '0.9, 3.1', 'banana']) {
          const r = await c.request('POST', cep.machines.href, { body, contentType: 'application/json', headers: { 'CIMI-Specification-Version': v } });
          expectErrorJob(r, 400);
          expect(r.doc.statusMessage).toMatch(/version/i);
        }
        // never required; 1.0 clients are served as 1.0.1
        const v10 = ok(await c.get(cep.machines.href, {}, { 'CIMI-Specification-Version': '2.0, 1.0' }), 200);
        expect(v10.headers['cimi-specification-version']).toBe('1.0.1');
      });
    });

    it('illegal state transitions → 409', async () => {
      await unchanged(async () => {
        const m = ok(await c.get(machineHref), 200).doc;
        expect(m.state).toBe('STOPPED');
        for (const a of ['stop', 'pause', 'suspend']) {
          const r = await c.action(startedOps[a], a);
          expectErrorJob(r, 409);
          expect(r.doc.statusMessage).toMatch(/STOPPED/);
        }
      });
    });

    it('bad filters → 400', async () => {
      await unchanged(async () => {
        for (const f of ['cpu=', "name='x", 'cpu==1', '(cpu=1', 'bogus=1', "cpuArch>'x'", "property['k']<'v'"]) {
          const r = await c.get(cep.machines.href, { $filter: f });
          expectErrorJob(r, 400);
        }
        expectErrorJob(await c.get(cep.machines.href, { $orderby: 'cpu:up' }), 400);
        expectErrorJob(await c.get(cep.machines.href, { $first: '-1' }), 400);
      });
    });

    it('oversize bodies → 413, also a gzip bomb with Content-Encoding: gzip', async () => {
      await unchanged(async () => {
        const big = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024), machineTemplate: { machineConfig: { href: configHref } } });
        expectErrorJob(await c.request('POST', cep.machines.href, { body: big, contentType: 'application/json' }), 413);
        const bigXml = `<MachineCreate xmlns="${CIMI_NS}"><description>${'y'.repeat(2 * 1024 * 1024)}</description><machineTemplate><machineConfig href="${configHref}"/></machineTemplate></MachineCreate>`;
        expectErrorJob(await c.request('POST', cep.machines.href, { body: bigXml, contentType: 'application/xml' }), 413);
        // 64 MiB of spaces inside valid JSON compress to ~64 KiB: the inflated size counts
        const bomb = gzipSync(Buffer.concat([Buffer.from('{"name":"x'), Buffer.alloc(64 * 1024 * 1024, 0x20), Buffer.from('"}')]));
        expect(bomb.length).toBeLessThan(1024 * 1024);
        const r = await c.request('POST', cep.machines.href, { body: bomb, contentType: 'application/json', headers: { 'Content-Encoding': 'gzip' } });
        expectErrorJob(r, 413);
        // a body that is not what its Content-Encoding says, an encoding we do not speak, a charset we do not know
        expectErrorJob(await c.request('POST', cep.machines.href, { body: 'not gzip at all', contentType: 'application/json', headers: { 'Content-Encoding': 'gzip' } }), 400);
        expectErrorJob(await c.request('POST', cep.machines.href, { body: '{}', contentType: 'application/json', headers: { 'Content-Encoding': 'compress' } }), 415);
        expectErrorJob(await c.request('POST', cep.machines.href, { body: '{}', contentType: 'application/json; charset=x-no-such-charset' }), 415);
        // a small gzip body is fine (it is the size, not the encoding, that is refused)
        const small = gzipSync(Buffer.from(JSON.stringify({ name: 'gz' })));
        const r2 = await c.request('PUT', machineHref, { body: small, contentType: 'application/json', headers: { 'Content-Encoding': 'gzip' }, query: { $select: 'description' } });
        expectErrorJob(r2, 400); // name is not in $select: refused, proving the body was read
      });
    });

    it('missing or wrong credentials → 401 with WWW-Authenticate; a reader writing → 403', async () => {
      const { h } = env();
      const reader = await h.user('demo', ['reader'], `reader-${format}-${engine}`);
      const rc = c.as(reader.principal.userName, 'password-123');
      await unchanged(async () => {
        const none = await c.request('GET', cep.machines.href, { auth: false });
        expectErrorJob(none, 401);
        expect(none.headers['www-authenticate']).toMatch(/^Basic realm=/);
        const wrong = await c.as('admin', 'not-the-password').get(cep.machines.href);
        expectErrorJob(wrong, 401);
        expect(wrong.headers['www-authenticate']).toMatch(/^Basic /);
        const nobody = await c.as('nobody', 'whatever-123').post(cep.machines.href, 'MachineCreate', { machineTemplate: { machineConfig: { href: configHref } } });
        expectErrorJob(nobody, 401);
        const bearer = await c.request('GET', cep.machines.href, { auth: false, headers: { Authorization: 'Bearer abc' } });
        expectErrorJob(bearer, 401);

        // the reader sees everything and may change nothing
        const m = ok(await rc.get(machineHref), 200).doc;
        expect(m.operations ?? []).toEqual([]);
        expectErrorJob(await rc.post(cep.machines.href, 'MachineCreate', { machineTemplate: { machineConfig: { href: configHref } } }), 403);
        expectErrorJob(await rc.put(machineHref, 'Machine', { ...m, name: 'reader was here' }), 403);
        expectErrorJob(await rc.delete(machineHref), 403);
        expectErrorJob(await rc.action(op(ok(await c.get(machineHref), 200).doc, 'start'), 'start'), 403);
        expectErrorJob(await rc.post(cep.machineTemplates.href, 'MachineTemplate', { machineConfig: { href: configHref } }), 403);
      });
    });

    it('unknown ids and collections → 404', async () => {
      await unchanged(async () => {
        // every link of a deleted Machine is now dead
        expectErrorJob(await c.get(ghost.id), 404);
        expectErrorJob(await c.put(op(ghost, 'edit'), 'Machine', { name: 'x' }), 404);
        expectErrorJob(await c.delete(op(ghost, 'delete')), 404);
        expectErrorJob(await c.action(op(ghost, 'start'), 'start'), 404);
        expectErrorJob(await c.get(ghost.volumes.href), 404);
        expectErrorJob(await c.get(ghost.disks.href), 404);
        // ids nobody ever issued (URIs are opaque; these are deliberately made up)
        expectErrorJob(await c.get(`${cep.machines.href}/${randomUUID()}`), 404);
        expectErrorJob(await c.get(`${cep.machines.href}/not-a-uuid`), 404);
        expectErrorJob(await c.get(`${cep.jobs.href}/${randomUUID()}`), 404);
        expectErrorJob(await c.get(`${cep.baseURI}nosuchcollection`), 404);
        expectErrorJob(await c.get(`${cep.resourceMetadata.href}/NoSuchType`), 404);
        expectErrorJob(await c.get(`${ok(await c.get(machineHref), 200).doc.volumes.href}/${randomUUID()}/more/segments`), 404);
      });
    });

    it('a method the URI does not serve → 405 with Allow', async () => {
      await unchanged(async () => {
        const cases: [string, string, string][] = [
          ['PATCH', cep.machines.href, 'GET, POST'],
          ['DELETE', cep.machines.href, 'GET, POST'],
          ['PUT', cep.machines.href, 'GET, POST'],
          ['POST', c.cepUrl(), 'GET'],
          ['PATCH', machineHref, 'GET, PUT, DELETE'],
          ['DELETE', ok(await c.get(machineHref), 200).doc.volumes.href, 'GET, POST'],
          ['POST', cep.jobs.href, 'GET'],
          ['PUT', cep.resourceMetadata.href, 'GET'],
        ];
        for (const [method, href, allow] of cases) {
          const r = await c.request(method, href, method === 'DELETE' ? {} : { body: '{}', contentType: 'application/json' });
          expectErrorJob(r, 405);
          expect(r.headers.allow).toBe(allow);
        }
      });
    });
  });

  it('curl: error bodies for 401, 415 and 400 (an independent client)', async () => {
    const c = env().client('json');
    const cep = await c.cep();
    const before = ok(await c.get(cep.machines.href), 200).doc.count;
    const noAuth = await curl('GET', cep.machines.href, { headers: { Accept: 'application/xml' } });
    expect(noAuth.status).toBe(401);
    expect(noAuth.headers['www-authenticate']).toMatch(/^Basic/);
    expect(noAuth.root).toBe('Job');
    const auth = { user: 'admin', password: ADMIN_PASSWORD };
    const r415 = await curl('POST', cep.machines.href, { ...auth, headers: { 'Content-Type': 'text/plain', Accept: 'application/json' }, data: 'hello' });
    expect(r415.status).toBe(415);
    expect(r415.doc.returnCode).toBe(415);
    const r400 = await curl('POST', cep.machines.href, { ...auth, headers: { 'Content-Type': 'application/json', Accept: 'application/xml' }, data: '{"machineTemplate":' });
    expect(r400.status).toBe(400);
    expect(r400.root).toBe('Job');
    expect(r400.doc.state).toBe('FAILED');
    const bad = await curl('GET', `${cep.machines.href}?$filter=${encodeURIComponent('cpu=1 and')}`, { ...auth, headers: { Accept: 'application/xml' } });
    expect(bad.status).toBe(400);
    expect(bad.doc.statusMessage).toMatch(/position 9/);
    expect(ok(await c.get(cep.machines.href), 200).doc.count).toBe(before);
  });
});
