/**
 * The GDPR export as the Electron main process fetches it for the page, against a real
 * authority over real TLS: the pinned certificate is checked before the session token is
 * written, a refused session and an oversized answer are told apart, and nothing is sent to a
 * server whose certificate is not the pinned one.
 */
import { createServer, type Server } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportUrl, fetchExport } from '../../desktop/src/main/export.js';
import { certificateFingerprint } from '../../desktop/src/main/pinning.js';
import { registered, startAuthority, uniqueName, type TestAuthority } from '../helpers/authority.js';
import type { ChandlerClient } from '../../shared/client/index.js';

let t: TestAuthority;
let me: ChandlerClient;
/** A TLS server with a certificate of its own, recording what reaches it. */
let other: Server;
let otherUrl: string;
let otherFingerprint: string;
const reached: Array<string | undefined> = [];

beforeAll(async () => {
  t = await startAuthority();
  me = await registered(t, uniqueName('exporter'));
  await me.settled(me.post('Général', 'mon message à exporter'));
  const stranger = await startAuthority();
  const material = stranger.authority.tlsMaterial!;
  await stranger.cleanup();
  otherFingerprint = certificateFingerprint(material.cert);
  other = createServer({ cert: material.cert, key: material.key }, (req, res) => {
    reached.push(req.headers.authorization);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
  });
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  otherUrl = `wss://127.0.0.1:${(other.address() as { port: number }).port}/ws`;
}, 60_000);

afterAll(async () => {
  me?.close();
  other?.close();
  await t?.cleanup();
});

describe('the export fetched by the main process', () => {
  it('is the https twin of the pinned socket address, and nothing else', () => {
    expect(exportUrl('wss://chat.corp.lan:7443/ws')?.href).toBe('https://chat.corp.lan:7443/api/export');
    expect(exportUrl('wss://[::1]:7443/ws')?.href).toBe('https://[::1]:7443/api/export');
    expect(exportUrl('ws://chat.corp.lan:7443/ws')).toBeNull();
    expect(exportUrl('not a url')).toBeNull();
  });

  it('brings back what the authority holds about the user, over the pinned certificate', async () => {
    const r = await fetchExport({ serverUrl: t.url, fingerprint: t.fingerprint!, token: me.session!.token });
    expect(r.ok).toBe(true);
    const data = JSON.parse((r as { body: string }).body) as { format: string; server: { account: { username: string }; roomMessages: { text: string }[] } };
    expect(data.format).toBe('chandler-export-v1');
    expect(data.server.account.username).toBe(me.username);
    expect(data.server.roomMessages.map((m) => m.text)).toContain('mon message à exporter');
  });

  it('tells a refused session and an oversized answer apart', async () => {
    expect(await fetchExport({ serverUrl: t.url, fingerprint: t.fingerprint!, token: 'A'.repeat(43) })).toEqual({ ok: false, reason: 'refused', status: 401 });
    expect(await fetchExport({ serverUrl: t.url, fingerprint: t.fingerprint!, token: me.session!.token, maxBytes: 64 })).toEqual({
      ok: false,
      reason: 'too-large',
    });
  });

  it('sends the token only to the pinned certificate', async () => {
    // The same server, pinned to another certificate: refused before any request is written.
    expect(await fetchExport({ serverUrl: otherUrl, fingerprint: t.fingerprint!, token: me.session!.token })).toEqual({ ok: false, reason: 'cert-mismatch' });
    expect(reached).toEqual([]);
    // The recording server itself answers once it is the pinned one: the check above is not vacuous.
    expect(otherFingerprint).not.toBe(t.fingerprint);
    expect(await fetchExport({ serverUrl: otherUrl, fingerprint: otherFingerprint, token: me.session!.token })).toEqual({ ok: true, body: '{}' });
    expect(reached).toEqual([`Bearer ${me.session!.token}`]);
  });

  it('says unreachable when no server listens', async () => {
    const port = (other.address() as { port: number }).port;
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    });
    expect(closed).not.toBe(port);
    expect(await fetchExport({ serverUrl: `wss://127.0.0.1:${closed}/ws`, fingerprint: t.fingerprint!, token: me.session!.token })).toEqual({
      ok: false,
      reason: 'unreachable',
    });
  });
});
