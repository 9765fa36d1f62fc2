import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD, eventually } from '../../support/app-harness';
import { basic, getMachine, restJob, restMachine, useWsmanApp } from '../../support/wsman-client';
import { IdentityService } from '../../../src/model/identity/identity.service';

/**
 * Issue 16 §5 /metrics: requests through the three real doors and a Job counted, scraped by curl (an independent
 * client) and fetch; the exposition format parsed line by line; access by token or admin Basic only.
 */
const TOKEN = 'metrics-token-0123456789';
const TNS = 'urn:cimi-gateway:soap:1:types';
const run = promisify(execFile);

type Samples = Map<string, number>;

/** Prometheus text format 0.0.4: every line a HELP, a TYPE or a sample; samples keyed `name{labels}` as written */
function parse(text: string): { samples: Samples; types: Map<string, string> } {
  const samples: Samples = new Map();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$/.exec(line);
    if (m) continue;
    m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (m) {
      types.set(m[1], m[2]);
      continue;
    }
    // values as Go's ParseFloat reads them (Prometheus's parser): prom-client writes an empty lag histogram's mean as `Nan`
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (-?[0-9.e+-]+|[Nn][Aa][Nn]|[+-]Inf)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus exposition line: ${line}`);
    samples.set(m[1], Number(m[2]));
  }
  return { samples, types };
}

const at = (s: Samples, key: string) => s.get(key) ?? 0;

describe.each(ENGINES)('/metrics [%s]', (engine) => {
  const env = useWsmanApp(engine, { METRICS_TOKEN: TOKEN, AUDIT_FLUSH_MS: '0' });
  const url = () => `http://127.0.0.1:${env().port}/metrics`;

  async function scrape(): Promise<{ samples: Samples; types: Map<string, string>; text: string }> {
    const { stdout } = await run('curl', ['-sS', '-f', '-H', `Authorization: Bearer ${TOKEN}`, url()]);
    return { ...parse(stdout), text: stdout };
  }

  it('counts each door request and the Job, with histograms, job states, provider steps and the event loop', async () => {
    const { port, h } = env();
    const machine = await restMachine(port, 'metrics-m', 'STOPPED');
    await h.idle();
    const before = (await scrape()).samples;

    const cimi = await fetch(`http://127.0.0.1:${port}/cimi/machines/${machine}`, { headers: { Authorization: basic(), Accept: 'application/json' } });
    expect(cimi.status).toBe(200);
    const soap = await fetch(`http://127.0.0.1:${port}/soap`, {
      method: 'POST',
      headers: { Authorization: basic(), 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '"urn:cimi-gateway:soap:1:GetMachine"' },
      body: `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="${TNS}"><soap:Body><t:GetMachine><t:id>${machine}</t:id></t:GetMachine></soap:Body></soap:Envelope>`,
    });
    expect(soap.status).toBe(200);
    expect((await getMachine(port, machine)).status).toBe(200);
    const start = await fetch(`http://127.0.0.1:${port}/cimi/machines/${machine}/start`, {
      method: 'POST',
      headers: { Authorization: basic(), Accept: 'application/json', 'Content-Type': 'application/json' },
      body: JSON.stringify({ resourceURI: 'http://schemas.dmtf.org/cimi/1/Action', action: 'http://schemas.dmtf.org/cimi/1/action/start' }),
    });
    expect(start.status).toBe(202);
    const job = await restJob(port, start.headers.get('cimi-job-uri')!.split('/').pop()!);
    expect(job.state).toBe('SUCCESS');
    await h.idle();

    const { samples: after, types } = await eventually(async () => {
      const s = await scrape();
      return at(s.samples, 'cimi_requests_total{door="wsman",operation="Machine.read",status="200"}') > at(before, 'cimi_requests_total{door="wsman",operation="Machine.read",status="200"}') ? s : undefined;
    });
    const delta = (key: string) => at(after, key) - at(before, key);
    // exactly the requests made, each under its door and catalogue operation
    expect(delta('cimi_requests_total{door="rest",operation="Machine.read",status="200"}')).toBe(1);
    expect(delta('cimi_requests_total{door="soap",operation="Machine.read",status="200"}')).toBe(1);
    expect(delta('cimi_requests_total{door="wsman",operation="Machine.read",status="200"}')).toBe(1);
    expect(delta('cimi_requests_total{door="rest",operation="Machine.start",status="202"}')).toBe(1);
    expect(types.get('cimi_requests_total')).toBe('counter');
    expect(types.get('cimi_request_duration_seconds')).toBe('histogram');
    for (const door of ['rest', 'soap', 'wsman']) {
      expect(delta(`cimi_request_duration_seconds_count{door="${door}",operation="Machine.read"}`)).toBe(1);
      expect(after.has(`cimi_request_duration_seconds_bucket{le="0.005",door="${door}",operation="Machine.read"}`)).toBe(true);
      expect(at(after, `cimi_request_duration_seconds_bucket{le="+Inf",door="${door}",operation="Machine.read"}`)).toBe(at(after, `cimi_request_duration_seconds_count{door="${door}",operation="Machine.read"}`));
    }
    // no label carries an id or a path
    for (const key of after.keys()) expect(key).not.toContain(machine);
    // the Job: counted once at its end, its duration observed; the state gauge counted from the database
    expect(delta('cimi_jobs_total{operation="Machine.start",state="SUCCESS"}')).toBe(1);
    expect(delta('cimi_job_duration_seconds_count{operation="Machine.start",state="SUCCESS"}')).toBe(1);
    expect(delta('cimi_jobs{state="SUCCESS"}')).toBe(1);
    expect(at(after, 'cimi_jobs{state="QUEUED"}')).toBe(0);
    expect(types.get('cimi_jobs')).toBe('gauge');
    // the provider step the Job ran
    expect(delta(`cimi_provider_step_duration_seconds_count{driver="${h.driver.name}",step="start"}`)).toBe(1);
    expect(after.has(`cimi_provider_step_duration_seconds_bucket{le="0.05",driver="${h.driver.name}",step="start"}`)).toBe(true);
    // process metrics, the event loop's lag among them; the audit buffer; the pool on PostgreSQL
    expect(types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(after.has('nodejs_eventloop_lag_p99_seconds')).toBe(true);
    expect(after.has('cimi_audit_buffer_depth')).toBe(true);
    if (engine === 'postgres') {
      expect(at(after, 'cimi_db_pool_connections{kind="total"}')).toBeGreaterThanOrEqual(1);
      expect(after.has('cimi_db_pool_connections{kind="waiting"}')).toBe(true);
    } else {
      expect(after.has('cimi_db_pool_connections{kind="total"}')).toBe(false);
      expect(at(after, 'cimi_db_write_queue_depth')).toBeGreaterThanOrEqual(0);
      expect(types.get('cimi_db_write_queue_depth')).toBe('gauge');
    }
  });

  it('is refused without credentials (401 + challenge) and to a non-admin (403); served for the token and admin Basic', async () => {
    const { h } = env();
    await h.get(IdentityService).ensureTenant('metrics');
    await h.get(IdentityService).addUser({ userName: 'metrics-user', password: 'password-123', tenant: 'metrics', roles: ['user'] });
    const none = await fetch(url());
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect((await fetch(url(), { headers: { Authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    expect((await fetch(url(), { headers: { Authorization: basic('admin', 'wrong-password') } })).status).toBe(401);
    expect((await fetch(url(), { headers: { Authorization: basic('metrics-user', 'password-123') } })).status).toBe(403);
    const byToken = await fetch(url(), { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(byToken.status).toBe(200);
    expect(byToken.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(parse(await byToken.text()).types.get('cimi_requests_total')).toBe('counter');
    const byAdmin = await fetch(url(), { headers: { Authorization: basic('admin', ADMIN_PASSWORD) } });
    expect(byAdmin.status).toBe(200);
    expect(parse(await byAdmin.text()).samples.size).toBeGreaterThan(10);
    // curl sees the challenge too
    const { stdout } = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', url()]);
    expect(stdout).toBe('401');
  });
});
