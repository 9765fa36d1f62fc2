import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postToSubscriber, ANSWER_CAP } from './subscriber-post';

describe('postToSubscriber', () => {
  let server: Server;
  let port: number;
  const seen: { headers: Record<string, unknown>; body: string }[] = [];
  let answer = 'ok';

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        res.writeHead(req.url === '/redirect' ? 302 : 202, { Location: 'http://169.254.169.254/' }).end(answer);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => (seen.length = 0));

  it('posts the body with its headers and reads the status and answer under allow', async () => {
    answer = 'ack';
    const r = await postToSubscriber(`http://127.0.0.1:${port}/events`, { 'Content-Type': 'application/json', 'webhook-id': 'x1' }, '{"a":1}', 'allow');
    expect(r).toEqual({ status: 202, text: 'ack' });
    expect(seen[0]).toMatchObject({ body: '{"a":1}', headers: { 'webhook-id': 'x1', 'content-type': 'application/json' } });
  });

  it('does not follow a redirect', async () => {
    const r = await postToSubscriber(`http://127.0.0.1:${port}/redirect`, {}, 'x', 'allow');
    expect(r.status).toBe(302);
    expect(seen).toHaveLength(1);
  });

  it('reads an answer only up to the cap', async () => {
    answer = 'y'.repeat(ANSWER_CAP * 3);
    const r = await postToSubscriber(`http://127.0.0.1:${port}/big`, {}, 'x', 'allow');
    expect(r.text.length).toBe(ANSWER_CAP);
  });

  it('under refuse connects to no loopback address, literal or by name (checked at connect: DNS rebinding)', async () => {
    await expect(postToSubscriber(`http://127.0.0.1:${port}/events`, {}, 'x', 'refuse')).rejects.toThrow(/private or link-local/);
    await expect(postToSubscriber(`http://[::1]:${port}/events`, {}, 'x', 'refuse')).rejects.toThrow(/private or link-local/);
    // a name: resolved when the connection is made, and refused then
    await expect(postToSubscriber(`http://localhost:${port}/events`, {}, 'x', 'refuse')).rejects.toThrow(/localhost resolves to .*private or link-local/);
    expect(seen).toHaveLength(0);
  });
});
