/**
 * The GDPR export, fetched for the page: GET /api/export from the pinned authority with the
 * user's session token. The TLS connection is made and its certificate checked against the
 * pinned fingerprint first; only then is the request, which carries the token, written on it.
 * Done here rather than in the page because the page's origin (app://) may not read an https
 * response that carries no CORS headers.
 */
import { request } from 'node:https';
import { isIP } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { normalizeFingerprint } from '../../../shared/protocol/fingerprint.js';
import { IPC_LIMITS, type ExportDataResult } from '../ipc/contract.js';

export const EXPORT_PATH = '/api/export';
export const EXPORT_CONNECT_TIMEOUT_MS = 10_000;
/** The whole exchange, once connected: a large history takes the server a moment to write. */
export const EXPORT_RESPONSE_TIMEOUT_MS = 120_000;

/** https://host:port/api/export for the authority at wss://host:port/ws; null for anything else. */
export function exportUrl(serverUrl: string): URL | null {
  let u: URL;
  try {
    u = new URL(serverUrl);
  } catch {
    return null;
  }
  if (u.protocol !== 'wss:') return null;
  return new URL(EXPORT_PATH, `https://${u.host}`);
}

function connectPinned(url: URL): Promise<TLSSocket | Error> {
  return new Promise((resolve) => {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const socket = connect({
      host,
      port: Number(url.port || 443),
      servername: isIP(host) ? undefined : host,
      // Trust comes from the pinned fingerprint checked below, not from a CA.
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => socket.destroy(new Error('timed out')), EXPORT_CONNECT_TIMEOUT_MS);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      resolve(err);
    });
  });
}

export async function fetchExport(options: {
  serverUrl: string;
  fingerprint: string;
  token: string;
  maxBytes?: number;
}): Promise<ExportDataResult> {
  const url = exportUrl(options.serverUrl);
  if (!url) return { ok: false, reason: 'no-server' };
  const maxBytes = options.maxBytes ?? IPC_LIMITS.exportMaxBytes;
  const socket = await connectPinned(url);
  if (socket instanceof Error) return { ok: false, reason: 'unreachable' };
  const got = socket.getPeerX509Certificate()?.fingerprint256.toUpperCase();
  if (!got || got !== normalizeFingerprint(options.fingerprint)) {
    socket.destroy();
    return { ok: false, reason: 'cert-mismatch' };
  }
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: ExportDataResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, reason: 'unreachable' }), EXPORT_RESPONSE_TIMEOUT_MS);
    const req = request(
      url,
      { method: 'GET', headers: { Authorization: `Bearer ${options.token}`, Accept: 'application/json' }, createConnection: () => socket },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          res.resume();
          done({ ok: false, reason: 'refused', status });
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) done({ ok: false, reason: 'too-large' });
          else chunks.push(chunk);
        });
        res.on('end', () => done({ ok: true, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', () => done({ ok: false, reason: 'unreachable' }));
      },
    );
    req.on('error', () => done({ ok: false, reason: 'unreachable' }));
    req.end();
  });
}
