import { Worker } from 'node:worker_threads';

/** what a worker checks: the raw envelope, the trusted key, and the algorithms the verifier allows */
export interface SignatureCheck {
  raw: string;
  pem: string;
  signatureAlgorithms: string[];
  digestAlgorithms: string[];
  canonicalizationAlgorithms: string[];
}

/** checkSignature's answer and, when it is true, the canonical forms of what the references covered */
export interface SignatureVerdict {
  ok: boolean;
  signedReferences: string[];
}

/**
 * The worker's code (CommonJS, evaluated: no compiled file to locate under ts-node, jest or dist, as in
 * wal-checkpointer.ts). The envelope already passed the edge's hardened parse and the verifier's structure checks
 * (exactly one ds:Signature in the document, inside the Security header), so the worker re-reads it with xml-crypto's
 * own parser and runs what costs: reference digests, exclusive c14n and the RSA verification. The key is the one
 * the main thread took from the trust store, never the message's KeyInfo (CVE-2024-32962).
 */
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const { SignedXml } = require(workerData.xmlCrypto);
const { DOMParser } = require(workerData.xmldom);
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const keep = (map, allowed) => { for (const k of Object.keys(map)) if (!allowed.includes(k)) delete map[k]; };
parentPort.on('message', (m) => {
  let ok = false;
  let signedReferences = [];
  try {
    const doc = new DOMParser().parseFromString(m.raw, 'text/xml');
    const found = doc.getElementsByTagNameNS(DS, 'Signature');
    if (found.length === 1) {
      const sig = new SignedXml({ publicCert: m.pem, getCertFromKeyInfo: () => m.pem });
      keep(sig.SignatureAlgorithms, m.signatureAlgorithms);
      keep(sig.HashAlgorithms, m.digestAlgorithms);
      keep(sig.CanonicalizationAlgorithms, m.canonicalizationAlgorithms);
      sig.loadSignature(found.item(0));
      ok = sig.checkSignature(m.raw) === true;
      if (ok) signedReferences = sig.getSignedReferences();
    }
  } catch {
    ok = false;
  }
  parentPort.postMessage({ id: m.id, ok, signedReferences });
});
`;

interface Pending {
  resolve(v: SignatureVerdict): void;
  reject(e: Error): void;
}

/** one thread and the checks it has not answered yet */
class Lane {
  readonly pending = new Map<number, Pending>();
  constructor(readonly worker: Worker) {}
}

/**
 * XML signature verification on worker threads (issue 13 §2: "verified off the event loop"). An RSA verify with
 * its digests and canonicalization takes milliseconds of CPU per message; on the event loop every other request of
 * every door waits for it. Threads start on the first signed message, so a gateway that never sees one never starts
 * them; a thread that dies fails only its own pending checks (as internal errors) and is replaced on the next one.
 */
export class SignatureWorkers {
  private lanes: (Lane | undefined)[];
  private nextId = 1;
  private stopped = false;

  constructor(threads: number) {
    this.lanes = new Array<Lane | undefined>(threads).fill(undefined);
  }

  verify(check: SignatureCheck): Promise<SignatureVerdict> {
    if (this.stopped) return Promise.reject(new Error('signature workers are stopped'));
    const lane = this.leastBusy();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      lane.pending.set(id, { resolve, reject });
      lane.worker.postMessage({ id, ...check });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const lanes = this.lanes.filter((l): l is Lane => !!l);
    this.lanes = this.lanes.map(() => undefined);
    await Promise.all(lanes.map((l) => l.worker.terminate()));
  }

  private leastBusy(): Lane {
    let best = -1;
    for (let i = 0; i < this.lanes.length; i++) {
      const l = this.lanes[i];
      if (!l) return (this.lanes[i] = this.spawn(i));
      if (best < 0 || l.pending.size < this.lanes[best]!.pending.size) best = i;
    }
    return this.lanes[best]!;
  }

  private spawn(slot: number): Lane {
    const worker = new Worker(WORKER_CODE, {
      eval: true,
      workerData: { xmlCrypto: require.resolve('xml-crypto'), xmldom: require.resolve('@xmldom/xmldom') },
    });
    const lane = new Lane(worker);
    // idle threads never keep a process alive; a pending check holds its request open anyway
    worker.unref();
    worker.on('message', (m: { id: number } & SignatureVerdict) => {
      const p = lane.pending.get(m.id);
      if (!p) return;
      lane.pending.delete(m.id);
      p.resolve({ ok: m.ok, signedReferences: m.signedReferences });
    });
    const fail = (why: string) => {
      if (this.lanes[slot] === lane) this.lanes[slot] = undefined;
      for (const p of lane.pending.values()) p.reject(new Error(`signature worker failed: ${why}`));
      lane.pending.clear();
    };
    worker.on('error', (e) => fail(e.message));
    worker.on('exit', (code) => fail(`exited with ${code}`));
    return lane;
  }
}
