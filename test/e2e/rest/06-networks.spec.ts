import { ENGINES } from '../../support/databases';
import { FORMATS, items, ok, op, rels, useRestApp, type Doc } from '../../support/cimi-client';

/**
 * Plug-fest scenario 6 (1.x network model, docs/cimi.md §2.4): a Network, a NetworkPort on it, an Address, and a
 * ForwardingGroup joining two Networks; start/stop of a Network; a Network with ports cannot be deleted.
 */
describe.each(ENGINES)('REST networks [%s]', (engine) => {
  const env = useRestApp(engine);

  describe.each(FORMATS)('%s', (format) => {
    it('Network → NetworkPort → Address → ForwardingGroup of two Networks', async () => {
      const c = env().client(format);
      const cep = await c.cep();
      const nets = ok(await c.get(cep.networks.href), 200).doc;
      const before = nets.count;

      // a Network from a template by value with its configuration by value
      const nr = ok(
        await c.post(op(nets, 'add'), 'NetworkCreate', {
          name: `net-a-${format}`,
          networkTemplate: { initialState: 'STARTED', networkConfig: { networkType: 'PRIVATE', mtu: 1500, classOfService: 'gold' } },
        }),
        201,
        202,
      );
      const netA = nr.headers.location;
      expect((await c.waitJob(nr.headers['cimi-job-uri'])).state).toBe('SUCCESS');
      let a = ok(await c.get(netA), 200).doc;
      expect(a).toMatchObject({ name: `net-a-${format}`, state: 'STARTED', networkType: 'PRIVATE', mtu: 1500, classOfService: 'gold' });

      // a second Network from a stored NetworkConfiguration (by reference), default initial state
      const cfgs = ok(await c.get(cep.networkConfigs.href), 200).doc;
      const cfg = ok(await c.post(op(cfgs, 'add'), 'NetworkConfiguration', { name: `pub-${format}`, networkType: 'PUBLIC', mtu: 9000 }), 201);
      const nr2 = ok(await c.post(cep.networks.href, 'NetworkCreate', { name: `net-b-${format}`, networkTemplate: { networkConfig: { href: cfg.headers.location } } }), 201, 202);
      const netB = nr2.headers.location;
      await c.waitJob(nr2.headers['cimi-job-uri']);
      const b = ok(await c.get(netB), 200).doc;
      expect(b).toMatchObject({ state: 'STOPPED', networkType: 'PUBLIC', mtu: 9000 });
      expect(ok(await c.get(cep.networks.href), 200).doc.count).toBe(before + 2);

      // stop / start through the operations
      expect(rels(a)).toContain('stop');
      const stop = ok(await c.action(op(a, 'stop'), 'stop'), 202);
      await c.waitJob(stop.headers['cimi-job-uri']);
      a = ok(await c.get(netA), 200).doc;
      expect(a.state).toBe('STOPPED');
      const start = ok(await c.action(op(a, 'start'), 'start'), 202);
      await c.waitJob(start.headers['cimi-job-uri']);
      expect(ok(await c.get(netA), 200).doc.state).toBe('STARTED');

      // a NetworkPort on Network A
      const ports = ok(await c.get(cep.networkPorts.href), 200).doc;
      const pr = ok(
        await c.post(op(ports, 'add'), 'NetworkPortCreate', {
          name: `port-${format}`,
          networkPortTemplate: { network: { href: netA }, networkPortConfig: { portType: 'ACCESS', classOfService: 'gold' } },
        }),
        201,
        202,
      );
      const portHref = pr.headers.location;
      expect((await c.waitJob(pr.headers['cimi-job-uri'])).state).toBe('SUCCESS');
      const port = ok(await c.get(portHref), 200).doc;
      expect(port.network.href).toBe(netA);
      expect(port.portType).toBe('ACCESS');
      expect(['STARTED', 'STOPPED']).toContain(port.state);
      // the port is found by filtering the collection on its name
      expect(ok(await c.get(cep.networkPorts.href, { $filter: `name='port-${format}'` }), 200).doc.count).toBe(1);

      // an Address on Network A
      const addrs = ok(await c.get(cep.addresses.href), 200).doc;
      const ar = ok(
        await c.post(op(addrs, 'add'), 'AddressCreate', {
          name: `addr-${format}`,
          addressTemplate: { ip: '10.1.2.3', hostname: 'web.example.org', allocation: 'static', defaultGateway: '10.1.2.1', dns: ['10.0.0.53', '10.0.1.53'], protocol: 'IPv4', mask: '255.255.255.0', network: { href: netA } },
        }),
        201,
        202,
      );
      const addr = ok(await c.get(ar.headers.location), 200).doc;
      expect(addr).toMatchObject({ ip: '10.1.2.3', hostname: 'web.example.org', allocation: 'static', defaultGateway: '10.1.2.1', protocol: 'IPv4', mask: '255.255.255.0' });
      expect(addr.dns).toEqual(['10.0.0.53', '10.0.1.53']);
      expect(addr.network.href).toBe(netA);
      // $expand inlines the Network
      const exp = ok(await c.get(ar.headers.location, { $expand: 'network' }), 200).doc;
      expect(exp.network.name).toBe(`net-a-${format}`);

      // a ForwardingGroup joining both Networks
      const fgs = ok(await c.get(cep.forwardingGroups.href), 200).doc;
      const fr = ok(
        await c.post(op(fgs, 'add'), 'ForwardingGroupCreate', { name: `fg-${format}`, forwardingGroupTemplate: { networks: [{ href: netA }, { href: netB }] } }),
        201,
        202,
      );
      const fg = ok(await c.get(fr.headers.location), 200).doc;
      expect(fg.networks.map((n: Doc) => n.href).sort()).toEqual([netA, netB].sort());
      expect(items(ok(await c.get(cep.forwardingGroups.href), 200).doc).map((x) => x.id)).toContain(fr.headers.location);

      // a Network with ports cannot be deleted: 409, nothing changes
      const busy = await c.delete(op(ok(await c.get(netA), 200).doc, 'delete'));
      expect(busy.status).toBe(409);
      expect(ok(await c.get(netA), 200).doc.state).toBe('STARTED');
      // delete the port, then the network
      const pd = ok(await c.delete(op(port, 'delete')), 200, 202);
      await c.waitJob(pd.headers['cimi-job-uri']);
      await c.waitGone(portHref);
      const nd = ok(await c.delete(op(ok(await c.get(netA), 200).doc, 'delete')), 200, 202);
      expect((await c.waitJob(nd.headers['cimi-job-uri'])).state).toBe('SUCCESS');
      await c.waitGone(netA);
    });
  });
});
