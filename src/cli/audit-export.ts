import 'reflect-metadata';
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/env.schema';
import { and, type FilterExpr } from '../model/shared/query';
import { openDatabase } from '../persistence/typeorm/data-source';
import { TypeormAuditLog } from '../persistence/typeorm/typeorm-audit-log';

const USAGE = `usage: audit-export [--since <ISO time>] [--until <ISO time>] [--tenant <name>] [--out <file> [--purge]]
Writes the CADF audit trail (one JSON record per line, oldest first) of the gateway's database (DATABASE_URL or
SQLITE_PATH, as the gateway reads them) to stdout or --out. With --purge, the exported records are deleted once
the file is written and flushed to disk (archive, then purge: AUDIT_RETENTION_DAYS deletes without archiving).`;

const PAGE = 500;

/** Exports the audit trail as JSON Lines (issue 6 §3). Reads the database the gateway is configured with. */
async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, options: { since: { type: 'string' }, until: { type: 'string' }, tenant: { type: 'string' }, out: { type: 'string' }, purge: { type: 'boolean' }, help: { type: 'boolean' } } }).values;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 64; // EX_USAGE
  }
  if (args.help) return void process.stdout.write(`${USAGE}\n`), 0;
  const time = (v: string | undefined, name: string) => {
    if (v === undefined) return undefined;
    const d = new Date(v);
    if (Number.isNaN(d.getTime())) throw new ConfigError(`--${name} ${v} is not a date`);
    return d;
  };
  if (args.purge && !args.out) {
    process.stderr.write(`--purge needs --out: records are deleted only once a file holds them\n${USAGE}\n`);
    return 64;
  }
  const since = time(args.since, 'since');
  // a fixed upper bound, so that records written during the export cannot shift its pages
  const until = time(args.until, 'until') ?? new Date();
  const cfg = loadConfig();
  const ds = await openDatabase({ databaseUrl: cfg.DATABASE_URL, sqlitePath: cfg.SQLITE_PATH });
  const file = args.out ? createWriteStream(args.out, { flags: 'w', mode: 0o600 }) : undefined;
  const out: NodeJS.WritableStream = file ?? process.stdout;
  const exported: string[] = [];
  let closed = false;
  try {
    const log = new TypeormAuditLog(ds);
    const filter: FilterExpr | undefined = and(
      since && { kind: 'cmp', attr: 'eventTime', op: '>=', value: since },
      { kind: 'cmp', attr: 'eventTime', op: '<=', value: until },
      args.tenant !== undefined ? { kind: 'cmp', attr: 'tenant', op: '=', value: args.tenant } : undefined,
    );
    let n = 0;
    for (let first = 1; ; first += PAGE) {
      const page = await log.list({ filter, orderBy: [{ attr: 'eventTime', desc: false }], first, last: first + PAGE - 1 });
      for (const e of page.items) {
        if (args.purge) exported.push(e.id);
        if (!out.write(`${JSON.stringify(e)}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
      n += page.items.length;
      if (page.items.length < PAGE) break;
    }
    process.stderr.write(`audit-export: ${n} records\n`);
    if (file && args.purge) {
      // durable first: an fsync'd archive, then the delete (a crash in between leaves duplicates, never a gap)
      await new Promise<void>((resolve, reject) => file.once('error', reject).end(() => resolve()));
      closed = true;
      const fh = await open(args.out!, 'r');
      await fh.sync().finally(() => fh.close());
      let purged = 0;
      for (let i = 0; i < exported.length; i += PAGE) purged += await log.remove(exported.slice(i, i + PAGE));
      process.stderr.write(`audit-export: ${purged} records purged\n`);
    }
    return 0;
  } finally {
    if (file && !closed) await new Promise<void>((r) => file.end(() => r()));
    await ds.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`audit-export: ${e instanceof ConfigError ? e.message : ((e as Error).stack ?? e)}\n`);
    process.exit(e instanceof ConfigError ? 78 : 1);
  },
);
