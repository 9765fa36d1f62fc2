import { randomUUID } from 'node:crypto';
import { NotFoundError } from './model-error';

/** Resource ids are lowercase UUIDs; anything else is answered as not found (docs/reliability.md rule 9). */
const ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function newId(): string {
  return randomUUID();
}

export function isValidId(id: unknown): id is string {
  return typeof id === 'string' && ID_PATTERN.test(id);
}

/** Rejects malformed ids before any lookup, with the same answer as a missing resource. */
export function checkId(type: string, id: unknown): string {
  if (!isValidId(id)) throw new NotFoundError(type, String(id).slice(0, 80));
  return id;
}
