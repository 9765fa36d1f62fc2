import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The cimi client speaks only the protocols (issue 15 §1): it may import node built-ins, the XML parser and its own
 * files, never the gateway's model, adapters or persistence.
 */
describe('src/client imports', () => {
  const dir = __dirname;
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

  it('has the CLI and its protocol clients', () => {
    expect(files).toEqual(expect.arrayContaining(['cli.ts', 'rest.ts', 'soap.ts', 'wsman.ts', 'auth.ts', 'output.ts']));
  });

  const interop = join(dir, '..', 'interop');
  const kit = readdirSync(interop, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));
  it.each(kit)('interop/%s imports only node:, @xmldom/xmldom, the kit\'s own files and the client\'s auth', (f) => {
    const src = readFileSync(join(interop, f), 'utf8');
    const specs = [...src.matchAll(/(?:^|\n)\s*import\s[^'"]*?from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]);
    if (f === 'runner.ts') expect(specs).toEqual(expect.arrayContaining(['node:util', './suites/rest', './session']));
    for (const s of specs) {
      if (/^(node:[a-z/_]+|@xmldom\/xmldom)$/.test(s)) continue;
      // a relative import must stay inside src/interop, or be the client's auth schemes or WS-Man namespaces
      const target = resolve(dirname(join(interop, f)), s);
      expect({ s, ok: target.startsWith(`${interop}/`) || target === join(dir, 'auth') || target === join(dir, 'wsman-ns') }).toEqual({ s, ok: true });
    }
  });

  it.each(files)('%s imports only node:, @xmldom/xmldom and ./ files', (f) => {
    const src = readFileSync(join(dir, f), 'utf8');
    const specs = [...src.matchAll(/(?:^|\n)\s*import\s[^'"]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? m[4]);
    // the pattern sees the imports it guards
    if (f === 'cli.ts') expect(specs).toEqual(expect.arrayContaining(['node:util', './rest', './soap', './wsman']));
    // and the interop kit (src/interop), which is held to the same rule below
    for (const s of specs) expect(s).toMatch(/^(node:[a-z/_]+|@xmldom\/xmldom|\.\/[a-z-]+|\.\.\/interop\/runner)$/);
  });
});
