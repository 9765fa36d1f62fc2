#!/usr/bin/env node
// Rewrites an XSD so that no xsd:group is left: every <xsd:group ref> is replaced by the group's content and the
// named groups are removed. The types stay equivalent (same elements, order and occurrences; nothing on the
// wire changes); toolkits without model group support (Perl SOAP::WSDL) can then read the contract.
//
//   node scripts/xsd-inline-groups.mjs wsdl/cimi-gateway-types.xsd          # rewrite in place
//   node scripts/xsd-inline-groups.mjs wsdl/cimi-gateway-types.xsd --check  # exit 1 if any group is left
//
// XSD 1.0 Part 1 §3.8.2: the compositor inside a named group carries no occurrence attributes; the ref's
// minOccurs/maxOccurs apply to that compositor. A 1..1 ref to a sequence inside a sequence is spliced in
// (a 1..1 sequence nested in a sequence adds nothing); any other case keeps the compositor, with the ref's
// occurrences, so that nothing changes meaning.
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import { readFileSync, writeFileSync } from 'node:fs';

const XSD = 'http://www.w3.org/2001/XMLSchema';
const [file, flag] = process.argv.slice(2);
if (!file) {
  console.error('usage: xsd-inline-groups.mjs <file.xsd> [--check]');
  process.exit(2);
}
const text = readFileSync(file, 'utf8');
const doc = new DOMParser().parseFromString(text, 'text/xml');
const schema = doc.documentElement;
const isXsd = (n, local) => n.nodeType === 1 && n.namespaceURI === XSD && n.localName === local;
const elements = (n) => Array.from(n.childNodes).filter((c) => c.nodeType === 1);
const all = (local) => Array.from(doc.getElementsByTagNameNS(XSD, local));

if (flag === '--check') {
  const left = all('group').length;
  if (left) console.error(`${file}: ${left} xsd:group element(s) left`);
  process.exit(left ? 1 : 0);
}

const tnsPrefixes = new Set(
  Array.from(schema.attributes)
    .filter((a) => a.prefix === 'xmlns' && a.value === schema.getAttribute('targetNamespace'))
    .map((a) => a.localName),
);
const groups = new Map();
for (const g of elements(schema).filter((c) => isXsd(c, 'group'))) groups.set(g.getAttribute('name'), g);

function groupOf(ref) {
  const [prefix, local] = ref.includes(':') ? ref.split(':') : ['', ref];
  if (prefix && !tnsPrefixes.has(prefix)) throw new Error(`group ${ref} is not in the target namespace`);
  const g = groups.get(local);
  if (!g) throw new Error(`unknown group ${ref}`);
  const model = elements(g).filter((c) => !isXsd(c, 'annotation'));
  if (model.length !== 1 || !['sequence', 'choice', 'all'].some((k) => isXsd(model[0], k))) throw new Error(`group ${local}: expected one sequence, choice or all`);
  return { model: model[0], doc: elements(g).find((c) => isXsd(c, 'annotation'))?.textContent.trim() };
}

/** the indentation of a node: the spaces after the last newline of the text before it */
function indentOf(node) {
  const prev = node.previousSibling;
  const m = prev && prev.nodeType === 3 ? /\n([ \t]*)$/.exec(prev.data) : null;
  return m ? m[1].length : 0;
}

function reindent(node, delta) {
  if (node.nodeType === 3) node.data = node.data.replace(/\n([ \t]*)/g, (_, ws) => `\n${' '.repeat(Math.max(0, ws.length + delta))}`);
  for (const c of Array.from(node.childNodes ?? [])) reindent(c, delta);
}

const isBlank = (n) => n.nodeType === 3 && !n.data.trim();

// innermost first is not needed (groups here refer to no groups), but repeat until none is left in case they do
let rounds = 0;
for (let refs = all('group').filter((g) => g.hasAttribute('ref')); refs.length; refs = all('group').filter((g) => g.hasAttribute('ref'))) {
  if (++rounds > 32) throw new Error('group references nest too deep (or refer to themselves)');
  for (const ref of refs) {
    const { model, doc: what } = groupOf(ref.getAttribute('ref'));
    const min = ref.getAttribute('minOccurs') || '1';
    const max = ref.getAttribute('maxOccurs') || '1';
    const parent = ref.parentNode;
    const splice = min === '1' && max === '1' && isXsd(model, 'sequence') && isXsd(parent, 'sequence');
    let nodes;
    if (splice) {
      const kids = Array.from(model.childNodes).filter((c) => !isXsd(c, 'annotation'));
      while (kids.length && isBlank(kids[0])) kids.shift();
      while (kids.length && isBlank(kids[kids.length - 1])) kids.pop();
      const first = kids.find((c) => c.nodeType === 1);
      const delta = indentOf(ref) - (first ? indentOf(first) : 0);
      nodes = kids.map((c) => {
        const copy = c.cloneNode(true);
        reindent(copy, delta);
        return copy;
      });
    } else {
      const copy = model.cloneNode(true);
      reindent(copy, indentOf(ref) - indentOf(model));
      if (min !== '1') copy.setAttribute('minOccurs', min);
      if (max !== '1') copy.setAttribute('maxOccurs', max);
      nodes = [copy];
    }
    // say where the particles came from; the group's name is gone, its documentation stays
    if (what) {
      nodes.unshift(doc.createComment(` ${what.replace(/--/g, '- -')} `), doc.createTextNode(`\n${' '.repeat(indentOf(ref))}`));
    }
    for (const n of nodes) parent.insertBefore(n, ref);
    parent.removeChild(ref);
  }
}

// the definitions themselves, with the whitespace (and a section comment) before them
for (const g of groups.values()) {
  const prev = g.previousSibling;
  if (prev && isBlank(prev)) schema.removeChild(prev);
  schema.removeChild(g);
}
for (const c of Array.from(schema.childNodes)) {
  if (c.nodeType === 8 && /attribute groups/.test(c.data)) {
    const prev = c.previousSibling;
    if (prev && isBlank(prev)) schema.removeChild(prev);
    schema.removeChild(c);
  }
}

let out = new XMLSerializer().serializeToString(doc);
// the serializer puts the root's attributes on one line: keep the file's own start tag (its attributes are unchanged)
const rootTag = new RegExp(`<${schema.tagName}\\b[^>]*>`);
out = out.replace(rootTag, () => rootTag.exec(text)[0]);
if (!out.startsWith('<?xml')) out = `<?xml version="1.0" encoding="UTF-8"?>\n${out}`;
if (!out.endsWith('\n')) out += '\n';
writeFileSync(file, out);
console.log(`${file}: ${groups.size} group(s) inlined`);
