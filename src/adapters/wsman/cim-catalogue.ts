import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESOURCE_TYPES, type ResourceType } from '../../model/shared/resource';
import { CONVERTERS } from './cim-instances';
import { RECORD_MODELS } from './model-sources';
import { CIM_SCHEMA_BASE } from './wsman-ns';

/** CIM property types used by the catalogue (DSP0004 intrinsic types; DSP0230 maps each to an XSD type). */
/** what key properties may be computed from (an instance's identity, never its attributes) */
export const KEY_SOURCES = /^(id|class|tenant|const:.*)$/;

export type CimType = 'string' | 'boolean' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'sint16' | 'sint32' | 'sint64' | 'real64' | 'datetime' | 'reference';

/** One property as wsman/classes.json writes it (see its $comment for the `source` vocabulary). */
export interface CimProperty {
  name: string;
  type: CimType;
  array?: boolean;
  key?: boolean;
  source?: string;
  prefix?: string;
  refClass?: string;
  /** the model field a Put changes (name, description) */
  write?: string;
  /** the create-input field a Create reads */
  create?: string;
  /** a Create input only; never rendered */
  createOnly?: boolean;
  doc?: string;
}

interface RawClass {
  name: string;
  superclass?: string;
  vendor?: boolean;
  association?: boolean;
  model?: string;
  readOnly?: boolean;
  polymorphic?: boolean;
  description?: string;
  keys?: string[];
  methods?: string[];
  properties: CimProperty[];
}

/** A class with inheritance resolved: `properties` holds inherited and own ones, sorted by name (DSP0230). */
export interface CimClass {
  name: string;
  uri: string;
  superclass?: CimClass;
  /** this class, then its superclasses up to the root */
  lineage: CimClass[];
  vendor: boolean;
  association: boolean;
  /** the model type whose resources (or records: Job, EventLog, Event, AuditLog, AuditEvent) are instances of exactly this class */
  model?: ResourceType | (typeof RECORD_MODELS)[number];
  /** Put, Delete and Create are refused (records and logs) */
  readOnly: boolean;
  /** false: enumerated through its own URI only, never as part of a superclass's enumeration */
  polymorphic: boolean;
  description?: string;
  keys: string[];
  methods: string[];
  properties: CimProperty[];
  /** rendered properties (createOnly ones excluded), alphabetical */
  rendered: CimProperty[];
  property(name: string): CimProperty | undefined;
  /** true when `other` is this class or one of its superclasses */
  isA(other: CimClass | string): boolean;
}

export interface CimCatalogue {
  namespace: string;
  vendorPrefix: string;
  vendorSchemaBase: string;
  orgId: string;
  classes: CimClass[];
  /** by class name (case-insensitive, DSP0004 names are) */
  byName(name: string): CimClass | undefined;
  /** by resource URI (DMTF or vendor schema base + class name; case-insensitive on the class name) */
  byUri(uri: string): CimClass | undefined;
  /** the concrete class whose instances are resources of `model` */
  byModel(model: string): CimClass | undefined;
  /** `cls` and every class below it (polymorphic enumeration, DSP0227 8.x), `cls` first */
  subclassesOf(cls: CimClass): CimClass[];
  /** the classes below (or equal to) `cls` that have instances */
  concreteUnder(cls: CimClass): CimClass[];
}

const PLAIN_SOURCES = ['id', 'name', 'description', 'created', 'updated', 'state', 'stateChanged', 'tenant', 'class', 'parent'];

/** a property's `source` must be one of the vocabulary of classes.json's $comment, checked once at load */
function checkSource(cls: string, p: CimProperty): void {
  const s = p.source;
  if (s === undefined) {
    if (!p.createOnly) throw new Error(`${cls}.${p.name}: a rendered property needs a source`);
    return;
  }
  if (PLAIN_SOURCES.includes(s) || s.startsWith('const:') || /^attrs\.[A-Za-z]\w*$/.test(s)) return;
  if (s.startsWith('fn:') && CONVERTERS[s.slice(3)]) return;
  throw new Error(`${cls}.${p.name}: unknown source ${s}`);
}

/** The catalogue file: `wsman/classes.json` at the project root (from src/ under ts-node/jest, from dist/ once built). */
export function catalogueFile(): string {
  for (const up of ['../../..', '../../../..']) {
    const p = join(__dirname, up, 'wsman', 'classes.json');
    if (existsSync(p)) return p;
  }
  throw new Error('wsman/classes.json not found');
}

/** WMI-style resource URI prefix of the root/cimv2 namespace (lower case), an alias of the class URIs */
const WMI_CIMV2 = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/';

let cached: CimCatalogue | undefined;

export function loadCatalogue(file = catalogueFile()): CimCatalogue {
  if (cached && file === catalogueFile()) return cached;
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { namespace: string; vendor: { prefix: string; schemaBase: string; orgId: string }; classes: RawClass[] };
  const cat = buildCatalogue(raw);
  if (file === catalogueFile()) cached = cat;
  return cat;
}

export function buildCatalogue(raw: { namespace: string; vendor: { prefix: string; schemaBase: string; orgId: string }; classes: RawClass[] }): CimCatalogue {
  const rawBy = new Map(raw.classes.map((c) => [c.name.toLowerCase(), c]));
  const built = new Map<string, CimClass>();
  const build = (r: RawClass, seen: string[] = []): CimClass => {
    const k = r.name.toLowerCase();
    const have = built.get(k);
    if (have) return have;
    if (seen.includes(k)) throw new Error(`class cycle at ${r.name}`);
    let sup: CimClass | undefined;
    if (r.superclass) {
      const sr = rawBy.get(r.superclass.toLowerCase());
      if (!sr) throw new Error(`${r.name}: unknown superclass ${r.superclass}`);
      sup = build(sr, [...seen, k]);
    }
    const props = new Map<string, CimProperty>();
    for (const p of sup?.properties ?? []) props.set(p.name, p);
    for (const p of r.properties) {
      checkSource(r.name, p);
      props.set(p.name, p);
    }
    const properties = [...props.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const keys = r.keys ?? sup?.keys ?? [];
    for (const key of keys) if (!props.get(key)?.key) throw new Error(`${r.name}: key ${key} is not a key property`);
    // an element's keys name it from its identity alone (cim-instances.ts keySelectors), so a reference renders as an EPR;
    // association keys are the references themselves
    if (!r.association) for (const key of keys) if (!KEY_SOURCES.test(props.get(key)!.source ?? '')) throw new Error(`${r.name}: key ${key} must come from id, class, tenant or a constant`);
    if (r.model && !(RESOURCE_TYPES as readonly string[]).includes(r.model) && !(RECORD_MODELS as readonly string[]).includes(r.model)) throw new Error(`${r.name}: unknown model ${r.model}`);
    const cls: CimClass = {
      name: r.name,
      uri: (r.vendor ? raw.vendor.schemaBase : CIM_SCHEMA_BASE) + r.name,
      superclass: sup,
      lineage: [],
      vendor: !!r.vendor,
      association: !!(r.association ?? sup?.association),
      model: r.model as CimClass['model'],
      readOnly: !!(r.readOnly ?? sup?.readOnly),
      polymorphic: r.polymorphic ?? true,
      description: r.description,
      keys,
      methods: [...new Set([...(sup?.methods ?? []), ...(r.methods ?? [])])],
      properties,
      rendered: properties.filter((p) => !p.createOnly),
      property: (name) => props.get(name) ?? [...props.values()].find((p) => p.name.toLowerCase() === name.toLowerCase()),
      isA: (other) => {
        const n = (typeof other === 'string' ? other : other.name).toLowerCase();
        return cls.lineage.some((c) => c.name.toLowerCase() === n);
      },
    };
    cls.lineage = [cls, ...(sup?.lineage ?? [])];
    built.set(k, cls);
    return cls;
  };
  const classes = raw.classes.map((r) => build(r));
  const byUri = new Map(classes.map((c) => [c.uri.toLowerCase(), c]));
  const byModel = new Map(classes.filter((c) => c.model).map((c) => [c.model as string, c]));
  const cat: CimCatalogue = {
    namespace: raw.namespace,
    vendorPrefix: raw.vendor.prefix,
    vendorSchemaBase: raw.vendor.schemaBase,
    orgId: raw.vendor.orgId,
    classes,
    byName: (name) => built.get(name.toLowerCase()),
    byUri: (uri) => {
      const u = uri.trim().toLowerCase();
      // docs/wsman.md §7.15: Windows may name a class by its WMI URI (`winrm e cimv2/CIM_ComputerSystem`)
      if (u.startsWith(WMI_CIMV2)) return built.get(u.slice(WMI_CIMV2.length));
      return byUri.get(u);
    },
    byModel: (model) => byModel.get(model),
    subclassesOf: (cls) => classes.filter((c) => c.isA(cls)).sort((a, b) => a.lineage.length - b.lineage.length),
    concreteUnder: (cls) => classes.filter((c) => c.model && c.isA(cls)),
  };
  return cat;
}
