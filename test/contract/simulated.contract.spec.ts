import { SimulatedDriver } from '../../src/provider/simulated/simulated.driver';
import { driverContract } from './driver-contract';

let sim: SimulatedDriver;
driverContract({
  name: 'simulated',
  make: () => (sim = new SimulatedDriver({ latencyMs: 0, stepLatencyMs: {}, deterministic: true, faults: {}, observe: true })),
  imageLocation: async () => 'sim://base-image',
  outside: {
    powerOff: async (id) => sim.external('Machine', id, 'off'),
    remove: async (id) => sim.external('Machine', id, 'gone'),
  },
  availability: {
    down: async () => sim.setAvailable(false),
    up: async () => sim.setAvailable(true),
  },
});
