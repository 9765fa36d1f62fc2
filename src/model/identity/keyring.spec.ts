import { randomBytes } from 'node:crypto';
import { Keyring } from './keyring';

describe('Keyring', () => {
  const k = new Keyring(randomBytes(32));

  it('opens what it sealed, per purpose', () => {
    const s = k.seal('pässword-1');
    expect(s).not.toContain('pässword');
    expect(k.open(s)).toBe('pässword-1');
    expect(k.open(s, 'other')).toBeUndefined();
  });

  it('refuses altered values and values sealed under another key', () => {
    const s = k.seal('secret-pw');
    const parts = s.split('$');
    parts[3] = Buffer.from('x').toString('base64url') + parts[3].slice(2);
    expect(k.open(parts.join('$'))).toBeUndefined();
    expect(new Keyring(randomBytes(32)).open(s)).toBeUndefined();
    expect(k.open('garbage')).toBeUndefined();
  });

  it('derives distinct MACs per purpose and refuses short keys', () => {
    expect(k.mac('a', 'x').equals(k.mac('a', 'x'))).toBe(true);
    expect(k.mac('a', 'x').equals(k.mac('b', 'x'))).toBe(false);
    expect(() => new Keyring(randomBytes(16))).toThrow(/32 bytes/);
  });
});
