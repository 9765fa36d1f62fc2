import { InvalidInputError, InvalidStateError } from '../shared/model-error';
import type { TenantTx } from '../shared/ports';
import type { Ref, Resource, ResourceType } from '../shared/resource';
import { descriptorOf } from '../shared/resource-types';
import { checkAttrNames } from '../shared/attr-validation';

/**
 * A template, configuration, image or credential slot as a client gives it (docs/cimi.md §6): by reference
 * (`ref`), by value (`value`), or by reference with overrides (both; `null` in `value` erases an attribute).
 * Stored templates keep the same shape for their nested slots.
 */
export interface Slot {
  ref?: Ref;
  value?: Record<string, unknown>;
}

export interface Resolved {
  /** the referenced resource, when the slot was by reference */
  ref?: Ref;
  source?: Resource;
  /** the effective attributes: the referenced ones with overrides applied, or the inline value */
  attrs: Record<string, unknown>;
  name?: string;
  description?: string;
  properties?: Record<string, string>;
}

/**
 * DSP0263 2.0.0 §4.2.1.1 / docs/cimi.md §6 step 2-3: dereference (a resource this tenant can see, else invalid
 * input), deep-copy, and let every inline attribute replace the referenced one whole; `null` removes it.
 * Overrides apply to this instantiation only and are never written back.
 */
export async function resolveSlot(tx: TenantTx, type: ResourceType, slot: Slot | undefined, field: string): Promise<Resolved | undefined> {
  if (!slot || (!slot.ref && !slot.value)) return undefined;
  const value = slot.value ?? {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidInputError(`${field} must be a reference or an object`, field);
  checkAttrNames(type, value, field);
  if (!slot.ref) return { attrs: dropNulls(structuredClone(value)) };
  if (slot.ref.type !== type) throw new InvalidInputError(`${field} must refer to a ${type}, not a ${slot.ref.type}`, field, 'TEMPLATE.BAD_REFERENCE');
  const source = await tx.resources.get(type, slot.ref.id);
  if (!source) throw new InvalidInputError(`${field} refers to a ${type} that does not exist`, field, 'TEMPLATE.BAD_REFERENCE');
  const sm = descriptorOf(type).stateMachine;
  if (sm && sm.actions.includes('use') && !sm.can('use', source.state)) throw new InvalidStateError(type, source.id, 'use', source.state);
  const attrs = structuredClone(source.attrs) as Record<string, unknown>;
  for (const [k, v] of Object.entries(value)) {
    if (v === null) delete attrs[k];
    else attrs[k] = structuredClone(v);
  }
  return { ref: slot.ref, source, attrs, name: source.name, description: source.description, properties: source.properties };
}

function dropNulls(v: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(v)) if (v[k] === null) delete v[k];
  return v;
}

/** Reads a nested slot out of resolved template attributes (stored templates keep `{ref}` / `{value}`). */
export function slotOf(v: unknown): Slot | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidInputError('a template slot must be a reference or an object');
  const o = v as Slot & Record<string, unknown>;
  if ('ref' in o || 'value' in o) return { ref: o.ref, value: o.value };
  return { value: o };
}

export function optInt(attrs: Record<string, unknown>, name: string, min = 0): number | undefined {
  const v = attrs[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new InvalidInputError(`${name} must be an integer >= ${min}`, name);
  return v;
}

export function optStr(attrs: Record<string, unknown>, name: string, max = 4096): string | undefined {
  const v = attrs[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length > max) throw new InvalidInputError(`${name} must be a string of at most ${max} characters`, name);
  return v;
}

export function optBool(attrs: Record<string, unknown>, name: string): boolean | undefined {
  const v = attrs[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new InvalidInputError(`${name} must be a boolean`, name);
  return v;
}

export function optRef(v: unknown, type: ResourceType, field: string): Ref | undefined {
  if (v === undefined || v === null) return undefined;
  const r = (v as { ref?: Ref }).ref ?? (v as Ref);
  if (typeof r !== 'object' || typeof r.id !== 'string' || r.type !== type) throw new InvalidInputError(`${field} must refer to a ${type}`, field, 'TEMPLATE.BAD_REFERENCE');
  return { type, id: r.id };
}
