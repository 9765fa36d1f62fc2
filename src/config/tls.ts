import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { X509Certificate } from 'node:crypto';

/** The TLS files (README "TLS"): PEM server certificate (chain), its key, and optionally the client CAs. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  clientCaFile?: string;
}

/**
 * The files read and checked as a secure context (certificate and key parse and belong together, the CA file holds
 * certificates). Throws an Error naming the variable; called at boot (a ConfigError) and on every reload (SIGHUP),
 * where a bad file keeps the context in use.
 */
export function readTls(files: TlsFiles): SecureContextOptions {
  const read = (name: string, file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`${name}=${JSON.stringify(file)}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
  const cert = read('TLS_CERT_FILE', files.certFile);
  const key = read('TLS_KEY_FILE', files.keyFile);
  const ca = files.clientCaFile ? read('TLS_CLIENT_CA_FILE', files.clientCaFile) : undefined;
  const pemCert = (name: string, file: string, text: string) => {
    try {
      new X509Certificate(text);
    } catch {
      throw new Error(`${name}=${JSON.stringify(file)}: not a PEM certificate`);
    }
  };
  pemCert('TLS_CERT_FILE', files.certFile, cert);
  if (ca !== undefined) pemCert('TLS_CLIENT_CA_FILE', files.clientCaFile!, ca);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) throw new Error(`TLS_KEY_FILE=${JSON.stringify(files.keyFile)}: not a PEM private key`);
  const options: SecureContextOptions = { cert, key, ...(ca !== undefined ? { ca } : {}) };
  try {
    createSecureContext(options);
  } catch (e) {
    throw new Error(`TLS_CERT_FILE/TLS_KEY_FILE: not usable together (${(e as Error).message})`);
  }
  return options;
}
