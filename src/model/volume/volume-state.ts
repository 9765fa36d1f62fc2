import { GONE, PREVIOUS, StateMachine } from '../shared/state-machine';

/** Volume: CREATING, AVAILABLE, CAPTURING, DELETING, ERROR (1.0.1); RESTORING from 2.0 §5.15. */
export const VOLUME_STATES = ['CREATING', 'AVAILABLE', 'CAPTURING', 'RESTORING', 'DELETING', 'ERROR'] as const;
export type VolumeState = (typeof VOLUME_STATES)[number];

export const volumeStateMachine = new StateMachine<VolumeState>(
  'Volume',
  VOLUME_STATES,
  [
    { action: 'capture', from: ['AVAILABLE'], phases: [{ state: 'CAPTURING', step: 'capture' }], to: PREVIOUS },
    { action: 'restore', from: ['AVAILABLE', 'ERROR'], phases: [{ state: 'RESTORING', step: 'restore' }], to: 'AVAILABLE' },
    { action: 'delete', from: ['AVAILABLE', 'ERROR'], phases: [{ state: 'DELETING', step: 'delete' }], to: GONE },
    // a Volume can be attached only when it exists and is not mid-operation
    { action: 'attach', from: ['AVAILABLE'], phases: [], to: PREVIOUS },
    { action: 'edit', from: ['AVAILABLE', 'ERROR'], phases: [], to: PREVIOUS },
  ],
  ['AVAILABLE'],
  'AVAILABLE',
  'CREATING',
  'ERROR',
);

/** MachineImage and VolumeImage share the image life cycle: CREATING, AVAILABLE, DELETING, ERROR. */
export const IMAGE_STATES = ['CREATING', 'AVAILABLE', 'DELETING', 'ERROR'] as const;
export type ImageState = (typeof IMAGE_STATES)[number];

function imageMachine(type: string) {
  return new StateMachine<ImageState>(
    type,
    IMAGE_STATES,
    [
      { action: 'delete', from: ['AVAILABLE', 'ERROR'], phases: [{ state: 'DELETING', step: 'delete' }], to: GONE },
      { action: 'edit', from: ['AVAILABLE', 'ERROR'], phases: [], to: PREVIOUS },
      { action: 'use', from: ['AVAILABLE'], phases: [], to: PREVIOUS },
    ],
    ['AVAILABLE'],
    'AVAILABLE',
    'CREATING',
    'ERROR',
  );
}
export const machineImageStateMachine = imageMachine('MachineImage');
export const volumeImageStateMachine = imageMachine('VolumeImage');
