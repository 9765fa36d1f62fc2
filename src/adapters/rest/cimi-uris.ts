import { InvalidInputError } from '../../model/shared/model-error';
import { isValidId } from '../../model/shared/ids';
import type { Ref, ResourceType } from '../../model/shared/resource';
import { descriptorOf } from '../../model/shared/resource-types';
import { BY_SEGMENT, BY_TYPE, CIMI_SUBCOLLECTIONS, subCollectionOf } from './cimi-types';

/**
 * Href building and parsing lives here, never in the model (docs/architecture.md §1). Hrefs are absolute
 * (issue 3 §1), under PUBLIC_BASE_URL when set (behind a proxy), else the request's own origin.
 */
export class CimiUris {
  readonly base: string;

  constructor(origin: string) {
    this.base = `${origin.replace(/\/+$/, '')}/cimi`;
  }

  get baseURI(): string {
    return `${this.base}/`; // docs/cimi.md §1: baseURI always ends with '/'
  }
  get cloudEntryPoint(): string {
    return `${this.base}/cloudEntryPoint`;
  }
  collection(type: ResourceType): string {
    return `${this.base}/${BY_TYPE.get(type)!.segment}`;
  }
  jobs(): string {
    return `${this.base}/jobs`;
  }
  job(id: string): string {
    return `${this.base}/jobs/${id}`;
  }
  resourceMetadata(id?: string): string {
    return id ? `${this.base}/resourceMetadata/${id}` : `${this.base}/resourceMetadata`;
  }
  /** a top-level resource; sub-resources need their parent */
  resource(type: ResourceType, id: string, parentId?: string): string {
    const sub = subCollectionOf(type);
    if (sub) return `${this.subCollection(sub.parent, parentId!, sub.segment)}/${id}`;
    return `${this.collection(type)}/${id}`;
  }
  subCollection(parentType: ResourceType, parentId: string, segment: string): string {
    return `${this.resource(parentType, parentId)}/${segment}`;
  }
  /** the href of a Job's target, which may be a collection (for creates) */
  target(t: { type: string; id: string }): string {
    // a Meter's start/stop Job (meters are gateway records, not resource types: cimi-meters.ts)
    if (t.type === 'Meter') return `${this.base}/meters/${t.id}`;
    if (t.type.endsWith('Collection')) return this.collection(t.type.slice(0, -'Collection'.length) as ResourceType);
    return this.resource(t.type as ResourceType, t.id);
  }

  /**
   * Resolves an href a client sent (absolute under any host, or relative to baseURI; RFC 3986 §5.2) to a Ref.
   * Only top-level resources can be referenced. Anything else is invalid input (docs/cimi.md §4.4: bad template href).
   */
  parse(href: unknown, field: string, expected?: ResourceType): Ref {
    if (typeof href !== 'string' || href.length === 0 || href.length > 2048) throw new InvalidInputError(`${field}: href must be a URI`, field, 'REST.BAD_HREF');
    // #name references a component of the same SystemTemplate (DSP0263 2.0.0 §5.13.2); the model binds them
    if (href.startsWith('#') && expected) return { type: expected, id: href };
    let path: string;
    try {
      path = new URL(href, this.baseURI).pathname;
    } catch {
      throw new InvalidInputError(`${field}: ${href.slice(0, 100)} is not a URI`, field, 'REST.BAD_HREF');
    }
    const m = /^\/cimi\/([A-Za-z]+)\/([^/]+)$/.exec(path);
    const info = m && BY_SEGMENT.get(m[1]);
    if (!m || !info || !isValidId(m[2])) throw new InvalidInputError(`${field}: ${href.slice(0, 100)} is not a resource of this gateway`, field, 'REST.BAD_HREF');
    if (expected && info.type !== expected) throw new InvalidInputError(`${field} must refer to a ${expected}, not a ${info.type}`, field, 'REST.BAD_HREF');
    return { type: info.type, id: m[2] };
  }
}

/** A sub-collection's items are link resources under their parent; they are never referenced by href from outside. */
export function isSubResource(type: ResourceType): boolean {
  return !!descriptorOf(type).parentType && CIMI_SUBCOLLECTIONS.some((s) => s.type === type);
}
