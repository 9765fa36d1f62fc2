import { meterSampleInterval, sampleDue } from './meter';

/** meter.ts sampleDue: a Meter's sampleInterval with half a sampler period of slack (DSP0263 2.0.0 Table 47) */
describe('sampleDue', () => {
  const at = new Date(1_700_000_000_000);
  const ago = (ms: number) => new Date(at.getTime() - ms);

  it('a first reading is always due', () => {
    expect(sampleDue({ sampleInterval: 2678400 }, undefined, at, 60)).toBe(true);
  });

  it('interval 60 s with a 60 s sampler: a reading a little early is kept, one half a period early or more is not', () => {
    expect(sampleDue({ sampleInterval: 60 }, ago(60_000), at, 60)).toBe(true);
    expect(sampleDue({ sampleInterval: 60 }, ago(59_900), at, 60)).toBe(true);
    expect(sampleDue({ sampleInterval: 60 }, ago(30_000), at, 60)).toBe(true);
    expect(sampleDue({ sampleInterval: 60 }, ago(29_999), at, 60)).toBe(false);
  });

  it('interval 300 s with a 60 s sampler: every fifth pass, not the fourth', () => {
    expect(sampleDue({ sampleInterval: 300 }, ago(240_000), at, 60)).toBe(false);
    expect(sampleDue({ sampleInterval: 300 }, ago(299_000), at, 60)).toBe(true);
  });

  it('without an interval of its own a Meter takes the sampler period (the same number every door shows)', () => {
    expect(meterSampleInterval({}, 60)).toBe(60);
    expect(meterSampleInterval({ sampleInterval: 120 }, 60)).toBe(120);
    expect(sampleDue({}, ago(59_000), at, 60)).toBe(true);
    expect(sampleDue({}, ago(20_000), at, 60)).toBe(false);
  });

  it('31 days in milliseconds stays exact', () => {
    expect(sampleDue({ sampleInterval: 2678400 }, ago(2678400_000 - 1), at, 60)).toBe(true);
    expect(sampleDue({ sampleInterval: 2678400 }, ago(2678400_000 - 30_001), at, 60)).toBe(false);
  });
});
