import { Injectable } from '@nestjs/common';
import { JobService } from '../../model/job/job.service';
import { ModelFacade } from '../../model/model.facade';
import type { OperationContext } from '../../model/shared/operation-context';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../model/shared/query';
import { BY_SEGMENT, subCollection } from './cimi-types';
import type { CimiUris } from './cimi-uris';
import type { CimiDoc, CimiMapper } from './cimi.mapper';
import { ResourceMetadataCatalog } from './resource-metadata';

/** what a projection needs of the request: the caller, its hrefs and its mapper */
export interface ProjectionCall {
  ctx: OperationContext;
  uris: CimiUris;
  map: CimiMapper;
}

/**
 * `$select` (DSP0263 2.0.0 §4.1.6.3, docs/cimi.md §5): the named attributes only (resourceURI always); on a
 * collection, names that are not the collection's own apply to each item.
 */
export function selectAttrs(doc: CimiDoc, sel: string[] | undefined, itemsKey?: string): CimiDoc {
  if (!sel) return doc;
  const keep = (d: CimiDoc, always: string[]) => Object.fromEntries(Object.entries(d).filter(([k]) => always.includes(k) || sel.includes(k)));
  if (!itemsKey) return keep(doc, ['resourceURI']);
  const collAttrs = ['id', 'count', 'operations', itemsKey];
  const out = keep(doc, ['resourceURI', 'id', 'count', itemsKey]);
  const itemSel = sel.filter((s) => !collAttrs.includes(s));
  if (itemSel.length && Array.isArray(out[itemsKey])) {
    out[itemsKey] = (out[itemsKey] as CimiDoc[]).map((i) => Object.fromEntries(Object.entries(i).filter(([k]) => k === 'resourceURI' || itemSel.includes(k))));
  }
  if (!sel.includes('operations')) delete out.operations;
  return out;
}

/** `$expand` (DSP0263 2.0.0 §4.1.6.4, docs/cimi.md §5): referenced resources and sub-collections inlined. */
@Injectable()
export class CimiProjection {
  constructor(
    private readonly model: ModelFacade,
    private readonly jobs: JobService,
    private readonly metadata: ResourceMetadataCatalog,
  ) {}

  async expand(c: ProjectionCall, doc: CimiDoc, exp: string[] | undefined): Promise<CimiDoc> {
    if (!exp) return doc;
    const all = exp.includes('*');
    for (const [k, v] of Object.entries(doc)) {
      if (k === 'id' || k === 'operations' || (!all && !exp.includes(k))) continue;
      if (!v || typeof v !== 'object' || Array.isArray(v) || typeof (v as { href?: unknown }).href !== 'string') continue;
      const inline = await this.resolve(c, (v as { href: string }).href);
      if (inline) {
        const { resourceURI: _ignored, ...rest } = inline;
        doc[k] = { href: (v as { href: string }).href, ...rest };
      }
    }
    return doc;
  }

  private async resolve(c: ProjectionCall, href: string): Promise<CimiDoc | undefined> {
    const path = new URL(href).pathname.split('/').filter(Boolean); // cimi, seg, id[, sub]
    if (path[0] !== 'cimi') return undefined;
    const info = BY_SEGMENT.get(path[1]);
    try {
      // a collection of the entry point (its first page, as a GET of it without parameters would answer)
      if (path.length === 2) {
        const page = { first: 1, last: DEFAULT_PAGE_SIZE };
        if (path[1] === 'jobs') {
          const jobs = await this.jobs.list(c.ctx, page);
          return c.map.collection('Job', 'jobs', href, jobs.items.map((j) => c.map.job(j)), jobs.count, false);
        }
        if (path[1] === 'resourceMetadata') {
          const all = this.metadata.all(c.uris);
          return c.map.collection('ResourceMetadata', 'resourceMetadata', href, all, all.length, false);
        }
        if (!info) return undefined;
        const list = await this.model.query(c.ctx, info.type, page);
        return c.map.collection(info.type, info.itemsKey, href, list.items.map((r) => c.map.resource(r)), list.count);
      }
      if (info && path.length === 3) return c.map.resource(await this.model.read(c.ctx, info.type, path[2]));
      if (info && path.length === 4) {
        const sub = subCollection(info.type, path[3]);
        if (!sub) return undefined;
        const page = await this.model.queryChildren(c.ctx, info.type, path[2], sub.type, { first: 1, last: MAX_PAGE_SIZE });
        return c.map.collection(sub.type, sub.itemsKey, href, page.items.map((r) => c.map.resource(r)), page.count, sub.type === 'MachineVolume');
      }
    } catch {
      return undefined; // a reference that is gone or not visible stays a plain href
    }
    return undefined;
  }
}
