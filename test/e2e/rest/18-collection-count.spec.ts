import { ENGINES } from '../../support/databases';
import { FORMATS, items, newMachine, ok, op, useRestApp, type CimiClient } from '../../support/cimi-client';

/**
 * `count` of a collection through the CIMI door (DSP0263 2.0.0 §5.5.12, §4.1.6.1) after creates and deletes: the
 * unfiltered count (the kept counter, migration 1700000000012) and the filtered count (a COUNT(*) of the matches)
 * answer the same numbers for the same rows, in JSON and XML.
 */
const EVERYTHING = 'created>=1970-01-01T00:00:00Z';

describe.each(ENGINES)('REST collection count [%s]', (engine) => {
  const env = useRestApp(engine, { SIM_LATENCY_MS: '0' });

  /** count unfiltered and with a filter every row matches: the two ways must agree */
  async function counts(c: CimiClient, href: string): Promise<number> {
    const plain = ok(await c.get(href, { $select: 'name', $last: '1' }), 200).doc.count;
    const filtered = ok(await c.get(href, { $filter: EVERYTHING, $select: 'name', $last: '1' }), 200).doc.count;
    expect({ href, plain }).toEqual({ href, plain: filtered });
    return plain;
  }

  it('counts Machines and Jobs after creates and deletes, with and without $filter', async () => {
    const [json, xml] = FORMATS.map((f) => env().client(f));
    const cep = await json.cep();
    const machines = cep.machines.href as string;
    const jobs = cep.jobs.href as string;
    const before = await counts(json, machines);
    const jobsBefore = await counts(json, jobs);

    const names = [0, 1, 2].map((i) => `count-${engine}-${i}`);
    const hrefs: string[] = [];
    for (const name of names) hrefs.push(await newMachine(json, name));
    await env().h.idle();
    expect(await counts(json, machines)).toBe(before + 3);
    expect(await counts(xml, machines)).toBe(before + 3);
    expect(ok(await json.get(machines, { $filter: `name='${names[1]}'` }), 200).doc.count).toBe(1);
    expect(ok(await xml.get(machines, { $filter: `name='${names[1]}' or name='${names[2]}'` }), 200).doc.count).toBe(2);
    // every create wrote at least one Job
    const jobsAfterCreate = await counts(json, jobs);
    expect(jobsAfterCreate).toBeGreaterThanOrEqual(jobsBefore + 3);

    // delete one (its disks go with it): one Machine fewer, one more Job
    const m = ok(await json.get(hrefs[1]), 200).doc;
    const disks = ok(await json.get(m.disks.href), 200).doc;
    expect(disks.count).toBe(items(disks).length);
    const del = ok(await json.delete(op(m, 'delete')), 200, 202);
    expect((await json.waitJob(del.headers['cimi-job-uri'])).state).toBe('SUCCESS');
    await json.waitGone(hrefs[1]);
    await env().h.idle();
    expect(await counts(json, machines)).toBe(before + 2);
    expect(await counts(xml, machines)).toBe(before + 2);
    expect(ok(await json.get(machines, { $filter: `name='${names[1]}'` }), 200).doc.count).toBe(0);
    expect(await counts(json, jobs)).toBeGreaterThanOrEqual(jobsAfterCreate + 1);

    // the page itself holds what count says (unpaged: every item)
    const listed = ok(await json.get(machines, { $select: 'name' }), 200).doc;
    expect(items(listed)).toHaveLength(Math.min(listed.count, 100));
    expect(items(listed).map((x) => x.name)).toEqual(expect.arrayContaining([names[0], names[2]]));
  });
});
