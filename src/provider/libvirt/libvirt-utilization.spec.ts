import { kibToKb, machineValues } from './libvirt.driver';

/** Review finding (issue 14 §1): the memory meters are KB (1000 bytes) while libvirt's balloon statistics are KiB. */
describe('libvirt memory metrics', () => {
  it('converts the balloon KiB to KB (1000 bytes)', () => {
    expect(kibToKb(1000)).toBe(1024);
    // 64000 KiB = 65 536 000 bytes = 65 536 KB
    const v = machineValues({ 'cpu.time': 5, 'balloon.current': 64000, 'balloon.available': 60000, 'balloon.unused': 10000 });
    expect(v).toEqual({ 'cpu.time': 5, 'memory.total': 65536, 'memory.used': 51200 });
  });

  it('falls back to the resident size, at most the total, in KB too', () => {
    expect(machineValues({ 'balloon.current': 1000, 'balloon.rss': 2000 })).toEqual({ 'memory.total': 1024, 'memory.used': 1024 });
    expect(machineValues({ 'balloon.current': 1000, 'balloon.rss': 500 })).toEqual({ 'memory.total': 1024, 'memory.used': 512 });
  });
});
