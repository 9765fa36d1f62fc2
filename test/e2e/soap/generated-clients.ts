import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DOMParser, type Element as XElement } from '@xmldom/xmldom';

const XSD = 'http://www.w3.org/2001/XMLSchema';

export interface Run {
  code: number;
  /** stdout and stderr together: the tools print their warnings to either */
  output: string;
  stdout: string;
}

/** Runs a generator or compiler; resolves with its exit code (the suites assert failures too). */
export function run(cmd: string, args: string[], cwd?: string, timeoutMs = 240000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, output: `${stdout}\n${stderr}`, stdout });
    });
  });
}

/**
 * Runs one command line of wsdl/README.md as written (bash, so `"$GW/soap?wsdl"` and redirections mean what they
 * say there), with the guide's variables GW and CIMI_PASSWORD set.
 */
export function sh(line: string, cwd: string, vars: { GW: string; CIMI_PASSWORD: string }, timeoutMs = 240000): Promise<Run> {
  return new Promise((resolve) => {
    execFile('bash', ['-euo', 'pipefail', '-c', line], { cwd, env: { ...process.env, ...vars }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, output: `${stdout}\n${stderr}`, stdout });
    });
  });
}

export const GUIDE = join(__dirname, '..', '..', '..', 'wsdl', 'README.md');
/** The address the guide's files are written with; the specs put the running gateway's in its place. */
export const GUIDE_GW = 'http://127.0.0.1:8080';

/** The fenced block that follows `<!-- spec: NAME -->` in wsdl/README.md, verbatim. */
export function guideBlock(name: string): string {
  const text = readFileSync(GUIDE, 'utf8');
  const at = text.indexOf(`<!-- spec: ${name} -->\n`);
  const m = at < 0 ? null : /^<!--[^\n]*-->\n```\w*\n([\s\S]*?)^```$/m.exec(text.slice(at));
  if (!m || m.index !== 0) throw new Error(`wsdl/README.md has no block <!-- spec: ${name} -->`);
  return m[1];
}

/** The command lines of a guide block (comments and blank lines left out). */
export const guideCommands = (name: string): string[] =>
  guideBlock(name)
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'));

export function filesUnder(dir: string, suffix: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, suffix));
    else if (name.endsWith(suffix)) out.push(p);
  }
  return out;
}

/** The served XSD's *Response elements, and those whose sequence has more than one child element, or none. */
export function multiChildResponses(xsdText: string): { responses: string[]; multi: string[]; empty: string[] } {
  const doc = new DOMParser().parseFromString(xsdText, 'text/xml');
  const schema = doc.documentElement!;
  const responses: string[] = [];
  const multi: string[] = [];
  const empty: string[] = [];
  for (let n = schema.firstChild; n; n = n.nextSibling) {
    const el = n as XElement;
    if (n.nodeType !== 1 || el.namespaceURI !== XSD || el.localName !== 'element') continue;
    const name = el.getAttribute('name') ?? '';
    if (!name.endsWith('Response')) continue;
    responses.push(name);
    const seq = el.getElementsByTagNameNS(XSD, 'sequence')[0];
    let children = 0;
    for (let c = seq?.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === 1 && (c as XElement).localName === 'element') children++;
    }
    if (children > 1) multi.push(name);
    if (children === 0) empty.push(name);
  }
  return { responses, multi, empty };
}
