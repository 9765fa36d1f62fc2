import { InvalidInputError } from './model-error';
import type { TenantTx } from './ports';
import { isRef, RESOURCE_TYPES, type Ref, type ResourceType } from './resource';

/**
 * every model reference ({type, id}, also inside template slots and component descriptors) in an attribute value;
 * a System template's symbolic references (`#name`, DSP0263 2.0.0 §5.13.2) name components, not resources
 */
export function refsIn(v: unknown, out: Ref[] = []): Ref[] {
  if (Array.isArray(v)) v.forEach((x) => refsIn(x, out));
  else if (isRef(v) && (RESOURCE_TYPES as readonly string[]).includes(v.type)) {
    if (!v.id.startsWith('#')) out.push(v);
  }
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => refsIn(x, out));
  return out;
}

/**
 * Every reference a write stores must name a resource of the caller's tenant (`tx` is scoped to it), so a template
 * or attribute can never point at another tenant's resource: such an id is refused exactly like one that never
 * existed (`TEMPLATE.BAD_REFERENCE`; docs/operations.md "Parity matrix", isolation).
 */
export async function assertRefsResolve(tx: TenantTx, attrs: Record<string, unknown>): Promise<void> {
  for (const [field, v] of Object.entries(attrs)) {
    for (const r of refsIn(v)) {
      if (!(await tx.resources.get(r.type as ResourceType, r.id))) throw new InvalidInputError(`${field} refers to a ${r.type} that does not exist`, field, 'TEMPLATE.BAD_REFERENCE');
    }
  }
}
