import {
  FINAL_JOB_STATES,
  JOB_STATES,
  JOB_TRANSITIONS,
  canJob,
  isFinalJobState,
  nextJobState,
  type JobEvent,
  type JobState,
} from './job-state';

/**
 * Job life cycle (DSP0263 2.0.0 Table 46 states): QUEUED -claim-> RUNNING -succeed-> SUCCESS | -fail-> FAILED;
 * stop: QUEUED|RUNNING -> STOPPING -stopped-> STOPPED. A RUNNING job is claimed again after its lease expires.
 * The table below is the specification, written out independently of JOB_TRANSITIONS.
 */
const EXPECTED: Record<JobEvent, Partial<Record<JobState, JobState>>> = {
  claim: { QUEUED: 'RUNNING', RUNNING: 'RUNNING' },
  // a stop that arrives while the last step completes loses the race: the work is done
  succeed: { RUNNING: 'SUCCESS', STOPPING: 'SUCCESS' },
  fail: { QUEUED: 'FAILED', RUNNING: 'FAILED', STOPPING: 'FAILED' },
  stop: { QUEUED: 'STOPPING', RUNNING: 'STOPPING' },
  stopped: { STOPPING: 'STOPPED' },
};
const EVENTS = Object.keys(EXPECTED) as JobEvent[];

describe('Job state machine', () => {
  it('has the six DSP0263 Job states', () => {
    expect(JOB_STATES).toEqual(['QUEUED', 'RUNNING', 'SUCCESS', 'FAILED', 'STOPPING', 'STOPPED']);
  });

  it('knows exactly the events of the specification', () => {
    expect(Object.keys(JOB_TRANSITIONS).sort()).toEqual([...EVENTS].sort());
  });

  describe('every (event × state) pair', () => {
    const pairs = EVENTS.flatMap((event) =>
      JOB_STATES.map((state) => {
        const to = EXPECTED[event][state];
        return { event, state, to, verdict: to ? `→ ${to}` : 'refused' };
      }),
    );

    it('covers 5 events × 6 states', () => {
      expect(pairs).toHaveLength(30);
    });

    it.each(pairs)('$event from $state: $verdict', ({ event, state, to }) => {
      expect(canJob(event, state)).toBe(to !== undefined);
      if (to) {
        expect(nextJobState(event, state)).toBe(to);
      } else {
        expect(() => nextJobState(event, state)).toThrow(`job cannot ${event} from ${state}`);
      }
    });
  });

  describe('final states', () => {
    it.each<[JobState, boolean]>([
      ['QUEUED', false],
      ['RUNNING', false],
      ['SUCCESS', true],
      ['FAILED', true],
      ['STOPPING', false],
      ['STOPPED', true],
    ])('isFinalJobState(%s) is %p', (state, final) => {
      expect(isFinalJobState(state)).toBe(final);
    });

    it('FINAL_JOB_STATES is SUCCESS, FAILED, STOPPED', () => {
      expect([...FINAL_JOB_STATES].sort()).toEqual(['FAILED', 'STOPPED', 'SUCCESS']);
    });

    it.each(['SUCCESS', 'FAILED', 'STOPPED'] as JobState[])('no event leaves the final state %s', (state) => {
      for (const event of EVENTS) expect(canJob(event, state)).toBe(false);
    });

    it('every final state is reachable, and only through its own event', () => {
      const reach: Record<string, string[]> = {};
      for (const e of EVENTS) (reach[JOB_TRANSITIONS[e].to] ??= []).push(e);
      expect(reach.SUCCESS).toEqual(['succeed']);
      expect(reach.FAILED).toEqual(['fail']);
      expect(reach.STOPPED).toEqual(['stopped']);
    });
  });

  describe('paths', () => {
    const run = (start: JobState, events: JobEvent[]) =>
      events.reduce<JobState>((s, e) => nextJobState(e, s), start);

    it.each<[string, JobEvent[], JobState]>([
      ['claimed and succeeds', ['claim', 'succeed'], 'SUCCESS'],
      ['claimed and fails', ['claim', 'fail'], 'FAILED'],
      ['reclaimed after a lost lease, then succeeds', ['claim', 'claim', 'succeed'], 'SUCCESS'],
      ['stopped while queued', ['stop', 'stopped'], 'STOPPED'],
      ['stopped while running', ['claim', 'stop', 'stopped'], 'STOPPED'],
      ['fails while stopping', ['claim', 'stop', 'fail'], 'FAILED'],
      ['abandoned before running', ['fail'], 'FAILED'],
    ])('a QUEUED job %s ends %s', (_what, events, end) => {
      expect(run('QUEUED', events)).toBe(end);
    });

    it.each<[string, JobEvent[]]>([
      ['succeed before being claimed', ['succeed']],
      ['stop twice', ['stop', 'stop']],
      ['claim while stopping', ['stop', 'claim']],
      ['succeed after success', ['claim', 'succeed', 'succeed']],
      ['stop after it failed', ['claim', 'fail', 'stop']],
    ])('a QUEUED job cannot %s', (_what, events) => {
      expect(() => run('QUEUED', events)).toThrow(/^job cannot /);
    });
  });
});
