import { ENGINES } from '../../support/databases';
import { FORMATS, items, ok, op, useRestApp, type Doc } from '../../support/cimi-client';
import { ResourceService } from '../../../src/model/shared/resource.service';
import type { OperationContext } from '../../../src/model/shared/operation-context';

/**
 * Plug-fest scenario 3: a Machine whose template, configuration and image are all given by value
 * (MachineTemplateByValue, MachineConfigByValue, MachineImageByValue), with a Credential made first through
 * CredentialCreate and referenced from the template. Secrets (password, key) are never echoed anywhere.
 */
const PASSWORD = 'S3cr3t-Pa55w0rd-e2e';
const KEY = 'deadbeefcafebabe0123456789abcdef';

/** no representation may carry a secret, under any key or as any value */
function expectNoSecrets(text: string): void {
  expect(text).not.toContain(PASSWORD);
  expect(text.toLowerCase()).not.toContain(KEY);
  expect(text).not.toMatch(/"password"|<password>|"key"\s*:|<key>/);
}

describe.each(ENGINES)('REST machine by value [%s]', (engine) => {
  const env = useRestApp(engine);
  let ctx: OperationContext | undefined;
  const admin = async () => (ctx ??= await env().h.user('demo', ['admin'], `inspector-${engine}`));

  describe.each(FORMATS)('%s', (format) => {
    it('CredentialCreate, then MachineCreate with template, config and image by value and the credential by reference', async () => {
      const c = env().client(format);
      const cep = await c.cep();

      // 1. the credential: CredentialCreate with the template by value (CredentialTemplateByValue)
      const creds = ok(await c.get(cep.credentials.href), 200).doc;
      const cc = ok(
        await c.post(op(creds, 'add'), 'CredentialCreate', {
          name: `cred-${format}`,
          credentialTemplate: { userName: 'root', password: PASSWORD, key: KEY },
        }),
        201,
      );
      expectNoSecrets(cc.text);
      const credHref = cc.headers.location;
      expect(credHref).toMatch(new RegExp(`^${cep.credentials.href}/`));
      expect(cc.headers['cimi-job-uri']).toBeTruthy();
      const cred = ok(await c.get(credHref), 200);
      expectNoSecrets(cred.text);
      expect(cred.doc.userName).toBe('root');
      // not through $select, not in the collection either
      expectNoSecrets(ok(await c.get(credHref, { $select: 'password,key,userName' }), 200).text);
      expectNoSecrets(ok(await c.get(cep.credentials.href), 200).text);
      expectNoSecrets(ok(await c.get(cc.headers['cimi-job-uri']), 200).text);

      // 2. the machine: everything by value, the credential by reference
      const machines = ok(await c.get(cep.machines.href), 200).doc;
      const cr = ok(
        await c.post(op(machines, 'add'), 'MachineCreate', {
          name: `byvalue-${format}`,
          machineTemplate: {
            initialState: 'STARTED',
            machineConfig: { cpu: 3, memory: 3145728, disks: [{ capacity: 5000000, format: 'ext4' }], cpuArch: 'x86_64', cpuSpeed: 1800 },
            machineImage: { imageLocation: 'http://images.example.org/debian-12.qcow2' },
            credential: { href: credHref },
          },
        }),
        201,
        202,
      );
      expectNoSecrets(cr.text);
      const job = await c.waitJob(cr.headers['cimi-job-uri']);
      expect(job.state).toBe('SUCCESS');
      expectNoSecrets(ok(await c.get(cr.headers['cimi-job-uri']), 200).text);
      const m = ok(await c.get(cr.headers.location), 200);
      expectNoSecrets(m.text);
      expect(m.doc).toMatchObject({ name: `byvalue-${format}`, state: 'STARTED', cpu: 3, memory: 3145728, cpuArch: 'x86_64', cpuSpeed: 1800 });
      const disks = items(ok(await c.get(m.doc.disks.href), 200).doc);
      expect(disks).toEqual([expect.objectContaining({ capacity: 5000000 })]);
      // a by-value template is transient: it never appears in the machineTemplates collection
      const templates = ok(await c.get(cep.machineTemplates.href), 200).doc;
      expect(items(templates).filter((t: Doc) => t.machineConfig?.cpu === 3)).toEqual([]);
      // $expand of every reference does not leak secrets either
      expectNoSecrets(ok(await c.get(cr.headers.location, { $expand: '*' }), 200).text);

      const del = await c.delete(op(m.doc, 'delete'));
      await c.waitJob(ok(del, 200, 202).headers['cimi-job-uri']);
    });

    it('a credential by value inside a MachineCreate and inside a stored MachineTemplate is never echoed', async () => {
      const c = env().client(format);
      const cep = await c.cep();
      const cfg = items(ok(await c.get(cep.machineConfigs.href, { $filter: "name='small'" }), 200).doc)[0];

      // MachineCredentialByValue in a create
      const cr = ok(
        await c.post(cep.machines.href, 'MachineCreate', {
          name: `inline-cred-${format}`,
          machineTemplate: { machineConfig: { href: cfg.id }, credential: { userName: 'admin', password: PASSWORD } },
        }),
        201,
        202,
      );
      expectNoSecrets(cr.text);
      await c.waitJob(cr.headers['cimi-job-uri']);
      expectNoSecrets(ok(await c.get(cr.headers.location, { $expand: '*' }), 200).text);

      // a MachineTemplate resource holding a credential by value
      const t = ok(
        await c.post(cep.machineTemplates.href, 'MachineTemplate', {
          name: `tpl-cred-${format}`,
          machineConfig: { href: cfg.id },
          credential: { userName: 'svc', password: PASSWORD, key: KEY },
        }),
        201,
      );
      expectNoSecrets(t.text);
      expectNoSecrets(ok(await c.get(t.headers.location), 200).text);
      expectNoSecrets(ok(await c.get(cep.machineTemplates.href), 200).text);
      // a CredentialTemplate resource
      const ct = ok(await c.post(cep.credentialTemplates.href, 'CredentialTemplate', { name: `ct-${format}`, userName: 'u', password: PASSWORD }), 201);
      expectNoSecrets(ct.text);
      const ctGet = ok(await c.get(ct.headers.location), 200);
      expectNoSecrets(ctGet.text);
      expect(ctGet.doc.userName).toBe('u');
      // a full PUT cannot echo a secret it never saw: absent keeps it, given replaces it
      ok(await c.put(op(ctGet.doc, 'edit'), 'CredentialTemplate', { ...ctGet.doc, userName: 'u2' }), 200);
      const stored = async () => (await env().h.get(ResourceService).get(await admin(), 'CredentialTemplate', ct.headers.location.split('/').pop()!)).attrs;
      expect(await stored()).toMatchObject({ userName: 'u2', password: PASSWORD });
      const put2 = ok(await c.put(op(ctGet.doc, 'edit'), 'CredentialTemplate', { ...ctGet.doc, userName: 'u3', password: 'rotated-pw-1' }), 200);
      expect(put2.text).not.toContain('rotated-pw-1');
      expect(await stored()).toMatchObject({ userName: 'u3', password: 'rotated-pw-1' });
      // and a Machine made from that template by reference still works
      const m2 = ok(await c.post(cep.machines.href, 'MachineCreate', { name: `from-tpl-${format}`, machineTemplate: { href: t.headers.location } }), 201, 202);
      expect((await c.waitJob(m2.headers['cimi-job-uri'])).state).toBe('SUCCESS');
      expectNoSecrets(ok(await c.get(m2.headers.location), 200).text);
    });

    it('by-value gates: an unknown attribute inside a by-value config is 400 and creates nothing', async () => {
      const c = env().client(format);
      const cep = await c.cep();
      const before = ok(await c.get(cep.machines.href), 200).doc.count;
      const r = await c.request('POST', cep.machines.href, {
        body:
          format === 'json'
            ? JSON.stringify({ machineTemplate: { machineConfig: { cpu: 1, memory: 1024, gpu: 4 } } })
            : `<MachineCreate xmlns="http://schemas.dmtf.org/cimi/1"><machineTemplate><machineConfig><cpu>1</cpu><memory>1024</memory><gpu>4</gpu></machineConfig></machineTemplate></MachineCreate>`,
      });
      expect(r.status).toBe(400);
      expect(r.doc.state).toBe('FAILED');
      expect(ok(await c.get(cep.machines.href), 200).doc.count).toBe(before);
    });
  });
});
