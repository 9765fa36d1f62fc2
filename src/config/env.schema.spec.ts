import { ConfigError, loadConfig } from './env.schema';

describe('WS-Security settings', () => {
  it('default to a 60 s skew, a 300 s maximum age and no SHA-1', () => {
    const cfg = loadConfig({});
    expect([cfg.WSS_CLOCK_SKEW_SECONDS, cfg.WSS_MAX_AGE_SECONDS, cfg.WSS_ALLOW_SHA1]).toEqual([60, 300, false]);
  });

  it('read numbers and booleans from the environment', () => {
    const cfg = loadConfig({ WSS_CLOCK_SKEW_SECONDS: '5', WSS_MAX_AGE_SECONDS: '600', WSS_ALLOW_SHA1: 'true' });
    expect([cfg.WSS_CLOCK_SKEW_SECONDS, cfg.WSS_MAX_AGE_SECONDS, cfg.WSS_ALLOW_SHA1]).toEqual([5, 600, true]);
  });

  it.each([
    ['WSS_CLOCK_SKEW_SECONDS', '-1'],
    ['WSS_CLOCK_SKEW_SECONDS', 'soon'],
    ['WSS_MAX_AGE_SECONDS', '5'],
    ['WSS_MAX_AGE_SECONDS', '999999'],
    ['WSS_ALLOW_SHA1', 'maybe'],
  ])('refuse %s=%s naming the variable', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [key]: value })).toThrow(new RegExp(key));
  });
});
