import { connect } from 'node:net';
import * as http from 'node:http';
import { ENGINES } from '../../support/databases';
import { CIMI_NS, curl, ok, useRestApp } from '../../support/cimi-client';

/** Writes raw bytes on a fresh connection and reads everything the server sends until it closes. */
function raw(origin: string, request: string): Promise<string> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    s.on('data', (c) => chunks.push(c));
    s.on('error', (e) => (chunks.length ? resolve(Buffer.concat(chunks).toString('latin1')) : reject(e)));
    s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    s.setTimeout(10000, () => s.destroy(new Error('no answer within 10 s')));
    s.write(request);
  });
}

function parse(answer: string): { status: number; headers: Record<string, string>; body: string } {
  const [head, ...rest] = answer.split('\r\n\r\n');
  const [line, ...fields] = head.split('\r\n');
  const headers = Object.fromEntries(fields.map((f) => [f.slice(0, f.indexOf(':')).toLowerCase(), f.slice(f.indexOf(':') + 1).trim()]));
  return { status: Number(line.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

/**
 * A request line over Node's header limit (http.maxHeaderSize) is 414 URI Too Long with the CIMI error body
 * (cimi-error.filter.ts onClientError), not a closed connection or 431; oversized headers stay 431.
 */
describe.each(ENGINES)('REST URI too long [%s]', (engine) => {
  const env = useRestApp(engine);
  const longFilter = `name='${'x'.repeat(http.maxHeaderSize + 100)}'`;

  it('raw socket: a $filter longer than the header limit is 414 with a CIMI error Job, and the connection closes', async () => {
    const answer = await raw(env().origin, `GET /cimi/machines?$filter=${encodeURIComponent(longFilter)} HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n`);
    const r = parse(answer);
    expect(r.status).toBe(414);
    expect(r.headers.connection).toBe('close');
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.body));
    const doc = JSON.parse(r.body) as Record<string, unknown>;
    expect(doc).toMatchObject({ resourceURI: `${CIMI_NS}/Job`, id: '', state: 'FAILED', returnCode: 414, statusMessage: expect.stringMatching(/^REST\.URI_TOO_LONG: /) });
    expect((doc.targetResource as { href: string }).href).toMatch(/\/cimi\/machines$/);
    // far over the limit (several reads of the socket): still the 414, read before the connection closes
    const huge = parse(await raw(env().origin, `GET /cimi/machines?$filter=${'a'.repeat(256 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`));
    expect({ status: huge.status, returnCode: (JSON.parse(huge.body) as { returnCode: number }).returnCode }).toEqual({ status: 414, returnCode: 414 });
  });

  it('curl: the same answer through an independent client; the server still serves the next request', async () => {
    const url = `${env().origin}/cimi/machines?$filter=${encodeURIComponent(longFilter)}`;
    const r = await curl('GET', url);
    expect(r.status).toBe(414);
    expect(r.doc).toMatchObject({ state: 'FAILED', returnCode: 414 });
    ok(await env().client('json').get(`${env().origin}/cimi/cloudEntryPoint`), 200);
  });

  it('big headers (short request line) are still 431; a long path outside /cimi is 414 without a body', async () => {
    const big = parse(await raw(env().origin, `GET /cimi/cloudEntryPoint HTTP/1.1\r\nHost: x\r\nX-Big: ${'y'.repeat(http.maxHeaderSize + 100)}\r\n\r\n`));
    expect(big.status).toBe(431);
    const other = parse(await raw(env().origin, `GET /wsman/${'z'.repeat(http.maxHeaderSize + 100)} HTTP/1.1\r\nHost: x\r\n\r\n`));
    expect({ status: other.status, body: other.body }).toEqual({ status: 414, body: '' });
  });
});
