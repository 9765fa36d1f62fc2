import 'reflect-metadata';
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/env.schema';
import { and, type FilterExpr } from '../model/shared/query';
import { openDatabase } from '../persistence/typeorm/data-source';
import { TypeormAuditLog } from '../persistence/typeorm/typeorm-audit-log';

const USAGE = `usage: audit-export [--since <ISO time>] [--until <ISO time>] [--tenant <name>] [--out <file>]
Writes the CADF audit trail (one JSON record per line, oldest first) of the gateway's database (DATABASE_URL or
SQLITE_PATH, as the gateway reads them) to stdout or --out.`;

const PAGE = 500;

/** Exports the audit trail as JSON Lines (issue 6 §3). Reads the database the gateway is configured with. */
async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, options: { since: { type: 'string' }, until: { type: 'string' }, tenant: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' } } }).values;
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
  const since = time(args.since, 'since');
  // a fixed upper bound, so that records written during the export cannot shift its pages
  const until = time(args.until, 'until') ?? new Date();
  const cfg = loadConfig();
  const ds = await openDatabase({ databaseUrl: cfg.DATABASE_URL, sqlitePath: cfg.SQLITE_PATH });
  const out: NodeJS.WritableStream = args.out ? createWriteStream(args.out, { flags: 'w', mode: 0o600 }) : process.stdout;
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
      for (const e of page.items) if (!out.write(`${JSON.stringify(e)}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
      n += page.items.length;
      if (page.items.length < PAGE) break;
    }
    process.stderr.write(`audit-export: ${n} records\n`);
    return 0;
  } finally {
    if (out !== process.stdout) await new Promise<void>((r) => out.end(() => r()));
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
