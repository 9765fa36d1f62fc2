import express, { type Request, type Response } from 'express';
import type { AddressInfo } from 'node:net';
import { guardAnswer, markAnswered } from './soap-edge';

/** The backstop against node-soap's own answers (soap.md V7, V11-V13): only our handler's answer goes out. */
describe('guardAnswer', () => {
  async function serve(handler: (req: Request, res: Response) => void) {
    const app = express();
    app.post('/x', (req, res, next) => {
      guardAnswer(req, res, () => res.status(500).type('text/xml').end('<ours/>'));
      next();
    });
    app.post('/x', handler);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const r = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`, { method: 'POST' });
      return { status: r.status, body: await r.text() };
    } finally {
      server.close();
    }
  }

  it('replaces whatever is written when the operation handler did not run', async () => {
    const r = await serve((_req, res) => {
      res.statusCode = 500;
      res.write("Cannot read properties of undefined (reading 'description')");
      res.end();
    });
    expect(r).toEqual({ status: 500, body: '<ours/>' });
  });

  it('lets the handler-produced answer through unchanged, written or ended in pieces', async () => {
    const r = await serve((req, res) => {
      markAnswered(req);
      res.statusCode = 200;
      res.write('<a>');
      res.end('</a>');
    });
    expect(r).toEqual({ status: 200, body: '<a></a>' });
  });
});
