import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type AppConfig } from '../config/env.schema';
import { AuditScope } from '../model/audit/audit-scope';
import { AUDIT_OPTIONS, AuditService } from '../model/audit/audit.service';
import { CertificateService } from '../model/identity/certificate.service';
import { IdentityService } from '../model/identity/identity.service';
import { QUOTA_METRIC_NAMES } from '../model/quota/quota';
import { QuotaService, type QuotaChange, type QuotaReport } from '../model/quota/quota.service';
import { KEYRING } from '../model/identity/keyring';
import { intentOf } from '../model/operations';
import { CLOCK, systemClock } from '../model/shared/clock';
import { ModelError } from '../model/shared/model-error';
import type { OperationContext, Role } from '../model/shared/operation-context';
import type { ClientCertificateRecord, TenantRecord, UserRecord } from '../model/shared/ports';
import { loadKeyring } from '../ops/secret-key';
import { PersistenceModule } from '../persistence/persistence.module';

const USAGE = `usage: cimi-gateway-admin <command> [--json]
  tenant create <name> | list | disable <name> | enable <name> | delete <name>
  user create <name> --tenant <t> --roles <r,…> [--password-stdin] | list [--tenant <t>]
  user set-roles <name> --roles <r,…> | set-password <name> [--password-stdin] | reset-password <name>
  user disable <name> | enable <name> | delete <name>
  cert register <user> [--file <pem>] (else PEM on stdin) | list [--user <name>] | revoke <id>
  quota show <tenant> | set <tenant> <metric>=<max|none> …   (metrics: ${QUOTA_METRIC_NAMES.join(', ')})
Works on the gateway's database (DATABASE_URL or SQLITE_PATH, as the gateway reads them). Passwords are read
from stdin (--password-stdin) or a prompt, never from the command line. Exit: 0 ok, 1 refused, 2 usage error.`;

class UsageError extends Error {}

/** The model services the admin commands run, without HTTP, doors, job engine or provider (issue 16 §2). */
@Module({})
class AdminCliModule {
  static forRoot(cfg: AppConfig): DynamicModule {
    return {
      module: AdminCliModule,
      imports: [PersistenceModule.forRoot({ databaseUrl: cfg.DATABASE_URL, sqlitePath: cfg.SQLITE_PATH })],
      providers: [
        IdentityService,
        CertificateService,
        QuotaService,
        AuditService,
        { provide: AUDIT_OPTIONS, useValue: { flushMs: 0, bufferMax: 10000, policy: cfg.auditPolicy } },
        { provide: CLOCK, useValue: systemClock },
        // the gateway's key: passwords set here must be sealed so that the digest schemes can open them
        { provide: KEYRING, useValue: loadKeyring(cfg) },
      ],
    };
  }
}

type Values = { json?: boolean; tenant?: string; roles?: string; user?: string; file?: string; 'password-stdin'?: boolean; help?: boolean };
type Row = Record<string, unknown>;
interface Result {
  rows?: Row[];
  row?: Row;
  message?: string;
}
/** one command: its catalogue operation (the audit verb and target type), its target, and the model call */
interface Command {
  op: string;
  target: string;
  run(ctx: OperationContext): Promise<Result>;
}

const tenantRow = (t: TenantRecord): Row => ({ name: t.name, id: t.id, disabled: Boolean(t.disabled), created: t.created.toISOString() });
const userRow = (u: UserRecord): Row => ({ userName: u.userName, tenant: u.tenantId, roles: u.roles.join(','), disabled: Boolean(u.disabled), created: u.created.toISOString() });
const quotaRows = (q: QuotaReport): Row[] => q.metrics.map((l) => ({ tenant: q.tenant, metric: l.metric, limit: l.limit ?? 'none', used: l.used }));

/** `machines=5 cpu=none`: a limit per metric, `none` removing it (the model checks metric names and values) */
function quotaChange(args: string[]): QuotaChange {
  if (!args.length) throw new UsageError('name at least one <metric>=<max|none>');
  const change: QuotaChange = {};
  for (const a of args) {
    const m = /^([A-Za-z]+)=(none|\d+)$/.exec(a);
    if (!m) throw new UsageError(`not <metric>=<max|none>: ${a}`);
    change[m[1]] = m[2] === 'none' ? null : Number(m[2]);
  }
  return change;
}
const certRow = (c: ClientCertificateRecord): Row => ({ id: c.id, userName: c.userName, subject: c.subject, fingerprint: c.fingerprint, notAfter: c.notAfter.toISOString() });

function one(pos: string[], what: string): string {
  if (pos.length !== 1) throw new UsageError(`expected one ${what}`);
  return pos[0];
}

function roles(v: Values): Role[] {
  if (!v.roles) throw new UsageError('--roles is required (admin, user, reader; comma-separated)');
  return v.roles.split(',').map((r) => r.trim()) as Role[];
}

/** the password from stdin (--password-stdin) or a prompt that does not echo; never from argv */
async function password(v: Values): Promise<string> {
  if (v['password-stdin']) return readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  if (!process.stdin.isTTY) throw new UsageError('no terminal to prompt for the password: use --password-stdin');
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const ask = (q: string) =>
    new Promise<string>((resolve) => {
      process.stderr.write(q);
      (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
      rl.question('', (a) => (process.stderr.write('\n'), resolve(a)));
    });
  try {
    const a = await ask('Password: ');
    if ((await ask('Again: ')) !== a) throw new UsageError('the passwords differ');
    return a;
  } finally {
    rl.close();
  }
}

interface Services {
  identity: IdentityService;
  certs: CertificateService;
  quotas: QuotaService;
}

function command(noun: string | undefined, verb: string | undefined, pos: string[], v: Values, { identity, certs, quotas }: Services): Command {
  const key = `${noun ?? ''} ${verb ?? ''}`;
  switch (key) {
    case 'tenant create': {
      const name = one(pos, 'tenant name');
      return { op: 'Tenant.create', target: name, run: async (ctx) => ({ row: tenantRow(await identity.createTenant(ctx, name)) }) };
    }
    case 'tenant list':
      return { op: 'Tenant.list', target: '', run: async (ctx) => ({ rows: (await identity.listTenants(ctx)).map(tenantRow) }) };
    case 'tenant disable':
    case 'tenant enable': {
      const name = one(pos, 'tenant name');
      return { op: `Tenant.${verb}`, target: name, run: async (ctx) => ({ row: tenantRow(await identity.setTenantDisabled(ctx, name, verb === 'disable')) }) };
    }
    case 'tenant delete': {
      const name = one(pos, 'tenant name');
      return { op: 'Tenant.delete', target: name, run: async (ctx) => (await identity.deleteTenant(ctx, name), { message: `tenant ${name} deleted` }) };
    }
    case 'user create': {
      const name = one(pos, 'user name');
      if (!v.tenant) throw new UsageError('--tenant is required');
      const r = roles(v);
      return { op: 'User.create', target: name, run: async (ctx) => ({ row: userRow(await identity.createUser(ctx, { userName: name, password: await password(v), tenant: v.tenant!, roles: r })) }) };
    }
    case 'user list':
      if (pos.length) throw new UsageError('user list takes no arguments');
      return { op: 'User.list', target: '', run: async (ctx) => ({ rows: (await identity.listUsers(ctx)).filter((u) => v.tenant === undefined || u.tenantId === v.tenant).map(userRow) }) };
    case 'user set-roles': {
      const name = one(pos, 'user name');
      const r = roles(v);
      return { op: 'User.setRoles', target: name, run: async (ctx) => ({ row: userRow(await identity.setRoles(ctx, name, r)) }) };
    }
    case 'user set-password': {
      const name = one(pos, 'user name');
      return { op: 'User.setPassword', target: name, run: async (ctx) => (await identity.setPassword(ctx, name, await password(v)), { message: `password of ${name} set` }) };
    }
    case 'user reset-password': {
      const name = one(pos, 'user name');
      // the generated password is shown this once and never stored in clear
      return { op: 'User.resetPassword', target: name, run: async (ctx) => ({ row: { userName: name, password: (await identity.resetPassword(ctx, name)).password } }) };
    }
    case 'user disable':
    case 'user enable': {
      const name = one(pos, 'user name');
      return { op: `User.${verb}`, target: name, run: async (ctx) => ({ row: userRow(await identity.setUserDisabled(ctx, name, verb === 'disable')) }) };
    }
    case 'user delete': {
      const name = one(pos, 'user name');
      return { op: 'User.delete', target: name, run: async (ctx) => (await identity.deleteUser(ctx, name), { message: `user ${name} deleted` }) };
    }
    case 'cert register': {
      const user = one(pos, 'user name');
      return { op: 'Certificate.register', target: user, run: async (ctx) => ({ row: certRow(await certs.registerCertificate(ctx, user, readFileSync(v.file ?? 0, 'utf8'))) }) };
    }
    case 'cert list':
      return { op: 'Certificate.list', target: '', run: async (ctx) => ({ rows: (await certs.listCertificates(ctx, v.user)).map(certRow) }) };
    case 'cert revoke': {
      const id = one(pos, 'certificate id');
      return { op: 'Certificate.remove', target: id, run: async (ctx) => (await certs.removeCertificate(ctx, id), { message: `certificate ${id} revoked` }) };
    }
    case 'quota show': {
      const name = one(pos, 'tenant name');
      return { op: 'Quota.read', target: name, run: async (ctx) => ({ rows: quotaRows(await quotas.get(ctx, name)) }) };
    }
    case 'quota set': {
      const [name, ...limits] = pos;
      if (!name) throw new UsageError('expected a tenant name');
      const change = quotaChange(limits);
      return { op: 'Quota.set', target: name, run: async (ctx) => ({ rows: quotaRows(await quotas.set(ctx, name, change)) }) };
    }
    default:
      throw new UsageError(noun ? `unknown command: ${key.trim()}` : 'no command');
  }
}

function table(rows: Row[]): string {
  if (!rows.length) return '(none)\n';
  const cols = Object.keys(rows[0]);
  const cell = (v: unknown) => String(v ?? '');
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (cells: string[]) => cells.map((s, i) => s.padEnd(width[i])).join('  ').trimEnd() + '\n';
  return line(cols.map((c) => c.toUpperCase())) + rows.map((r) => line(cols.map((c) => cell(r[c])))).join('');
}

function print(res: Result, json: boolean): void {
  if (json) return void process.stdout.write(`${JSON.stringify(res.rows ?? res.row ?? { message: res.message })}\n`);
  if (res.rows) process.stdout.write(table(res.rows));
  else if (res.row) process.stdout.write(table([res.row]));
  else process.stdout.write(`${res.message}\n`);
}

/** Runs one admin command as the OS user at the shell; every command leaves one CADF record (issue 16 §2). */
async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { json: { type: 'boolean' }, tenant: { type: 'string' }, roles: { type: 'string' }, user: { type: 'string' }, file: { type: 'string' }, 'password-stdin': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    process.stderr.write(`cimi-gateway-admin: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const v = parsed.values as Values;
  if (v.help) return void process.stdout.write(`${USAGE}\n`), 0;
  const [noun, verb, ...pos] = parsed.positionals;
  const cfg = loadConfig();
  const app = await NestFactory.createApplicationContext(AdminCliModule.forRoot(cfg), { logger: ['error'] });
  try {
    const identity = app.get(IdentityService);
    const audit = app.get(AuditService);
    let cmd: Command;
    try {
      cmd = command(noun, verb, pos, v, { identity, certs: app.get(CertificateService), quotas: app.get(QuotaService) });
    } catch (e) {
      if (e instanceof UsageError) return void process.stderr.write(`cimi-gateway-admin: ${e.message}\n${USAGE}\n`), 2;
      throw e;
    }
    // the operator is the initiator: the OS account at the shell, through the `cli` door (CADF host.agent)
    const operator = `operator:${userInfo().username}`;
    const scope = new AuditScope('cli', randomUUID());
    scope.user = { userId: operator, userName: operator, tenantId: '' };
    scope.credentialType = 'os-user';
    scope.intent(...intentOf(cmd.op, cmd.target));
    const ctx: OperationContext = { principal: { userId: operator, userName: operator }, tenantId: '', roles: ['admin'], correlationId: scope.correlationId, protocol: 'cli', credentialType: 'os-user', audit: scope };
    try {
      print(await cmd.run(ctx), Boolean(v.json));
      return 0;
    } catch (e) {
      if (e instanceof UsageError) return void process.stderr.write(`cimi-gateway-admin: ${e.message}\n`), 2;
      if (!(e instanceof ModelError)) throw e;
      scope.failed(e.kind, e.code);
      process.stderr.write(`cimi-gateway-admin: ${e.message} (${e.code})\n`);
      return 1;
    } finally {
      audit.closeRequest(scope);
      await audit.flush();
    }
  } finally {
    await app.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`cimi-gateway-admin: ${e instanceof ConfigError ? e.message : ((e as Error).stack ?? e)}\n`);
    process.exit(e instanceof ConfigError ? 2 : 1);
  },
);
