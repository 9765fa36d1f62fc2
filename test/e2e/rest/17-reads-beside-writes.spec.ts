import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../../../src/persistence/typeorm/data-source';
import { Sql } from '../../../src/persistence/typeorm/sql';
import { inTransaction } from '../../../src/persistence/typeorm/typeorm-unit-of-work';
import { ENGINES } from '../../support/databases';
import { newMachine, ok, useRestApp } from '../../support/cimi-client';
import { getMachine, payload, props } from '../../support/wsman-client';

/**
 * Issue 13 §4: a read does not wait behind a write. While a write transaction is held open across an await (here by
 * the test, through the same unit-of-work API the doors use), a CIMI GET of a machine, a filtered page of the
 * collection and a WS-Man Get answer at once with the committed state; once the transaction commits, the next GET
 * answers the new one. On SQLite this is the read-only WAL connection; on PostgreSQL the pool (READ COMMITTED).
 */
describe.each(ENGINES)('reads beside an open write transaction [%s]', (engine) => {
  const env = useRestApp(engine);

  /** a transaction that renames the machine, then stays open until released */
  function holdRename(ds: DataSource, id: string, name: string) {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let wrote!: () => void;
    const written = new Promise<void>((r) => (wrote = r));
    let ended = false;
    const done = inTransaction(ds, async (m) => {
      expect(await new Sql(m).exec('UPDATE resource SET name = :name WHERE id = :id', { name, id })).toBe(1);
      wrote();
      await gate;
    }).finally(() => (ended = true));
    return { written, release, done, ended: () => ended };
  }

  /** the reads must not need the writer: if they queue behind it they never answer, since it waits for them */
  function withoutWaiting<T>(p: Promise<T>): Promise<T> {
    let timer!: NodeJS.Timeout;
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the reads waited for the open write transaction')), 15000);
    });
    return Promise.race([p, stuck]).finally(() => clearTimeout(timer));
  }

  it('GET (CIMI and WS-Man) answers the committed machine during the transaction, and its commit right after', async () => {
    const c = env().client('json');
    const href = await newMachine(c, `hol-before-${engine}`);
    const id = new URL(href).pathname.split('/').pop()!;
    const port = Number(new URL(env().origin).port);
    const machines = (await c.cep()).machines.href;
    const ds = env().h.app.get<DataSource>(DATA_SOURCE as never);

    const w = holdRename(ds, id, `hol-after-${engine}`);
    await w.written;
    try {
      const [rest, page, ws] = await withoutWaiting(
        Promise.all([c.get(href), c.get(machines, { $filter: `name='hol-before-${engine}'` }), getMachine(port, id)]),
      );
      // answered while the writer was still open, and without its uncommitted rename
      expect(w.ended()).toBe(false);
      expect(ok(rest, 200).doc.name).toBe(`hol-before-${engine}`);
      expect(ok(page, 200).doc.count).toBe(1);
      expect(ws.status).toBe(200);
      expect(props(payload(ws)).ElementName).toBe(`hol-before-${engine}`);
    } finally {
      w.release();
    }
    await w.done;
    // read-after-write: the first read after the commit sees it (a fresh WAL snapshot per statement)
    expect(ok(await c.get(href), 200).doc.name).toBe(`hol-after-${engine}`);
    expect(props(payload(await getMachine(port, id))).ElementName).toBe(`hol-after-${engine}`);
  });
});
