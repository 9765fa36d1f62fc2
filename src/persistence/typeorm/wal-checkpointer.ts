import { Worker } from 'node:worker_threads';

/** what `PRAGMA wal_checkpoint` answers: busy (1 if it could not run), WAL frames, frames copied into the database */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

/**
 * The worker's own code (CommonJS, evaluated: no compiled file to locate under ts-node, jest or dist). It opens a
 * read-write connection of its own (a read-only one cannot write the database file) and runs PASSIVE checkpoints,
 * which "do as much work as possible without interfering with other database connections": no lock that a reader or
 * the writer waits for (sqlite.org/c3ref/wal_checkpoint_v2.html). It reports a result only when it changed.
 */
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
let last = '';
const tick = () => {
  try {
    const r = db.pragma('wal_checkpoint(PASSIVE)')[0];
    const s = JSON.stringify(r);
    if (s !== last) parentPort.postMessage({ type: 'checkpoint', result: r });
    last = s;
  } catch (e) {
    parentPort.postMessage({ type: 'error', message: String((e && e.message) || e) });
  }
};
const timer = setInterval(tick, workerData.everyMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
parentPort.postMessage({ type: 'ready' });
`;

type WorkerMessage = { type: 'ready' } | { type: 'checkpoint'; result: CheckpointResult } | { type: 'error'; message: string };

/**
 * Checkpoints a WAL database on a worker thread. better-sqlite3 is synchronous: a checkpoint run by the connection
 * that commits (SQLite's wal_autocheckpoint, by default at the commit that takes the WAL past 1000 pages) stalls the
 * event loop, and every request with it, for the copy and its fsync. On this thread it runs beside request handling.
 */
export class WalCheckpointer {
  /** the latest result that differed from the one before (undefined until the first checkpoint) */
  last?: CheckpointResult;
  private stopped = false;
  /** settles when the thread has ended, for whatever reason (stop() must not wait for an exit that was earlier) */
  private readonly exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    onFailure: (reason: string) => void,
  ) {
    this.exited = new Promise<void>((r) => worker.once('exit', () => r()));
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'checkpoint') this.last = m.result;
      else if (m.type === 'error') onFailure(m.message);
    });
  }

  /** starts the thread; resolves once it has opened the database */
  static start(file: string, everyMs: number, onFailure: (reason: string) => void): Promise<WalCheckpointer> {
    const worker = new Worker(WORKER_CODE, {
      eval: true,
      workerData: { driver: require.resolve('better-sqlite3'), file, everyMs },
    });
    // never what keeps a process alive (a CLI that forgets to close the database still exits)
    worker.unref();
    return new Promise((resolve, reject) => {
      const failed = (e: unknown) => reject(e instanceof Error ? e : new Error(`checkpointer exited with ${String(e)}`));
      worker.once('error', failed);
      worker.once('exit', failed);
      worker.once('message', (m: WorkerMessage) => {
        worker.off('error', failed);
        worker.off('exit', failed);
        if (m.type !== 'ready') return reject(new Error(`checkpointer did not start: ${JSON.stringify(m)}`));
        const c = new WalCheckpointer(worker, onFailure);
        worker.on('error', (e) => onFailure(e.message));
        worker.on('exit', (code) => {
          if (!c.stopped) onFailure(`checkpointer exited with ${code}`);
        });
        resolve(c);
      });
    });
  }

  /** closes the worker's connection and waits for the thread to end */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.worker.postMessage('stop');
    const timer = setTimeout(() => void this.worker.terminate(), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}
