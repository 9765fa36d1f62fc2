import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * The gateway's one secret, from which every purpose gets its own key (HKDF, RFC 5869): sealing the copy of a
 * password that digest schemes need (HTTP Digest RFC 7616 and WSS UsernameToken PasswordDigest both hash the
 * password itself, which a one-way scrypt hash cannot serve), and MACs for stateless nonces that every gateway
 * process sharing the database accepts.
 */
export class Keyring {
  constructor(private readonly master: Buffer) {
    if (master.length < 32) throw new Error('the gateway secret key needs at least 32 bytes');
  }

  private key(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.master, Buffer.alloc(0), `cimi-gateway:${purpose}`, 32));
  }

  /** AES-256-GCM; `v1$iv$tag$ciphertext` (base64url) so the format can change later. */
  seal(plain: string, purpose = 'password'): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key(purpose), iv);
    const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return ['v1', iv, c.getAuthTag(), ct].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('$');
  }

  /** undefined when the value was sealed with another key or altered */
  open(sealed: string, purpose = 'password'): string | undefined {
    const [v, iv, tag, ct] = sealed.split('$');
    if (v !== 'v1' || !iv || !tag || ct === undefined) return undefined;
    try {
      const d = createDecipheriv('aes-256-gcm', this.key(purpose), Buffer.from(iv, 'base64url'));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }

  mac(purpose: string, data: string | Buffer): Buffer {
    return createHmac('sha256', this.key(`mac:${purpose}`)).update(data).digest();
  }
}

export const KEYRING = Symbol('KEYRING');
