/** Query plans of the SQL our layer generates, summarised for the table (index used, or a full SCAN). */

export interface PlanSummary {
  /** one line for the table, e.g. `ix_resource_tenant_type_created +sort(last term)` */
  compact: string;
  /** the engine's own plan text */
  full: string[];
  /** a full scan of the `resource` table (not of an index) */
  fullScan: boolean;
}

interface SqlitePlanRow {
  id: number;
  parent: number;
  detail: string;
}

/** EXPLAIN QUERY PLAN on a better-sqlite3 connection */
export function sqlitePlan(
  db: { prepare(sql: string): { all(...p: unknown[]): unknown[] } },
  sql: string,
  params: unknown[],
): PlanSummary {
  const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as SqlitePlanRow[];
  const parts: string[] = [];
  let fullScan = false;
  for (const { detail } of rows) {
    let m: RegExpMatchArray | null;
    if ((m = detail.match(/^SCAN (\S+)$/))) {
      fullScan = true;
      parts.push(`FULL SCAN ${m[1]}`);
    } else if ((m = detail.match(/^SCAN \S+ USING (COVERING )?INDEX (\S+)/))) {
      parts.push(`full index scan ${m[2]}${m[1] ? ' (covering)' : ''}`);
    } else if ((m = detail.match(/^SEARCH \S+ USING (COVERING )?INDEX (\S+) \((.*)\)/))) {
      parts.push(`${m[2]}${m[1] ? ' (covering)' : ''} [${m[3]}]`);
    } else if ((m = detail.match(/^USE TEMP B-TREE FOR (.*)$/))) {
      parts.push(`+sort(${m[1].replace(/ OF ORDER BY$/, '').toLowerCase()})`);
    } else {
      parts.push(detail);
    }
  }
  return { compact: parts.join(' '), full: rows.map((r) => r.detail), fullScan };
}

interface PgPlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Scan Direction'?: string;
  'Parent Relationship'?: string;
  Plans?: PgPlanNode[];
}

/** EXPLAIN (FORMAT JSON) and EXPLAIN text through a pg client */
export async function pgPlan(
  client: { query(sql: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> },
  sql: string,
  params: unknown[],
): Promise<PlanSummary> {
  const json = await client.query(`EXPLAIN (FORMAT JSON) ${sql}`, params);
  const root = (json.rows[0]['QUERY PLAN'] as { Plan: PgPlanNode }[])[0].Plan;
  const parts: string[] = [];
  let fullScan = false;
  const walk = (n: PgPlanNode) => {
    const t = n['Node Type'];
    if (t === 'Seq Scan') {
      if (n['Relation Name'] === 'resource') fullScan = true;
      parts.push(`FULL SCAN ${n['Relation Name']}`);
    } else if (t === 'Index Scan' || t === 'Index Only Scan' || t === 'Bitmap Index Scan') {
      const back = n['Scan Direction'] === 'Backward' ? ' backward' : '';
      const kind = t === 'Index Only Scan' ? ' (index only)' : t === 'Bitmap Index Scan' ? ' (bitmap)' : '';
      parts.push(`${n['Index Name']}${kind}${back}`);
    } else if (t === 'Sort') {
      parts.push('+sort');
    } else if (t === 'Incremental Sort') {
      parts.push('+incremental sort');
    } else if (t === 'Gather' || t === 'Gather Merge') {
      parts.push('parallel');
    }
    for (const c of n.Plans ?? []) walk(c);
  };
  walk(root);
  const text = await client.query(`EXPLAIN ${sql}`, params);
  return {
    compact: parts.join(' '),
    full: text.rows.map((r) => String(r['QUERY PLAN'])),
    fullScan,
  };
}
