import express from 'express';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICE_NAME, PORT_11, WSDL_DIR, WSDL_FILE } from './soap-contract';
import { listenNodeSoap } from './soap.module';

/** Startup fails loudly when node-soap cannot load the WSDL (it would otherwise serve a broken route, soap.md V17). */
describe('listenNodeSoap', () => {
  const wsdl = readFileSync(join(WSDL_DIR, WSDL_FILE), 'utf8');

  it('resolves once node-soap has loaded the committed WSDL and its imported XSD', async () => {
    await expect(listenNodeSoap(express(), { path: '/soap', services: { [SERVICE_NAME]: { [PORT_11]: {} } }, xml: wsdl, uri: join(WSDL_DIR, WSDL_FILE), soap12: false })).resolves.toBeUndefined();
  });

  it('rejects when an import cannot be loaded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsdl-broken-'));
    try {
      writeFileSync(join(dir, WSDL_FILE), wsdl);
      // no types XSD next to it
      await expect(listenNodeSoap(express(), { path: '/soap', services: {}, xml: wsdl, uri: join(dir, WSDL_FILE), soap12: false })).rejects.toThrow(/did not load/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
