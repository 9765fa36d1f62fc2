#!/usr/bin/env node
/**
 * `cimi`: one CLI for a CIMI endpoint through CIMI REST, SOAP or WS-Management (README "The cimi client").
 * It speaks only the protocols: hrefs and operations from the CEP, operations from the WSDL, the CIM classes.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CliError, EXIT, TERMINAL, type Doc, type JobView, type ProtocolClient, type Result } from './protocol';
import { Progress, jobLine, record, table, toXml, type Format } from './output';
import { RestClient } from './rest';
import { SoapClient } from './soap';
import { WsmanClient } from './wsman';
import { interopMain } from '../interop/runner';

export const HELP = `Usage: cimi [options] <command>

Commands:
  interop --url URL [...]             the conformance checks of every protocol (cimi interop --help)
  cep                                 the entry point (REST CEP, SOAP WSDL collections, WS-Man Identify)
  metadata [collection]               ResourceMetadata (REST), WSDL operations (SOAP), CIM classes (WS-Man)
  <collection> list                   e.g. cimi machine list --filter "state='STARTED'"
  <collection> get <name|id>
  <collection> create --name N [--config C] [--image I] [--template T] [--body JSON]
  <collection> update <name|id> [--name N] [--description D]
  <collection> delete <name|id>
  <collection> <action> <name|id>     e.g. cimi machine start web1 --wait

Options:
  --url URL               the CEP (REST), SOAP endpoint or WS-Man endpoint; an origin alone takes
                          /cimi/cloudEntryPoint, /soap or /wsman                       [env CIMI_URL]
  --user U, --password P  credentials                               [env CIMI_USER, CIMI_PASSWORD]
  --profile FILE          JSON file with url, user, password, protocol, output        [env CIMI_PROFILE]
  --protocol rest|soap|wsman                                           (default rest) [env CIMI_PROTOCOL]
  --output table|json|xml                                                             (default table)
  --filter F              CIMI $filter (SOAP, WS-Man: conditions joined all by and, or all by or)
  --select a,b            $select   --orderby a[:desc],b   --first N   --last N
  --wait                  follow the Job to its end (a progress bar on a terminal, lines otherwise)
  --timeout SECONDS       per request, and for --wait                                 (default 120)
  --soap-auth digest|text|basic   WS-Security UsernameToken PasswordDigest, PasswordText, or HTTP Basic
  --wsman-auth digest|basic       HTTP Digest (RFC 7616, MD5) on the 401 challenge, or preemptive Basic
  -h, --help

Exit codes:
  0  ok
  1  usage: bad arguments, unknown collection, action or operation
  2  not found: no such resource (by name or id)
  3  authentication or authorization refused
  4  the operation was refused or its Job failed (invalid state, bad input, conflict, Job FAILED/STOPPED)
  5  transport or endpoint error: connection refused, timeout, not a CIMI/SOAP/WS-Man answer, server error
`;

const OPTIONS = {
  url: { type: 'string' },
  user: { type: 'string' },
  password: { type: 'string' },
  profile: { type: 'string' },
  protocol: { type: 'string' },
  output: { type: 'string', short: 'o' },
  filter: { type: 'string' },
  select: { type: 'string' },
  orderby: { type: 'string' },
  first: { type: 'string' },
  last: { type: 'string' },
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
  name: { type: 'string' },
  description: { type: 'string' },
  config: { type: 'string' },
  image: { type: 'string' },
  template: { type: 'string' },
  body: { type: 'string' },
  'soap-auth': { type: 'string' },
  'wsman-auth': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function usage(msg: string): never {
  throw new CliError(EXIT.usage, `${msg}\n(cimi --help for usage)`);
}

function oneOf<T extends string>(v: string | undefined, allowed: readonly T[], what: string, dflt: T): T {
  if (v === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(v)) usage(`${what} must be one of ${allowed.join(', ')}`);
  return v as T;
}

function int(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(v)) usage(`${what} must be a positive integer`);
  return Number(v);
}

export async function main(argv: string[], env: NodeJS.ProcessEnv, out: NodeJS.WriteStream, err: NodeJS.WriteStream): Promise<number> {
  // the interop kit has its own options (README "Interoperability kit")
  if (argv[0] === 'interop') return interopMain(argv.slice(1), (line) => out.write(`${line}\n`));
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    usage((e as Error).message);
  }
  const o = parsed.values;
  if (o.help) {
    out.write(HELP);
    return EXIT.ok;
  }
  const profilePath = o.profile ?? env.CIMI_PROFILE;
  let profile: Doc = {};
  if (profilePath) {
    try {
      profile = JSON.parse(readFileSync(profilePath, 'utf8')) as Doc;
    } catch (e) {
      usage(`cannot read the profile ${profilePath}: ${(e as Error).message}`);
    }
  }
  const pick = (flag: string | undefined, envName: string, key: string): string | undefined => flag ?? env[envName] ?? (profile[key] !== undefined ? String(profile[key]) : undefined);
  const url = pick(o.url, 'CIMI_URL', 'url');
  const user = pick(o.user, 'CIMI_USER', 'user');
  const password = pick(o.password, 'CIMI_PASSWORD', 'password');
  const protocol = oneOf(pick(o.protocol, 'CIMI_PROTOCOL', 'protocol'), ['rest', 'soap', 'wsman'] as const, '--protocol', 'rest');
  const format = oneOf<Format>(o.output ?? (profile.output as string | undefined), ['table', 'json', 'xml'], '--output', 'table');
  const timeoutMs = (int(o.timeout, '--timeout') ?? 120) * 1000;
  const [command, verb, ref, ...extra] = parsed.positionals;
  if (!command) usage('no command given');
  if (extra.length) usage(`unexpected arguments: ${extra.join(' ')}`);
  if (!url) usage('no --url given (or CIMI_URL, or url in the profile)');
  try {
    new URL(url);
  } catch {
    usage(`--url ${url} is not a URL`);
  }
  const q = { filter: o.filter, select: o.select?.split(',').map((s) => s.trim()).filter(Boolean), orderby: o.orderby, first: int(o.first, '--first'), last: int(o.last, '--last') };

  const client: ProtocolClient =
    protocol === 'rest'
      ? new RestClient({ url, user, password, timeoutMs })
      : protocol === 'soap'
        ? new SoapClient({ url, user, password, timeoutMs, auth: oneOf(o['soap-auth'], ['digest', 'text', 'basic'] as const, '--soap-auth', 'digest') })
        : new WsmanClient({ url, user, password, timeoutMs, auth: oneOf(o['wsman-auth'], ['digest', 'basic'] as const, '--wsman-auth', 'digest') });

  const show = (r: Result, root: string): void => {
    if (format === 'json') out.write(`${JSON.stringify(r.doc ?? {}, null, 2)}\n`);
    else if (format === 'xml') out.write(`${r.xml ?? toXml(root, r.doc ?? {})}\n`);
    else out.write(`${record(r.doc ?? {})}\n`);
  };

  /** prints a mutation's answer and, with --wait, follows its Job: exit 4 unless it ends SUCCESS */
  const finish = async (r: Result, what: string): Promise<number> => {
    if (!o.wait || !r.job) {
      if (format === 'table') {
        if (r.doc) out.write(`${record(r.doc)}\n`);
        if (r.job) out.write(`${jobLine(r.job)}\n`);
      } else show({ ...r, doc: { ...(r.doc ? { resource: r.doc } : {}), ...(r.job ? { job: r.job.doc } : {}) } }, what);
      if (o.wait && !r.job) err.write(`${what}: the endpoint answered no Job to follow\n`);
      return r.job && (r.job.state === 'FAILED' || r.job.state === 'STOPPED') ? EXIT.failed : EXIT.ok;
    }
    const progress = new Progress(err);
    let job: JobView = r.job;
    const end = Date.now() + timeoutMs;
    for (let step = 100; ; step = Math.min(step * 2, 1000)) {
      progress.update(job, TERMINAL.includes(job.state));
      if (TERMINAL.includes(job.state)) break;
      if (Date.now() > end) {
        progress.done();
        throw new CliError(EXIT.failed, `${what}: the Job is still ${job.state} after ${timeoutMs / 1000} s`);
      }
      await new Promise((res) => setTimeout(res, step));
      job = await client.job(job);
    }
    progress.done();
    if (format === 'table') out.write(`${jobLine(job)}\n`);
    else show({ doc: job.doc, xml: undefined }, 'Job');
    if (job.state !== 'SUCCESS') {
      err.write(`cimi: ${what}: the Job ended ${job.state}${job.message ? `: ${job.message}` : ''}\n`);
      return EXIT.failed;
    }
    return EXIT.ok;
  };

  const needRef = (): string => ref ?? usage(`${command} ${verb} needs a name or id`);

  switch (command) {
    case 'cep':
      if (verb) usage('cep takes no argument');
      show(await client.cep(format === 'xml'), 'CloudEntryPoint');
      return EXIT.ok;
    case 'metadata':
      if (ref) usage('metadata takes at most one collection');
      show(await client.metadata(verb), 'metadata');
      return EXIT.ok;
  }
  switch (verb) {
    case undefined:
      return usage(`${command}: which operation? list, get, create, update, delete or an action`);
    case 'list': {
      if (ref) usage('list takes no name');
      const r = await client.list(command, q, format === 'xml');
      if (format === 'json') out.write(`${JSON.stringify({ count: r.count, items: r.items }, null, 2)}\n`);
      else if (format === 'xml') out.write(`${r.xml ?? toXml('Collection', { count: r.count, item: r.items })}\n`);
      else out.write(`${table(r.items, q.select)}\n${r.count !== undefined ? `(${r.items.length} of ${r.count})\n` : ''}`);
      return EXIT.ok;
    }
    case 'get':
      show(await client.get(command, needRef(), format === 'xml'), command);
      return EXIT.ok;
    case 'create': {
      if (ref) usage('create takes its attributes as options (--name, --config, …)');
      let body: Doc | undefined;
      if (o.body !== undefined) {
        if (protocol !== 'rest') usage('--body is for --protocol rest');
        try {
          body = JSON.parse(o.body) as Doc;
        } catch {
          usage('--body is not JSON');
        }
      }
      return finish(await client.create(command, { name: o.name, description: o.description, config: o.config, image: o.image, template: o.template, body }), `create ${command}`);
    }
    case 'update':
      return finish(await client.update(command, needRef(), { name: o.name, description: o.description }), `update ${command}`);
    case 'delete':
      return finish(await client.delete(command, needRef()), `delete ${command}`);
    default:
      return finish(await client.action(command, needRef(), verb), `${verb} ${command} ${ref ?? ''}`.trim());
  }
}

if (require.main === module) {
  main(process.argv.slice(2), process.env, process.stdout, process.stderr).then(
    // exit once stdout is flushed: fetch's kept-alive sockets would hold the process open
    (code) => process.stdout.write('', () => process.exit(code)),
    (e: unknown) => {
      const code = e instanceof CliError ? e.exit : EXIT.transport;
      process.stderr.write(`cimi: ${e instanceof Error ? e.message : String(e)}\n`, () => process.exit(code));
    },
  );
}
