import {
  allowedCollectionOperations,
  allowedOperations,
  canWrite,
  requireAdmin,
  requireWrite,
} from './authorization';
import { ForbiddenError, type ModelError } from './model-error';
import type { OperationContext, Role } from './operation-context';
import { RESOURCE_TYPES, type Resource, type ResourceType } from './resource';
import { descriptorOf } from './resource-types';

function ctx(...roles: Role[]): OperationContext {
  return {
    principal: { userId: 'u-1', userName: 'alice' },
    tenantId: 't-1',
    roles,
    correlationId: 'c-1',
    protocol: 'rest',
  };
}

function res(type: ResourceType, state?: string): Resource {
  const at = new Date('2024-01-01T00:00:00Z');
  return {
    id: 'r-1',
    tenantId: 't-1',
    type,
    created: at,
    updated: at,
    properties: {},
    state,
    version: 1,
    attrs: {},
  };
}

function thrown(fn: () => unknown): ModelError {
  try {
    fn();
  } catch (e) {
    return e as ModelError;
  }
  throw new Error('expected a throw');
}

/**
 * What a writer (user or admin) may invoke on a resource in each state: `edit`, `delete` and the client-visible
 * actions of the type's state machine. Internal guards (attachVolume, detachVolume, attach, use) are never offered;
 * `capture` is offered while the state allows it (it is performed by creating an image, DSP0263 §5.14.7).
 * Written out literally as the specification.
 */
const OPERATIONS: Record<string, Record<string, string[]>> = {
  Machine: {
    CREATING: [],
    STARTING: [],
    STARTED: ['restart', 'stop', 'pause', 'suspend', 'capture', 'restore', 'delete', 'edit'],
    STOPPING: [],
    STOPPED: ['restart', 'start', 'capture', 'restore', 'delete', 'edit'],
    PAUSING: [],
    PAUSED: ['start', 'stop', 'capture', 'restore', 'delete', 'edit'],
    SUSPENDING: [],
    SUSPENDED: ['start', 'stop', 'capture', 'restore', 'delete', 'edit'],
    CAPTURING: [],
    RESTORING: [],
    DELETING: [],
    ERROR: ['start', 'stop', 'restore', 'delete', 'edit'],
    FAILED: ['delete', 'edit'],
  },
  Volume: {
    CREATING: [],
    AVAILABLE: ['capture', 'restore', 'delete', 'edit'],
    CAPTURING: [],
    RESTORING: [],
    DELETING: [],
    ERROR: ['restore', 'delete', 'edit'],
  },
  MachineImage: { CREATING: [], AVAILABLE: ['delete', 'edit'], DELETING: [], ERROR: ['delete', 'edit'] },
  VolumeImage: { CREATING: [], AVAILABLE: ['delete', 'edit'], DELETING: [], ERROR: ['delete', 'edit'] },
  Network: {
    CREATING: [],
    STARTING: [],
    STARTED: ['stop', 'delete', 'edit'],
    STOPPING: [],
    STOPPED: ['start', 'delete', 'edit'],
    DELETING: [],
    ERROR: ['start', 'stop', 'delete', 'edit'],
  },
  NetworkPort: {
    CREATING: [],
    STARTING: [],
    STARTED: ['stop', 'delete', 'edit'],
    STOPPING: [],
    STOPPED: ['start', 'delete', 'edit'],
    DELETING: [],
    ERROR: ['start', 'stop', 'delete', 'edit'],
  },
  System: {
    CREATING: [],
    STARTING: [],
    STARTED: ['restart', 'stop', 'pause', 'suspend', 'delete', 'edit'],
    STOPPING: [],
    STOPPED: ['restart', 'start', 'delete', 'edit'],
    PAUSING: [],
    PAUSED: ['start', 'stop', 'delete', 'edit'],
    SUSPENDING: [],
    SUSPENDED: ['start', 'stop', 'delete', 'edit'],
    MIXED: ['restart', 'start', 'stop', 'pause', 'suspend', 'delete', 'edit'],
    DELETING: [],
    ERROR: ['restart', 'start', 'stop', 'delete', 'edit'],
  },
};
const STATEFUL_TYPES = Object.keys(OPERATIONS) as ResourceType[];
const INTERNAL_GUARDS = ['attachVolume', 'detachVolume', 'attach', 'use'];

const rows = STATEFUL_TYPES.flatMap((type) =>
  Object.entries(OPERATIONS[type]).map(([state, ops]) => ({ type, state, ops })),
);

describe('authorization', () => {
  describe('roles', () => {
    it.each<[string, Role[], boolean]>([
      ['admin', ['admin'], true],
      ['user', ['user'], true],
      ['reader', ['reader'], false],
      ['no role', [], false],
      ['reader and user', ['reader', 'user'], true],
      ['reader and admin', ['reader', 'admin'], true],
    ])('%s may write: %p', (_who, roles, writes) => {
      expect(canWrite(ctx(...roles))).toBe(writes);
      if (writes) expect(() => requireWrite(ctx(...roles), 'delete Machine m-1')).not.toThrow();
      else expect(thrown(() => requireWrite(ctx(...roles), 'delete Machine m-1')).kind).toBe('forbidden');
    });

    it('requireWrite refuses a reader with a forbidden error naming the role and what was attempted', () => {
      const e = thrown(() => requireWrite(ctx('reader'), 'delete Machine m-1'));
      expect(e).toBeInstanceOf(ForbiddenError);
      expect(e.kind).toBe('forbidden');
      expect(e.code).toBe('AUTH.FORBIDDEN');
      expect(e.message).toBe('role reader may not delete Machine m-1');
    });

    it('requireWrite names "(none)" when the principal has no role', () => {
      const e = thrown(() => requireWrite(ctx(), 'edit Volume v-1'));
      expect(e.kind).toBe('forbidden');
      expect(e.message).toBe('role (none) may not edit Volume v-1');
    });

    it.each<[Role[], boolean]>([
      [['admin'], true],
      [['user'], false],
      [['reader'], false],
      [[], false],
      [['user', 'admin'], true],
    ])('requireAdmin for roles %p passes: %p', (roles, passes) => {
      if (passes) expect(() => requireAdmin(ctx(...roles), 'manage tenants')).not.toThrow();
      else {
        const e = thrown(() => requireAdmin(ctx(...roles), 'manage tenants'));
        expect(e.kind).toBe('forbidden');
        expect(e.message).toBe('only an admin may manage tenants');
      }
    });
  });

  describe('allowedOperations for a reader', () => {
    it.each(rows)('$type in $state: none', ({ type, state }) => {
      expect(allowedOperations(ctx('reader'), res(type, state))).toEqual([]);
    });

    it.each(RESOURCE_TYPES.filter((t) => !STATEFUL_TYPES.includes(t)))(
      '%s (no state machine): none',
      (type) => {
        expect(allowedOperations(ctx('reader'), res(type))).toEqual([]);
      },
    );

    it('a principal with no role gets nothing either', () => {
      expect(allowedOperations(ctx(), res('Machine', 'STARTED'))).toEqual([]);
      expect(allowedOperations(ctx(), res('MachineConfiguration'))).toEqual([]);
    });
  });

  describe.each<[string, Role[]]>([
    ['user', ['user']],
    ['admin', ['admin']],
    ['reader+user', ['reader', 'user']],
  ])('allowedOperations for %s', (_who, roles) => {
    const c = ctx(...roles);

    it.each(rows)('$type in $state: $ops', ({ type, state, ops }) => {
      const got = allowedOperations(c, res(type, state));
      expect(new Set(got).size).toBe(got.length);
      expect([...got].sort()).toEqual([...ops].sort());
    });

    it.each(rows)('$type in $state: never lists an internal guard action', ({ type, state }) => {
      const got = allowedOperations(c, res(type, state));
      for (const g of INTERNAL_GUARDS) expect(got).not.toContain(g);
    });

    it.each(rows)(
      '$type in $state: restart is listed before start (Deltacloud suite rule)',
      ({ type, state }) => {
        const got = allowedOperations(c, res(type, state));
        if (got.includes('restart') && got.includes('start'))
          expect(got.indexOf('restart')).toBeLessThan(got.indexOf('start'));
      },
    );

    it('lists capture whenever the Machine / Volume state allows it, and not otherwise', () => {
      expect(allowedOperations(c, res('Machine', 'STARTED'))).toContain('capture');
      expect(allowedOperations(c, res('Machine', 'STOPPED'))).toContain('capture');
      expect(allowedOperations(c, res('Volume', 'AVAILABLE'))).toContain('capture');
      expect(allowedOperations(c, res('Machine', 'ERROR'))).not.toContain('capture');
      expect(allowedOperations(c, res('Volume', 'ERROR'))).not.toContain('capture');
    });

    it('the guard actions exist in the tables (so filtering them out is really exercised)', () => {
      expect(descriptorOf('Machine').stateMachine!.actionsIn('STARTED')).toEqual(
        expect.arrayContaining(['attachVolume', 'detachVolume']),
      );
      expect(descriptorOf('Volume').stateMachine!.actionsIn('AVAILABLE')).toContain('attach');
      expect(descriptorOf('Network').stateMachine!.actionsIn('STARTED')).toContain('use');
      expect(descriptorOf('MachineImage').stateMachine!.actionsIn('AVAILABLE')).toContain('use');
    });

    it.each(['Machine', 'Volume', 'System'] as ResourceType[])('%s with no state gets nothing', (type) => {
      expect(allowedOperations(c, res(type, undefined))).toEqual([]);
    });

    it.each(RESOURCE_TYPES.filter((t) => !STATEFUL_TYPES.includes(t)))(
      '%s (no state machine): edit and delete',
      (type) => {
        expect(allowedOperations(c, res(type))).toEqual(['edit', 'delete']);
      },
    );

    it('MachineConfiguration gives [edit, delete] whatever its state field says', () => {
      expect(allowedOperations(c, res('MachineConfiguration'))).toEqual(['edit', 'delete']);
      expect(allowedOperations(c, res('MachineConfiguration', 'DELETING'))).toEqual(['edit', 'delete']);
    });
  });

  describe('which types have a state machine', () => {
    it('exactly Machine, MachineImage, Volume, VolumeImage, Network, NetworkPort and System', () => {
      const withSm = RESOURCE_TYPES.filter((t) => descriptorOf(t).stateMachine !== undefined);
      expect([...withSm].sort()).toEqual([...STATEFUL_TYPES].sort());
    });

    it.each(STATEFUL_TYPES)('the %s expectation covers every state of its table', (type) => {
      expect(Object.keys(OPERATIONS[type]).sort()).toEqual(
        [...descriptorOf(type).stateMachine!.states].sort(),
      );
    });
  });

  describe('allowedCollectionOperations', () => {
    it.each<[Role[], string[]]>([
      [['admin'], ['add']],
      [['user'], ['add']],
      [['reader'], []],
      [[], []],
    ])('roles %p → %p', (roles, ops) => {
      expect(allowedCollectionOperations(ctx(...roles))).toEqual(ops);
    });
  });
});
