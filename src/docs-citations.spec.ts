import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Comments cite the repository's docs as `docs/<name>.md §<n>[.<m>]`, `docs/<name>.md rule <n>` or
 * `docs/<name>.md §<n> rule <m>` (issue 11 §4). This suite keeps every such citation true: the file must exist
 * in docs/, `§n.m` must be a heading numbered `n.m` (or item `m.` of the numbered list under heading `n`),
 * and `rule n` must be item `n.` of a numbered list (under the cited heading, if one is given).
 */
const ROOT = join(__dirname, '..');
const SCANNED = ['src', 'test'];
const EXTENSIONS = /\.(ts|js|py|sh)$/;
const CITATION = /docs\/([a-z-]+)\.md((?:[ ,;]*(?:§\s?[\d.]*\d|rule \d+)(?: rule \d+)?)*)/g;
const REF = /§\s?([\d.]*\d)(?: rule (\d+))?|rule (\d+)/g;

interface Section {
  number: string;
  /** numbers of the `n.` list items directly in this section's text */
  items: Set<string>;
}

export function parseDoc(text: string): Section[] {
  const sections: Section[] = [{ number: '', items: new Set() }];
  let fenced = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    if (fenced) continue;
    const heading = /^#{1,6}\s+(?:§\s?)?(\d+(?:\.\d+)*)\.?\s/.exec(line);
    if (heading) {
      sections.push({ number: heading[1], items: new Set() });
      continue;
    }
    const item = /^(\d+)\.\s/.exec(line);
    if (item) sections[sections.length - 1].items.add(item[1]);
  }
  return sections;
}

/** Why a reference does not resolve in `sections`, or undefined when it does. */
export function unresolved(sections: Section[], section: string | undefined, rule: string | undefined): string | undefined {
  if (section !== undefined) {
    const exact = sections.find((s) => s.number === section);
    const dot = section.lastIndexOf('.');
    const parent = dot > 0 ? sections.find((s) => s.number === section.slice(0, dot)) : undefined;
    const target = exact ?? (parent?.items.has(section.slice(dot + 1)) ? parent : undefined);
    if (!target) return `no heading §${section}`;
    if (rule !== undefined && !target.items.has(rule)) return `no rule ${rule} under §${section}`;
    return undefined;
  }
  if (rule !== undefined && !sections.some((s) => s.items.has(rule))) return `no rule ${rule}`;
  return undefined;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : files(path);
    return EXTENSIONS.test(name) ? [path] : [];
  });
}

interface Citation {
  where: string;
  doc: string;
  section?: string;
  rule?: string;
}

function citations(): Citation[] {
  const found: Citation[] = [];
  for (const file of SCANNED.flatMap((d) => files(join(ROOT, d)))) {
    if (file === __filename) continue;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const where = `${relative(ROOT, file)}:${i + 1}`;
        for (const m of line.matchAll(CITATION)) {
          const refs = [...m[2].matchAll(REF)];
          if (refs.length === 0) found.push({ where, doc: m[1] });
          for (const r of refs) found.push({ where, doc: m[1], section: r[1], rule: r[2] ?? r[3] });
        }
      });
  }
  return found;
}

describe('docs citations in src/ and test/', () => {
  test('the resolver rejects what is missing', () => {
    const doc = parseDoc('# T\n## 1. A\n1. one\n## 2. B\n### 2.1 C\n```\n## 9. fenced\n```\n');
    expect(unresolved(doc, '1', undefined)).toBeUndefined();
    expect(unresolved(doc, '2.1', undefined)).toBeUndefined();
    expect(unresolved(doc, '1.1', undefined)).toBeUndefined(); // item 1 of §1
    expect(unresolved(doc, '1', '1')).toBeUndefined();
    expect(unresolved(doc, '2.2', undefined)).toBe('no heading §2.2');
    expect(unresolved(doc, '9', undefined)).toBe('no heading §9');
    expect(unresolved(doc, '2', '1')).toBe('no rule 1 under §2');
    expect(unresolved(doc, undefined, '2')).toBe('no rule 2');
  });

  test('finds the citations', () => {
    expect(citations().length).toBeGreaterThan(150);
  });

  test('every citation names a file in docs/ and a heading or rule in it', () => {
    const docs = new Map<string, Section[] | undefined>();
    const broken: string[] = [];
    for (const c of citations()) {
      if (!docs.has(c.doc)) {
        const path = join(ROOT, 'docs', `${c.doc}.md`);
        docs.set(c.doc, existsSync(path) ? parseDoc(readFileSync(path, 'utf8')) : undefined);
      }
      const sections = docs.get(c.doc);
      const why = sections ? unresolved(sections, c.section, c.rule) : 'no such file';
      if (why) broken.push(`${c.where}: docs/${c.doc}.md: ${why}`);
    }
    expect(broken).toEqual([]);
  });
});
