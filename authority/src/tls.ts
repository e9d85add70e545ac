/** The authority's certificate: a real one when configured, else self-signed in the data dir. */
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import selfsigned from 'selfsigned';

export const CERT_FILE = 'tls-cert.pem';
export const KEY_FILE = 'tls-key.pem';
const SELF_SIGNED_YEARS = 10;

export interface TlsMaterial {
  cert: string;
  key: string;
  /** SHA-256 of the certificate (DER), as colon-separated upper-case hex: what clients pin. */
  fingerprint: string;
  /** Base64 SHA-256 of the public key (SPKI): what Chromium's --ignore-certificate-errors-spki-list takes. */
  spkiHash: string;
  created: boolean;
}

export function describeCertificate(certPem: string): { fingerprint: string; spkiHash: string } {
  const x509 = new X509Certificate(certPem);
  const spki = x509.publicKey.export({ type: 'spki', format: 'der' });
  return { fingerprint: x509.fingerprint256, spkiHash: createHash('sha256').update(spki).digest('base64') };
}

export async function loadOrCreateTls(
  dataDir: string,
  files?: { certFile: string; keyFile: string },
): Promise<TlsMaterial> {
  if (files) {
    const cert = readFileSync(files.certFile, 'utf8');
    const key = readFileSync(files.keyFile, 'utf8');
    return { cert, key, ...describeCertificate(cert), created: false };
  }
  const certPath = join(dataDir, CERT_FILE);
  const keyPath = join(dataDir, KEY_FILE);
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cert = readFileSync(certPath, 'utf8');
    return { cert, key: readFileSync(keyPath, 'utf8'), ...describeCertificate(cert), created: false };
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore);
  notAfter.setFullYear(notAfter.getFullYear() + SELF_SIGNED_YEARS);
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'CHandler authority' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  writeFileSync(keyPath, pems.private, { mode: 0o600 });
  writeFileSync(certPath, pems.cert, { mode: 0o644 });
  return { cert: pems.cert, key: pems.private, ...describeCertificate(pems.cert), created: true };
}
