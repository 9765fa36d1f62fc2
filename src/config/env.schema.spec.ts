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

describe('TRUST_PROXY', () => {
  it('defaults to trusting no proxy, and reads true, hop counts and address lists', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::1' }).trustProxy).toEqual(['loopback', '10.0.0.0/8', 'fd00::1']);
  });

  it.each(['yes', '10.0.0.0/33', 'proxy.example.com', '10.0.0.1/8/1', ','])('refuses TRUST_PROXY=%s naming the variable', (value) => {
    expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(/TRUST_PROXY/);
  });
});
