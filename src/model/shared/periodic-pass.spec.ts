import { Logger } from '@nestjs/common';
import { ProviderError } from '../provider/provider-driver';
import { PeriodicPass } from './periodic-pass';

describe('PeriodicPass', () => {
  const log = new Logger('test');
  beforeEach(() => jest.spyOn(log, 'error').mockImplementation(() => undefined));

  it('runs one pass at a time: a call during a pass gets that pass', async () => {
    let release!: (n: number) => void;
    let calls = 0;
    const p = new PeriodicPass('p', log, () => (calls++, new Promise<number>((r) => (release = r))));
    const a = p.run();
    const b = p.run();
    expect(b).toBe(a);
    release(3);
    expect(await a).toBe(3);
    expect(calls).toBe(1);
    void p.run();
    expect(calls).toBe(2);
    release(0);
  });

  it('logs a failed pass as 0, but not an unreachable backend', async () => {
    const fail = new PeriodicPass('p', log, () => Promise.reject(new Error('boom')));
    expect(await fail.run()).toBe(0);
    expect(log.error).toHaveBeenCalledWith('p failed: boom');
    (log.error as jest.Mock).mockClear();
    const down = new PeriodicPass('p', log, () => Promise.reject(new ProviderError('down', false, true)));
    expect(await down.run()).toBe(0);
    expect(log.error).not.toHaveBeenCalled();
  });

  it('stop waits for the pass in flight, ends the timer, and nothing runs after it', async () => {
    jest.useFakeTimers();
    try {
      let release!: (n: number) => void;
      let calls = 0;
      const p = new PeriodicPass('p', log, () => (calls++, new Promise<number>((r) => (release = r))));
      p.every(100);
      p.every(100);
      jest.advanceTimersByTime(100);
      expect(calls).toBe(1);
      let stopped = false;
      const stopping = p.stop().then(() => (stopped = true));
      await Promise.resolve();
      expect(stopped).toBe(false);
      release(1);
      await stopping;
      jest.advanceTimersByTime(1000);
      expect({ calls, again: await p.run(), scheduled: p.scheduled }).toEqual({ calls: 1, again: 0, scheduled: false });
    } finally {
      jest.useRealTimers();
    }
  });
});
