import SwaggerParser from '@apidevtools/swagger-parser';
import { randomUUID } from 'node:crypto';
import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { MeterSampler } from '../../../src/model/meter/meter-sampler';
import { ACTION, CIMI_NS, items, ok, useRestApp, type CimiClient, type CimiResponse, type Doc } from '../../support/cimi-client';

/**
 * The OpenAPI description at /cimi/openapi.json (src/adapters/rest/openapi.ts): a valid OpenAPI 3.0 document that
 * cannot drift from the server. Every documented path and method is tried on the live server with real resources,
 * everything the server links to (entry point, sub-collections, operations) must be documented, and real
 * representations must match the documented schemas.
 */

const METHODS = ['get', 'put', 'post', 'delete'] as const;
type Method = (typeof METHODS)[number];

/** the last path segment of an href (a resource id) */
const lastSeg = (href: string) => new URL(href).pathname.split('/').pop()!;

/** an href (absolute) as the documented path template it belongs to: /machines/{id}/volumes/{subId} */
function template(href: string, base: string): string {
  const rest = new URL(href).pathname.slice(new URL(base).pathname.length);
  const seg = rest.split('/').filter(Boolean);
  if (seg.length >= 2) seg[1] = seg[0] === 'resourceMetadata' ? '{name}' : '{id}';
  if (seg.length >= 4) seg[3] = '{subId}';
  return `/${seg.join('/')}`;
}

/**
 * A small structural check of a JSON value against an OpenAPI 3.0 schema (response side: `required` applies to
 * read-only properties, write-only properties must be absent): types, enums, required and known properties.
 */
function conformance(value: unknown, schema: Doc, spec: Doc, at: string, out: string[]): void {
  if (schema.$ref) return conformance(value, spec.components.schemas[schema.$ref.split('/').pop()], spec, at, out);
  for (const s of schema.allOf ?? []) conformance(value, s, spec, at, out);
  if (schema.anyOf) {
    const ok = schema.anyOf.some((s: Doc) => {
      const errs: string[] = [];
      conformance(value, s, spec, at, errs);
      return errs.length === 0;
    });
    if (!ok) out.push(`${at}: matches none of anyOf`);
  }
  if (schema.enum && !schema.enum.includes(value)) out.push(`${at}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`);
  const t = schema.type;
  const actual = Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
  if (t && !(t === actual || (t === 'number' && actual === 'integer'))) return void out.push(`${at}: ${actual}, documented as ${t}`);
  if (Array.isArray(value) && schema.items) value.forEach((v, i) => conformance(v, schema.items, spec, `${at}[${i}]`, out));
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Doc;
    for (const r of schema.required ?? []) if (!(r in obj)) out.push(`${at}: required ${r} missing`);
    for (const [k, v] of Object.entries(obj)) {
      const p = schema.properties?.[k];
      if (p) {
        if (p.writeOnly) out.push(`${at}.${k}: write-only, but returned`);
        conformance(v, p, spec, `${at}.${k}`, out);
      } else if (typeof schema.additionalProperties === 'object') conformance(v, schema.additionalProperties, spec, `${at}.${k}`, out);
    }
  }
}

describe.each(ENGINES)('REST OpenAPI description [%s]', (engine) => {
  const env = useRestApp(engine);
  let spec: Doc;
  let base: string;
  let c: CimiClient;
  /** a real id per top-level path segment (and `resourceMetadata` → a type name) */
  const ids = new Map<string, string>();
  /** a real sub-resource id per `/{seg}/{id}/{sub}` template */
  const subIds = new Map<string, string>();
  /** hrefs of the resources created here, by type */
  const made: Record<string, string> = {};

  const post = async (href: string, root: string, doc: Doc): Promise<string> => {
    const r = ok(await c.post(href, root, doc), 201, 202);
    const job = await c.waitJob(r.headers['cimi-job-uri']);
    expect(job.state).toBe('SUCCESS');
    return r.headers.location;
  };

  beforeAll(async () => {
    const res = await fetch(`${env().origin}/cimi/openapi.json`);
    spec = (await res.json()) as Doc;
    base = spec.servers[0].url;
    c = env().client('json');

    // one real resource of every type (the seeded catalog has configurations, MachineImages and a Network)
    const cep = await c.cep();
    const first = async (coll: string) => items(ok(await c.get(cep[coll].href), 200).doc)[0];
    const cfg = await first('machineConfigs');
    const vcfg = await first('volumeConfigs');
    made.Network = await post(cep.networks.href, 'NetworkCreate', { name: 'oa-net', networkTemplate: { initialState: 'STARTED', networkConfig: { networkType: 'PRIVATE', mtu: 1500 } } });
    made.Machine = await post(cep.machines.href, 'MachineCreate', { name: 'oa-vm', machineTemplate: { machineConfig: { href: cfg.id }, networkInterfaces: [{ network: { href: made.Network } }] } });
    made.Volume = await post(cep.volumes.href, 'VolumeCreate', { name: 'oa-vol', volumeTemplate: { volumeConfig: { href: vcfg.id } } });
    made.Volume2 = await post(cep.volumes.href, 'VolumeCreate', { name: 'oa-vol2', volumeTemplate: { volumeConfig: { href: vcfg.id } } });
    await post(`${made.Machine}/volumes`, 'MachineVolume', { initialLocation: '/dev/vdb', volume: { href: made.Volume } });
    made.VolumeImage = await post(cep.volumeImages.href, 'VolumeImage', { name: 'oa-vimg', imageLocation: made.Volume2 });
    made.NetworkPort = await post(cep.networkPorts.href, 'NetworkPortCreate', { name: 'oa-port', networkPortTemplate: { network: { href: made.Network }, networkPortConfig: { portType: 'ACCESS' } } });
    made.Address = await post(cep.addresses.href, 'AddressCreate', { name: 'oa-addr', addressTemplate: { ip: '10.9.9.9', network: { href: made.Network } } });
    made.ForwardingGroup = await post(cep.forwardingGroups.href, 'ForwardingGroupCreate', { name: 'oa-fg', forwardingGroupTemplate: { networks: [{ href: made.Network }] } });
    made.Credential = await post(cep.credentials.href, 'CredentialCreate', { name: 'oa-cred', credentialTemplate: { userName: 'ops', password: 'never-shown-9' } });
    const byValue: [string, string, Doc][] = [
      ['machineTemplates', 'MachineTemplate', { machineConfig: { href: cfg.id } }],
      ['credentialTemplates', 'CredentialTemplate', { userName: 'ops' }],
      ['volumeTemplates', 'VolumeTemplate', { volumeConfig: { href: vcfg.id } }],
      ['networkTemplates', 'NetworkTemplate', { networkConfig: { networkType: 'PRIVATE' } }],
      ['networkConfigs', 'NetworkConfiguration', { networkType: 'PUBLIC', mtu: 9000 }],
      ['networkPortTemplates', 'NetworkPortTemplate', { network: { href: made.Network } }],
      ['networkPortConfigs', 'NetworkPortConfiguration', { portType: 'ACCESS' }],
      ['addressTemplates', 'AddressTemplate', { ip: '10.9.9.10' }],
      ['forwardingGroupTemplates', 'ForwardingGroupTemplate', { networks: [{ href: made.Network }] }],
      ['meterConfigs', 'MeterConfiguration', { aspect: 'urn:cimi-gateway:meter:cpu.time' }],
      ['meterTemplates', 'MeterTemplate', { targetResource: { href: made.Machine }, meterConfig: { aspect: 'urn:cimi-gateway:meter:memory.used' } }],
      [
        'systemTemplates',
        'SystemTemplate',
        {
          componentDescriptors: [
            { name: 'm', type: `${CIMI_NS}/Machine`, machineTemplate: { machineConfig: { href: cfg.id } } },
            { name: 'v', type: `${CIMI_NS}/Volume`, volumeTemplate: { volumeConfig: { href: vcfg.id } } },
            { name: 'c', type: `${CIMI_NS}/Credential`, credentialTemplate: { userName: 'ops' } },
          ],
        },
      ],
    ];
    for (const [coll, root, doc] of byValue) made[root] = ok(await c.post(cep[coll].href, root, { name: `oa-${coll}`, ...doc }), 201).headers.location;
    made.System = await post(cep.systems.href, 'SystemCreate', { name: 'oa-sys', systemTemplate: { href: made.SystemTemplate } });
    // the subscriptions extension (docs/cimi.md §2.8): not in the CEP, its href is the OpenAPI path; a webhook
    // registration makes no Job (no CIMI-Job-URI, which checkInvariants asks of the CIMI resources' changes)
    const sub = await fetch(`${base}/subscriptions`, { method: 'POST', headers: { Authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ notifyTo: 'http://127.0.0.1:9/oa' }) });
    expect(sub.status).toBe(201);
    made.Subscription = sub.headers.get('location')!;
    await env().h.idle();
    // Meters appear with the first sample of what runs (issue 14 §1)
    await env().h.get(MeterSampler).sampleNow();

    // a real id for every documented resource path, a real item (where it has an id) for every sub-collection
    for (const path of Object.keys(spec.paths)) {
      const m = /^\/(\w+)\/\{(id|name)\}$/.exec(path);
      if (!m) continue;
      const list = items(ok(await c.get(`${base}/${m[1]}`), 200).doc);
      const mine = list.find((i) => Object.values(made).includes(i.id)) ?? list[0];
      if (mine) ids.set(m[1], m[2] === 'name' ? mine.name : lastSeg(mine.id));
    }
    for (const path of Object.keys(spec.paths)) {
      const m = /^\/(\w+)\/\{id\}\/(\w+)\/\{subId\}$/.exec(path);
      if (!m || !ids.has(m[1])) continue;
      const sub = items(ok(await c.get(`${base}/${m[1]}/${ids.get(m[1])}/${m[2]}`), 200).doc).find((i) => i.id);
      if (sub) subIds.set(`/${m[1]}/{id}/${m[2]}`, lastSeg(sub.id));
    }
  }, 120000);

  it('is served at /cimi/openapi.json without credentials, as JSON, with the CIMI version header', async () => {
    const origin = env().origin;
    const res = await fetch(`${origin}/cimi/openapi.json`, { headers: { Accept: 'application/xml' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cimi-specification-version')).toBe('1.1.0');
    const doc = (await res.json()) as Doc;
    expect(doc.openapi).toBe('3.0.3');
    expect(doc.servers).toEqual([{ url: `${origin}/cimi` }]);
    expect(doc.info.version).toBe('1.1.0');
    // the version is negotiated like everywhere else
    const v10 = await fetch(`${origin}/cimi/openapi.json`, { headers: { 'CIMI-Specification-Version': '1.0' } });
    expect(v10.headers.get('cimi-specification-version')).toBe('1.0.1');
    expect((await fetch(`${origin}/cimi/openapi.json`, { headers: { 'CIMI-Specification-Version': '9.9' } })).status).toBe(400);
    // other methods on it: authenticated as everything else, then 405 with Allow
    const post = await c.request('POST', `${origin}/cimi/openapi.json`, { body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET');
    expect((await c.request('POST', `${origin}/cimi/openapi.json`, { body: '{}', auth: false })).status).toBe(401);
    // while the API itself still needs credentials
    expect((await fetch(`${origin}/cimi/cloudEntryPoint`)).status).toBe(401);
  });

  it('is a valid OpenAPI 3.0 document (swagger-parser), with Basic auth everywhere and unique operation ids', async () => {
    await expect(SwaggerParser.validate(structuredClone(spec) as never)).resolves.toBeDefined();
    expect(spec.components.securitySchemes.basic).toEqual(expect.objectContaining({ type: 'http', scheme: 'basic' }));
    expect(spec.security).toEqual([{ basic: [] }]);
    const opIds: string[] = [];
    for (const [path, item] of Object.entries<Doc>(spec.paths)) {
      for (const m of METHODS) {
        const o = item[m];
        if (!o) continue;
        opIds.push(o.operationId);
        if (path === '/openapi.json') expect(o.security).toEqual([]);
        else expect(o.security).toBeUndefined();
        // both media types on every CIMI body
        for (const r of Object.values<Doc>(o.responses)) {
          const resp = r.$ref ? spec.components.responses[r.$ref.split('/').pop()] : r;
          // an OVF export package is an OVF descriptor or OVA, not a CIMI body (test/e2e/rest/30-ovf.spec.ts)
          if (resp.content && path !== '/openapi.json' && !path.includes('/export.')) expect(Object.keys(resp.content).sort()).toEqual(['application/json', 'application/xml']);
        }
        if (o.requestBody) expect(Object.keys(o.requestBody.content).sort()).toEqual(['application/json', 'application/xml']);
      }
    }
    expect(new Set(opIds).size).toBe(opIds.length);
    expect(opIds).toEqual(expect.arrayContaining(['listMachines', 'createMachine', 'getMachine', 'updateMachine', 'deleteMachine', 'startMachine', 'stopMachine', 'addMachineVolume', 'deleteMachineVolume', 'listJobs', 'stopJob']));
    // the collection query parameters on collection GETs, the request headers on mutations
    const params = (o: Doc) => (o.parameters as Doc[]).map((p) => spec.components.parameters[p.$ref.split('/').pop()].name);
    expect(params(spec.paths['/machines'].get)).toEqual(expect.arrayContaining(['$filter', '$select', '$expand', '$first', '$last', '$orderby', '$format', 'CIMI-Specification-Version']));
    expect(params(spec.paths['/machines/{id}'].put)).toEqual(expect.arrayContaining(['If-Match', 'Idempotency-Key']));
    for (const status of ['400', '401', '403', '404', '405', '406', '409', '412', '413', '415', '500']) {
      expect(spec.components.responses[`Error${status}`].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Job' });
    }
    const created = spec.paths['/machines'].post.responses['201'];
    expect(Object.keys(created.headers).sort()).toEqual(['CIMI-Job-URI', 'CIMI-Specification-Version', 'ETag', 'Location']);
  });

  it('cannot drift: everything the server links to is documented (entry point, sub-collections, operations)', async () => {
    const missing: string[] = [];
    const has = (href: string, method: Method, why: string) => {
      const t = template(href, base);
      if (!spec.paths[t]?.[method]) missing.push(`${method.toUpperCase()} ${t} (${why})`);
    };
    const cep = ok(await c.get(`${base}/cloudEntryPoint`), 200).doc;
    let collections = 0;
    for (const [k, v] of Object.entries<Doc>(cep)) {
      if (!v || typeof v !== 'object' || typeof v.href !== 'string') continue;
      collections++;
      has(v.href, 'get', `entry point ${k}`);
      // each collection's own operations (add)
      const coll = ok(await c.get(v.href), 200).doc;
      for (const o of coll.operations ?? []) has(o.href, o.rel === 'add' ? 'post' : 'get', `${k} ${o.rel}`);
    }
    expect(collections).toBe(28);
    await env().h.idle();
    // every real resource: its sub-collection links and the operations it offers now
    const rel2method = (rel: string): Method => (rel === 'edit' ? 'put' : rel === 'delete' ? 'delete' : 'post');
    for (const [seg, id] of ids) {
      if (seg === 'resourceMetadata') continue;
      const doc = ok(await c.get(`${base}/${seg}/${id}`), 200).doc;
      for (const [k, v] of Object.entries<Doc>(doc)) if (v && typeof v === 'object' && typeof v.href === 'string' && v.href.startsWith(`${doc.id}/`)) has(v.href, 'get', `${seg} ${k}`);
      for (const o of doc.operations ?? []) has(o.href, rel2method(o.rel), `${seg} ${o.rel}`);
    }
    for (const [sub, subId] of subIds) {
      const href = `${base}${sub.replace('{id}', ids.get(sub.split('/')[1])!)}`;
      const coll = ok(await c.get(href), 200).doc;
      for (const o of coll.operations ?? []) has(o.href, o.rel === 'add' ? 'post' : 'get', `${sub} ${o.rel}`);
      const doc = ok(await c.get(`${href}/${subId}`), 200).doc;
      for (const o of doc.operations ?? []) has(o.href, rel2method(o.rel), `${sub} item ${o.rel}`);
    }
    // every action ResourceMetadata advertises, whatever state the resources are in now (capture = POST of an image)
    const segOf = new Map<string, string>();
    for (const [k, v] of Object.entries<Doc>(cep)) if (typeof v?.href === 'string') segOf.set(String(ok(await c.get(v.href), 200).doc.resourceURI).replace(`${CIMI_NS}/`, '').replace(/Collection$/, ''), k);
    let actions = 0;
    for (const rmd of items(ok(await c.get(`${base}/resourceMetadata`), 200).doc)) {
      for (const a of rmd.actions ?? []) {
        actions++;
        const path = a.name === 'capture' ? `/${segOf.get(rmd.name === 'Volume' ? 'VolumeImage' : 'MachineImage')}` : `/${segOf.get(rmd.name)}/{id}/${a.name}`;
        if (!spec.paths[path]?.post) missing.push(`POST ${path} (ResourceMetadata ${rmd.name} action ${a.name})`);
      }
    }
    expect(actions).toBeGreaterThan(10);
    expect(ids.has('machines') && subIds.has('/machines/{id}/volumes')).toBe(true);
    expect(missing).toEqual([]);
  });

  it('cannot drift: every documented path and method is served (never 405), collections answer 200', async () => {
    expect(Object.keys(spec.paths).length).toBeGreaterThan(50);
    // every documented resource path is tried with a real resource, and every sub-collection that has addressable items
    const itemSegs = Object.keys(spec.paths).flatMap((p) => /^\/(\w+)\/\{(?:id|name)\}$/.exec(p)?.[1] ?? []);
    expect([...ids.keys()].sort()).toEqual(itemSegs.sort());
    expect([...subIds.keys()].sort()).toEqual(['/eventLogs/{id}/events', '/machines/{id}/networkInterfaces', '/machines/{id}/volumes', '/systems/{id}/credentials', '/systems/{id}/machines', '/systems/{id}/volumes']);
    const failures: string[] = [];
    let tried = 0;
    for (const [path, item] of Object.entries<Doc>(spec.paths)) {
      for (const method of METHODS) {
        const o: Doc | undefined = item[method];
        if (!o) continue;
        // OVF export is a read answered with a Location and no Job, its package not a CIMI body: test/e2e/rest/30-ovf.spec.ts
        if (path.includes('/export')) continue;
        // GET and POST (actions, adds) on real resources; PUT and DELETE on a random id so that nothing is destroyed
        const real = method === 'get' || method === 'post';
        const seg = path.split('/')[1];
        let realIds = true;
        const url =
          base +
          path
            .replace(/\{(id|name)\}/, () => (real && ids.has(seg) ? ids.get(seg)! : ((realIds = false), randomUUID())))
            .replace('{subId}', () => (real && subIds.has(path.replace(/\/\{subId\}$/, '')) ? subIds.get(path.replace(/\/\{subId\}$/, ''))! : ((realIds = false), randomUUID())));
        let body: string | undefined;
        if (o.requestBody) {
          // an Action names the operation it is POSTed to; other bodies are empty objects (400 at worst, never 405)
          const isAction = o.requestBody.content['application/json'].schema.$ref === '#/components/schemas/Action';
          body = JSON.stringify(isAction ? { resourceURI: `${CIMI_NS}/Action`, action: `${ACTION}${path.split('/').pop()}` } : {});
        }
        const r: CimiResponse = await c.request(method.toUpperCase(), url, body === undefined ? {} : { body });
        tried++;
        const what = `${method.toUpperCase()} ${path} (${o.operationId}) → ${r.status} ${r.text.slice(0, 200)}`;
        if (r.status === 405) failures.push(what);
        const literalEnd = !path.endsWith('}');
        if (method === 'get' && (literalEnd || realIds) && r.status !== 200) failures.push(`${what}: expected 200`);
        // an action or add on a real resource exists for its type (the controller answers 404 for unknown operations)
        if (method === 'post' && realIds && r.status === 404) failures.push(`${what}: not routed for this type`);
        if (!real && r.status !== 404) failures.push(`${what}: expected 404 for a random id`);
        // documented statuses only
        if (!(String(r.status) in o.responses)) failures.push(`${what}: status not documented`);
        if (r.status >= 400) {
          const errs: string[] = [];
          conformance(r.doc, { $ref: '#/components/schemas/Job' }, spec, 'error', errs);
          failures.push(...errs.map((e) => `${what}: ${e}`));
        }
      }
    }
    expect(failures).toEqual([]);
    expect(tried).toBeGreaterThan(100);
  });

  it('the Machine schema matches a real Machine: every property is returned or optional, nothing undocumented', async () => {
    await env().h.idle();
    const machine = ok(await c.get(made.Machine), 200).doc;
    const schema = spec.components.schemas.Machine;
    const required: string[] = schema.required;
    expect(required).toEqual(expect.arrayContaining(['id', 'created', 'updated', 'state']));
    for (const p of Object.keys(schema.properties)) expect({ p, ok: p in machine || !required.includes(p) }).toEqual({ p, ok: true });
    for (const k of Object.keys(machine)) expect({ k, documented: k in schema.properties }).toEqual({ k, documented: true });
    // the WIRE attributes with their kinds, the sub-collections, the operations
    expect(schema.properties.cpu).toMatchObject({ type: 'integer', readOnly: true });
    expect(schema.properties.latestSnapshot.allOf).toEqual([{ $ref: '#/components/schemas/Ref' }]);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['disks', 'volumes', 'networkInterfaces', 'operations', 'resourceURI', 'name', 'description', 'properties']));
    const errs: string[] = [];
    conformance(machine, { $ref: '#/components/schemas/Machine' }, spec, 'Machine', errs);
    expect(errs).toEqual([]);
  });

  it('every real representation (entry point, resources, sub-resources, collections, Jobs) conforms to its schema', async () => {
    await env().h.idle();
    const errs: string[] = [];
    const check = async (href: string, schema: string) => conformance(ok(await c.get(href), 200).doc, { $ref: `#/components/schemas/${schema}` }, spec, `${schema} ${template(href, base)}`, errs);
    await check(`${base}/cloudEntryPoint`, 'CloudEntryPoint');
    for (const [path, item] of Object.entries<Doc>(spec.paths)) {
      const schemaRef: string | undefined = item.get?.responses['200']?.content?.['application/json']?.schema?.$ref;
      if (!schemaRef || path === '/openapi.json') continue;
      const name = schemaRef.split('/').pop()!;
      const seg = path.split('/')[1];
      const sub = path.replace(/\/\{subId\}$/, '');
      if (path.includes('{id}') || path.includes('{name}')) {
        if (!ids.has(seg) || (path.includes('{subId}') && !subIds.has(sub))) continue;
      }
      const url = base + path.replace(/\{(id|name)\}/, () => ids.get(seg)!).replace('{subId}', () => subIds.get(sub)!);
      await check(url, name);
    }
    // a secret is documented write-only and never returned
    expect(spec.components.schemas.Credential.properties.password).toMatchObject({ writeOnly: true });
    expect(ok(await c.get(made.Credential), 200).text).not.toContain('never-shown-9');
    expect(errs).toEqual([]);
  });
});

describe.each(ENGINES)('REST OpenAPI description behind a proxy [%s]', (engine) => {
  const env = useRestApp(engine, { PUBLIC_BASE_URL: 'https://cloud.example.org/' });

  it('names PUBLIC_BASE_URL as its server, as the hrefs of the API do', async () => {
    const doc = (await (await fetch(`${env().origin}/cimi/openapi.json`)).json()) as Doc;
    expect(doc.servers).toEqual([{ url: 'https://cloud.example.org/cimi' }]);
    const cep = await env().client('json').cep();
    expect(cep.baseURI).toBe(`${doc.servers[0].url}/`);
  });
});
