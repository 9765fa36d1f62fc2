import { ModelError } from '../../model/shared/model-error';
import { packageOfSource, readUstar, writeOva } from './ovf-package';

const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as ModelError).code;
  }
  return 'no error';
};

describe('OVA ustar reader', () => {
  it('reads back what the gateway writes: the descriptor first, then the manifest', () => {
    const entries = readUstar(writeOva('x', '<Envelope/>'));
    expect(entries.map((e) => e.name)).toEqual(['x.ovf', 'x.mf']);
    expect(entries[0].data.toString()).toBe('<Envelope/>');
  });
  it('refuses a cut archive and one without end blocks', () => {
    const ova = writeOva('x', '<Envelope/>');
    expect(codeOf(() => readUstar(ova.subarray(0, 700)))).toBe('OVF.BAD_TAR');
    expect(codeOf(() => readUstar(ova.subarray(0, 2048)))).toBe('OVF.BAD_TAR');
  });
  it('takes only data: sources', () => {
    expect(packageOfSource('data:,%3CEnvelope%2F%3E', 'source', 1024).toString()).toBe('<Envelope/>');
    expect(codeOf(() => packageOfSource('file:///etc/passwd', 'source', 1024))).toBe('OVF.SOURCE_UNSUPPORTED');
    expect(codeOf(() => packageOfSource(`data:;base64,${'A'.repeat(4096)}`, 'source', 1024))).toBe('OVF.TOO_LARGE');
  });
});
