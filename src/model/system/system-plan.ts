import { InvalidInputError } from '../shared/model-error';
import type { Ref, ResourceType } from '../shared/resource';
import type { Slot } from '../template/template-resolution';

/** One component descriptor of a SystemTemplate (docs/cimi.md §2.6), as adapters hand it to the model. */
export interface ComponentDescriptor {
  name: string;
  description?: string;
  properties?: Record<string, string>;
  /** the component's resource type (from its resourceURI) */
  type: ResourceType;
  /** DSP0263 2.0.0 §5.13.2: default 1; N >= 2 names the instances <name>1 … <name>N */
  quantity?: number;
  /** the component's template (by value, or by reference with overrides) … */
  template?: Slot;
  /** … or an existing resource to associate */
  resource?: Ref;
}

export interface PlannedComponent extends ComponentDescriptor {
  quantity: number;
  instanceNames: string[];
}

/** Component kinds a System can create, in dependency order: what a Machine refers to is created first. */
export const SYSTEM_COMPONENT_ORDER: readonly ResourceType[] = ['Credential', 'Volume', 'Network', 'Machine'];
const MAX_QUANTITY = 100;
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/**
 * Validates the component descriptors and orders them so that every `#name` reference points at a component
 * created earlier in the same plan (DSP0263 2.0.0 §5.13.2).
 */
export function planSystem(attrs: Record<string, unknown>): PlannedComponent[] {
  const raw = attrs.componentDescriptors ?? [];
  if (!Array.isArray(raw)) throw new InvalidInputError('componentDescriptors must be a list', 'componentDescriptors');
  const names = new Set<string>();
  const plan = raw.map((d: ComponentDescriptor, i): PlannedComponent => {
    const where = `componentDescriptors[${i}]`;
    if (!d || typeof d !== 'object') throw new InvalidInputError(`${where} must be an object`, 'componentDescriptors');
    if (typeof d.name !== 'string' || !NAME.test(d.name)) throw new InvalidInputError(`${where} needs a name of letters, digits and _ . -`, 'componentDescriptors');
    if (names.has(d.name)) throw new InvalidInputError(`component name ${d.name} is used twice`, 'componentDescriptors');
    names.add(d.name);
    if (!SYSTEM_COMPONENT_ORDER.includes(d.type)) {
      throw new InvalidInputError(`${where}: components of type ${String(d.type)} are not supported (supported: ${SYSTEM_COMPONENT_ORDER.join(', ')})`, 'componentDescriptors', 'SYSTEM.UNSUPPORTED_COMPONENT');
    }
    const quantity = d.quantity ?? 1;
    if (!Number.isSafeInteger(quantity) || quantity < 1 || quantity > MAX_QUANTITY) {
      throw new InvalidInputError(`${where}: quantity must be an integer from 1 to ${MAX_QUANTITY}`, 'componentDescriptors');
    }
    if (!!d.template === !!d.resource) throw new InvalidInputError(`${where} needs exactly one of a template or a resource`, 'componentDescriptors');
    if (d.resource && d.resource.type !== d.type) throw new InvalidInputError(`${where}: the resource must be a ${d.type}`, 'componentDescriptors');
    if (d.resource && quantity !== 1) throw new InvalidInputError(`${where}: an associated resource has quantity 1`, 'componentDescriptors');
    const instanceNames = quantity === 1 ? [d.name] : Array.from({ length: quantity }, (_, k) => `${d.name}${k + 1}`);
    return { ...d, quantity, instanceNames };
  });
  for (const c of plan) {
    for (const sym of symbolsIn(c.template)) {
      const target = plan.find((p) => p.name === sym);
      if (!target) throw new InvalidInputError(`component ${c.name} refers to #${sym}, which is not a component`, 'componentDescriptors', 'SYSTEM.BAD_SYMBOL');
      if (SYSTEM_COMPONENT_ORDER.indexOf(target.type) >= SYSTEM_COMPONENT_ORDER.indexOf(c.type)) {
        throw new InvalidInputError(`component ${c.name} cannot refer to #${sym} (a ${target.type})`, 'componentDescriptors', 'SYSTEM.BAD_SYMBOL');
      }
      if (target.quantity !== 1 && target.quantity !== c.quantity) {
        throw new InvalidInputError(`#${sym} has quantity ${target.quantity}; ${c.name} must have quantity 1 or the same`, 'componentDescriptors', 'SYSTEM.BAD_SYMBOL');
      }
    }
  }
  return [...plan].sort((a, b) => SYSTEM_COMPONENT_ORDER.indexOf(a.type) - SYSTEM_COMPONENT_ORDER.indexOf(b.type));
}

/** symbolic references (`#name`) anywhere in a template value */
export function symbolsIn(v: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(v)) v.forEach((x) => symbolsIn(x, out));
  else if (v && typeof v === 'object') {
    const id = (v as { id?: unknown }).id;
    if (typeof id === 'string' && id.startsWith('#') && typeof (v as { type?: unknown }).type === 'string') out.add(id.slice(1));
    Object.values(v).forEach((x) => symbolsIn(x, out));
  }
  return out;
}

/** Replaces `#name` references with the ids of instance `index` (or the single instance) of that component. */
export function bindSymbols<T>(v: T, created: ReadonlyMap<string, string[]>, index: number): T {
  if (Array.isArray(v)) return v.map((x) => bindSymbols(x, created, index)) as T;
  if (v && typeof v === 'object') {
    const o = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bindSymbols(x, created, index)]));
    const id = (o as { id?: unknown }).id;
    if (typeof id === 'string' && id.startsWith('#') && typeof (o as { type?: unknown }).type === 'string') {
      const ids = created.get(id.slice(1))!;
      (o as { id: string }).id = ids.length === 1 ? ids[0] : ids[index];
    }
    return o as T;
  }
  return v;
}
