import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Protocol } from './check';
import { htmlReport, junitXml, tally, type InteropRun } from './report';
import { InteropSession } from './session';
import { restSuite } from './suites/rest';
import { soapSuite } from './suites/soap';
import { wsmanSuite } from './suites/wsman';

export interface InteropOptions {
  /** where each door is; any may be left out with its protocol */
  restUrl?: string;
  soapUrl?: string;
  wsmanUrl?: string;
  protocols: Protocol[];
  user?: string;
  password?: string;
  /** WS-Man logins by HTTP Digest (RFC 7616) instead of Basic */
  wsmanDigest?: boolean;
  readOnly?: boolean;
  /** DSP8009 XSD for the CIMI XML schema check */
  schema?: string;
  jobTimeoutMs?: number;
  log?: (line: string) => void;
}

/** Runs the suites in order (REST makes the machine WS-Man acts on), then cleans up whatever the run made. */
export async function runInterop(o: InteropOptions): Promise<InteropRun> {
  const started = new Date();
  const s = new InteropSession({ user: o.user, password: o.password, wsmanDigest: o.wsmanDigest }, o.readOnly ?? false, o.log);
  let leftBehind: string[] = [];
  try {
    const rest = o.protocols.includes('rest') && o.restUrl ? await restSuite(s, { url: o.restUrl, schema: o.schema, jobTimeoutMs: o.jobTimeoutMs }) : undefined;
    if (o.protocols.includes('soap') && o.soapUrl) await soapSuite(s, { url: o.soapUrl });
    if (o.protocols.includes('wsman') && o.wsmanUrl) await wsmanSuite(s, { url: o.wsmanUrl, machineName: () => rest?.machineHref?.replace(/^.*\//, '') });
    await rest?.finish();
  } finally {
    leftBehind = await s.cleanup();
  }
  return { endpoint: o.restUrl ?? o.soapUrl ?? o.wsmanUrl ?? '', started, ms: Date.now() - started.getTime(), results: s.results, leftBehind };
}

export function writeReports(run: InteropRun, dir: string): { junit: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const junit = join(dir, 'interop-junit.xml');
  const html = join(dir, 'interop-report.html');
  writeFileSync(junit, junitXml(run));
  writeFileSync(html, htmlReport(run));
  return { junit, html };
}

export const INTEROP_USAGE = `cimi interop --url <base> [options]
  Runs the CIMI REST, SOAP and WS-Management conformance checks against any endpoint.
  --url <base>            the gateway's base URL: REST at <base>/cimi/cloudEntryPoint, SOAP at <base>/soap, WS-Man at <base>/wsman
  --rest-url <url>        the CloudEntryPoint URL (overrides --url)
  --soap-url <url>        the SOAP 1.1 endpoint; its WSDL is <url>?wsdl
  --wsman-url <url>       the WS-Management endpoint
  --protocols <list>      rest,soap,wsman (default all)
  --user, --password      HTTP Basic credentials (env CIMI_USER, CIMI_PASSWORD)
  --wsman-auth digest|basic   WS-Man login: HTTP Digest (RFC 7616) on the 401 challenge, or Basic (default)
  --read-only             only reads: nothing is created, changed or deleted
  --schema <xsd>          the DSP8009 schema file for the CIMI XML check (skipped without it)
  --report <dir>          write interop-junit.xml and interop-report.html there
  --json                  print the results as JSON instead of lines
Exit status: 0 every check passed or was skipped, 1 usage, 4 a check failed, 5 resources were left behind.`;

/** `cimi interop …`: returns the exit status */
export async function interopMain(argv: string[], out: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Promise<number> {
  let v: Record<string, string | boolean | undefined>;
  try {
    v = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        'rest-url': { type: 'string' },
        'soap-url': { type: 'string' },
        'wsman-url': { type: 'string' },
        protocols: { type: 'string' },
        user: { type: 'string' },
        password: { type: 'string' },
        'read-only': { type: 'boolean' },
        'wsman-auth': { type: 'string' },
        schema: { type: 'string' },
        report: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (e) {
    out(`${(e as Error).message}\n${INTEROP_USAGE}`);
    return 1;
  }
  if (v.help) {
    out(INTEROP_USAGE);
    return 0;
  }
  const base = typeof v.url === 'string' ? v.url.replace(/\/+$/, '') : undefined;
  const protocols = String(v.protocols ?? 'rest,soap,wsman').split(',').map((p) => p.trim()) as Protocol[];
  const bad: string[] = protocols.filter((p) => !['rest', 'soap', 'wsman'].includes(p));
  const urls = {
    restUrl: (v['rest-url'] as string) ?? (base && `${base}/cimi/cloudEntryPoint`),
    soapUrl: (v['soap-url'] as string) ?? (base && `${base}/soap`),
    wsmanUrl: (v['wsman-url'] as string) ?? (base && `${base}/wsman`),
  };
  const missing = protocols.filter((p) => !urls[`${p}Url` as keyof typeof urls]);
  if (v['wsman-auth'] !== undefined && !['digest', 'basic'].includes(String(v['wsman-auth']))) bad.push(`wsman-auth ${String(v['wsman-auth'])}`);
  if (bad.length || missing.length) {
    out(`${bad.length ? `unknown ${bad.join(', ')}` : `no URL for ${missing.join(', ')} (--url or --${missing[0]}-url)`}\n${INTEROP_USAGE}`);
    return 1;
  }
  const run = await runInterop({
    ...urls,
    protocols,
    user: (v.user as string) ?? process.env.CIMI_USER,
    password: (v.password as string) ?? process.env.CIMI_PASSWORD,
    wsmanDigest: v['wsman-auth'] === 'digest',
    readOnly: Boolean(v['read-only']),
    schema: v.schema ? resolve(String(v.schema)) : undefined,
    log: v.json ? undefined : out,
  });
  const t = tally(run.results);
  if (v.report) {
    const files = writeReports(run, String(v.report));
    if (!v.json) out(`reports: ${files.junit}, ${files.html}`);
  }
  if (v.json) out(JSON.stringify(run, null, 2));
  else out(`${t.pass} pass, ${t.fail} fail, ${t.skip} skip${run.leftBehind.length ? `; left behind: ${run.leftBehind.join('; ')}` : ''}`);
  return t.fail ? 4 : run.leftBehind.length ? 5 : 0;
}

if (require.main === module) {
  interopMain(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(5);
  });
}
