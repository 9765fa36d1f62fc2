import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Door } from './drivers';

/** The "Parity matrix" section of docs/operations.md, parsed (the one place both the matrix test and the parity suites read). */
export interface Row {
  op: string;
  service: string;
  /** per door: the forms named (backticked) or, for a '—' cell, why the door cannot express the operation */
  cells: Record<Door, { forms: string[]; why?: string }>;
}

export function matrixSection(): string {
  const doc = readFileSync(join(__dirname, '../../../docs/operations.md'), 'utf8');
  return doc.slice(doc.indexOf('## Parity matrix'));
}

export function parseRows(section = matrixSection()): Row[] {
  const lines = section.split('\n');
  const start = lines.findIndex((l) => l.startsWith('| op | service method | REST | SOAP | WS-Man |'));
  if (start < 0) throw new Error('no parity matrix table in docs/operations.md');
  const rows: Row[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line.slice(1, -1).split(' | ').map((c) => c.trim());
    if (cells.length !== 5) throw new Error(`row with ${cells.length} cells: ${line}`);
    const cell = (c: string) => (c.startsWith('—') ? { forms: [], why: c.slice(1).trim() } : { forms: [...c.matchAll(/`([^`]+)`/g)].map((m) => m[1]) });
    rows.push({ op: cells[0].replace(/`/g, ''), service: cells[1].replace(/`/g, ''), cells: { rest: cell(cells[2]), soap: cell(cells[3]), wsman: cell(cells[4]) } });
  }
  return rows;
}
