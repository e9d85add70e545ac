/**
 * HTTPS GET to the authority with its certificate pinned: the TLS connection is made and its
 * fingerprint checked first, and only then is the request (which carries the session token)
 * written on that same connection.
 */
import { request } from 'node:https';
import { connect, type TLSSocket } from 'node:tls';
import { normalizeFingerprint } from '../shared/protocol/index.js';

export type PinnedGetResult =
  | { ok: true; status: number; body: string }
  | { ok: false; code: 'CERT_MISMATCH' | 'DISCONNECTED'; message: string };

const CONNECT_TIMEOUT_MS = 10_000;

export async function pinnedGet(url: URL, fingerprint: string | null, headers: Record<string, string>): Promise<PinnedGetResult> {
  const port = Number(url.port || 443);
  const expected = fingerprint === null ? null : normalizeFingerprint(fingerprint);
  const socket = await new Promise<TLSSocket | Error>((resolve) => {
    const s = connect({ host: url.hostname, port, servername: url.hostname.match(/^[\d.]+$|:/) ? undefined : url.hostname, rejectUnauthorized: false });
    const timer = setTimeout(() => s.destroy(new Error('timed out')), CONNECT_TIMEOUT_MS);
    s.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      resolve(e);
    });
  });
  if (socket instanceof Error) return { ok: false, code: 'DISCONNECTED', message: `cannot reach ${url.host}: ${socket.message}` };
  const actual = socket.getPeerCertificate().fingerprint256;
  if (url.protocol === 'https:' && expected !== null && actual !== expected) {
    socket.destroy();
    return { ok: false, code: 'CERT_MISMATCH', message: `certificate fingerprint ${actual} is not the pinned ${expected}` };
  }
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', headers, createConnection: () => socket }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ ok: true, status: res.statusCode ?? 0, body }));
    });
    req.on('error', (e) => resolve({ ok: false, code: 'DISCONNECTED', message: e.message }));
    req.end();
  });
}
