import { GONE, PREVIOUS, type StateMachine } from '../shared/state-machine';
import { allowedFrom, describeTransitionTable, type Expected, type Outcome } from '../../../test/support/state-table';
import {
  IMAGE_STATES,
  VOLUME_STATES,
  machineImageStateMachine,
  volumeImageStateMachine,
  volumeStateMachine,
} from './volume-state';

/**
 * Volume (DSP0263 1.0.1 / 2.0.0 §5.15: CREATING, AVAILABLE, CAPTURING, DELETING, ERROR; RESTORING from 2.0) and the
 * shared image life cycle of MachineImage / VolumeImage (CREATING, AVAILABLE, DELETING, ERROR), written out as the
 * specification independently of the tables under test.
 */

const GUARD: Outcome = { via: [], to: PREVIOUS };
const DELETE: Outcome = { via: ['DELETING(delete)'], to: GONE };

const VOLUME_EXPECTED: Expected = {
  // capture: CAPTURING while the VolumeImage is taken, then back to where it was
  capture: allowedFrom(['AVAILABLE'], { via: ['CAPTURING(capture)'], to: PREVIOUS }),
  restore: allowedFrom(['AVAILABLE', 'ERROR'], { via: ['RESTORING(restore)'], to: 'AVAILABLE' }),
  delete: allowedFrom(['AVAILABLE', 'ERROR'], DELETE),
  // attach (to a Machine) is a synchronous guard: only an AVAILABLE Volume can be attached
  attach: allowedFrom(['AVAILABLE'], GUARD),
  edit: allowedFrom(['AVAILABLE', 'ERROR'], GUARD),
};

const IMAGE_EXPECTED: Expected = {
  delete: allowedFrom(['AVAILABLE', 'ERROR'], DELETE),
  edit: allowedFrom(['AVAILABLE', 'ERROR'], GUARD),
  // use (as the image of a new Machine / Volume) needs an AVAILABLE image
  use: allowedFrom(['AVAILABLE'], GUARD),
};

const UNKNOWN_ACTIONS = ['start', 'stop', 'detach', 'snapshot', 'Capture', ''];

describe('Volume state machine', () => {
  const sm = volumeStateMachine as unknown as StateMachine<string>;
  const TRANSIENT = ['CREATING', 'CAPTURING', 'RESTORING', 'DELETING'];

  it('has the Volume states in order', () => {
    expect(VOLUME_STATES).toEqual(['CREATING', 'AVAILABLE', 'CAPTURING', 'RESTORING', 'DELETING', 'ERROR']);
    expect(sm.states).toEqual(VOLUME_STATES);
  });

  it('is created into AVAILABLE through CREATING, fails into ERROR', () => {
    expect(sm.resourceType).toBe('Volume');
    expect(sm.initialStates).toEqual(['AVAILABLE']);
    expect(sm.defaultInitialState).toBe('AVAILABLE');
    expect(sm.creating).toBe('CREATING');
    expect(sm.errorState).toBe('ERROR');
  });

  describeTransitionTable(sm, {
    states: VOLUME_STATES,
    expected: VOLUME_EXPECTED,
    unknownActions: UNKNOWN_ACTIONS,
    transient: TRANSIENT,
    foreignStates: [undefined, 'STARTED', 'available'],
    id: 'v-1',
  });

  it('attach is a synchronous guard that never changes the state', () => {
    const r = sm.require('attach', 'AVAILABLE', 'v-1');
    expect(r.phases).toEqual([]);
    expect(r.to).toBe(PREVIOUS);
  });
});

describe.each([
  ['MachineImage', machineImageStateMachine],
  ['VolumeImage', volumeImageStateMachine],
])('%s state machine (image life cycle)', (type, machine) => {
  const sm = machine as unknown as StateMachine<string>;
  const TRANSIENT = ['CREATING', 'DELETING'];

  it('has the image states in order', () => {
    expect(IMAGE_STATES).toEqual(['CREATING', 'AVAILABLE', 'DELETING', 'ERROR']);
    expect(sm.states).toEqual(IMAGE_STATES);
  });

  it(`is the ${type} table, created into AVAILABLE through CREATING, failing into ERROR`, () => {
    expect(sm.resourceType).toBe(type);
    expect(sm.initialStates).toEqual(['AVAILABLE']);
    expect(sm.defaultInitialState).toBe('AVAILABLE');
    expect(sm.creating).toBe('CREATING');
    expect(sm.errorState).toBe('ERROR');
  });

  describeTransitionTable(sm, {
    states: IMAGE_STATES,
    expected: IMAGE_EXPECTED,
    unknownActions: UNKNOWN_ACTIONS,
    transient: TRANSIENT,
    foreignStates: [undefined, 'STARTED', 'CAPTURING', 'available'],
    id: 'i-1',
  });

  it('capture is not an image operation (images are captured from Machines / Volumes)', () => {
    for (const s of IMAGE_STATES) expect(sm.can('capture', s)).toBe(false);
  });
});

describe('image tables', () => {
  it('MachineImage and VolumeImage are separate instances with their own resource type', () => {
    expect(machineImageStateMachine).not.toBe(volumeImageStateMachine);
    expect(machineImageStateMachine.resourceType).toBe('MachineImage');
    expect(volumeImageStateMachine.resourceType).toBe('VolumeImage');
  });
});
