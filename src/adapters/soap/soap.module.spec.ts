import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PORT_11, PORT_12, SoapContract, WSDL_DIR, WSDL_FILE } from './soap-contract';
import { loadWsdlWithNodeSoap } from './soap.module';

/** Startup fails loudly when node-soap cannot load the WSDL, and node-soap reads the operations the edge serves. */
describe('loadWsdlWithNodeSoap', () => {
  const wsdl = readFileSync(join(WSDL_DIR, WSDL_FILE), 'utf8');

  it('reads both ports of the committed WSDL and its imported XSD with the operations of the contract', async () => {
    const ports = await loadWsdlWithNodeSoap(wsdl, join(WSDL_DIR, WSDL_FILE));
    const ours = [...new SoapContract().operations.keys()].sort();
    expect(ours.length).toBeGreaterThan(100);
    for (const p of [PORT_11, PORT_12]) expect(Object.keys(ports[p]).sort()).toEqual(ours);
  });

  it('rejects when an import cannot be loaded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsdl-broken-'));
    try {
      writeFileSync(join(dir, WSDL_FILE), wsdl);
      // no types XSD next to it
      await expect(loadWsdlWithNodeSoap(wsdl, join(dir, WSDL_FILE))).rejects.toThrow(/did not load/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
