import { randomUUID } from 'node:crypto';
import type { AuditScope } from '../audit/audit-scope';
import type { Deadline } from './deadline';

export type Role = 'admin' | 'user' | 'reader';
export const ROLES: readonly Role[] = ['admin', 'user', 'reader'];

/** `cli`: the admin command line (src/cli/admin.ts), an operator at a shell on the gateway's host */
export type Protocol = 'rest' | 'soap' | 'wsman' | 'internal' | 'cli';

export interface Principal {
  userId: string;
  userName: string;
}

/**
 * Built by each adapter from its own credentials and headers; every service call takes one.
 * The tenant comes only from the authenticated principal (docs/reliability.md rule 12).
 */
export interface OperationContext {
  readonly principal: Principal;
  readonly tenantId: string;
  readonly roles: readonly Role[];
  readonly correlationId: string;
  readonly protocol: Protocol;
  readonly locale?: string;
  readonly clientAddress?: string;
  readonly credentialType?: string;
  /** the request's audit scope (absent for the gateway's own work) */
  readonly audit?: AuditScope;
  /** the door's deadline (WS-Man OperationTimeout): no change commits after the door gave up */
  readonly deadline?: Deadline;
}

/** Context for work the gateway does on its own behalf (bootstrap, job recovery). */
export function systemContext(tenantId: string, correlationId: string = randomUUID()): OperationContext {
  return {
    principal: { userId: 'system', userName: 'system' },
    tenantId,
    roles: ['admin'],
    correlationId,
    protocol: 'internal',
  };
}
