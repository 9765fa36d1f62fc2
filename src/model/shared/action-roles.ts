/**
 * What each state-machine action is to a client (the tables in src/model/<type>/<type>-state.ts list them all):
 * an operation of its own, a spelling of update/delete, a guard other operations check (`use` of a template,
 * `attach` of a Volume), a Machine sub-collection operation (attach/detachVolume), or an image create with
 * `captureOf` (DSP0263 2.0.0 §5.14.1.2).
 */
export type ActionRole = 'operation' | 'update' | 'delete' | 'guard' | 'child' | 'image-create';

const ACTION_ROLES: Readonly<Record<string, ActionRole>> = {
  edit: 'update',
  delete: 'delete',
  use: 'guard',
  attach: 'guard',
  attachVolume: 'child',
  detachVolume: 'child',
  capture: 'image-create',
};

export function actionRole(action: string): ActionRole {
  return ACTION_ROLES[action] ?? 'operation';
}

/** State-machine actions that are not operations of their own (see `ActionRole`). */
export const NON_OPERATION_ACTIONS: ReadonlySet<string> = new Set(Object.keys(ACTION_ROLES));
