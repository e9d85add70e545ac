/**
 * TLS: the authority serves plaintext only with `--tls off` on loopback; a plaintext request to
 * a TLS authority gets no service; and the client core refuses a certificate that is not the
 * pinned one, before sending anything — a session token never reaches an impostor.
 * (The CLI's own pinning, known_hosts and --trust are in tests/cli.)
 */
import { connect as tcpConnect } from 'node:net';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Authority } from '../../authority/src/server.js';
import { defaultConfig, parseCommandLine } from '../../authority/src/config.js';
import { Logger } from '../../authority/src/log.js';
import { ChandlerClient, type ClosedInfo } from '../../shared/client/index.js';
import { pinnedSocketFactory } from '../../cli/node-socket.js';
import { newClient, PASSWORD, reconnectedAfterCut, startAuthority, tempDir, uniqueName, type TestAuthority } from '../helpers/authority.js';
import { LOADED_MS, PROCESS_MS, processTestMs } from '../helpers/timing.js';
import { run, spawnAuthority } from '../helpers/process.js';
import { waitFor } from './support/util.js';

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority();
});
afterAll(async () => {
  await t.cleanup();
});

const WRONG_PIN = 'AB:'.repeat(31) + 'AB';

function pinnedClient(url: string, fingerprint: string | null): ChandlerClient {
  return new ChandlerClient({
    url,
    socketFactory: pinnedSocketFactory({ fingerprint }),
    clientVersion: 'tls-test/1',
    reconnect: { initialMs: 50, maxMs: 200 },
    requestTimeoutMs: LOADED_MS,
  });
}

/** Everything a server sends back to raw bytes, until it closes or goes quiet. */
function rawExchange(port: number, bytes: string, quietMs = 1500): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = tcpConnect(port, '127.0.0.1', () => socket.write(bytes));
    let timer = setTimeout(() => socket.destroy(), quietMs);
    socket.on('data', (d) => {
      chunks.push(d);
      clearTimeout(timer);
      timer = setTimeout(() => socket.destroy(), quietMs);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

describe('no plaintext', () => {
  it('refuses to start with --tls off on a non-loopback address, with a clear error', async () => {
    const dataDir = tempDir('chandler-tls-off-');
    try {
      // A short leash: were the check ever gone, the process would not sit listening on every interface.
      const r = await run('authority/src/main.ts', ['--tls', 'off', '--host', '0.0.0.0', '--port', '0', '--data', dataDir, '--no-console'], {}, PROCESS_MS);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--tls off is allowed only on a loopback address, not 0.0.0.0');
      expect(r.stdout).not.toContain('listening');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    // The same rule for every spelling of "not only this machine".
    for (const host of ['::', '192.168.1.10', '10.0.0.1', '127.0.0.1.nip.io', '[::1]', '::ffff:10.0.0.1', 'example.org']) {
      const cmd = parseCommandLine(['--tls', 'off', '--host', host], false);
      expect(cmd.kind, host).toBe('error');
    }
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) {
      const cmd = parseCommandLine(['--tls', 'off', '--host', host], false);
      expect(cmd.kind === 'serve' && cmd.config.tls, host).toBe(false);
    }
    // Without --tls off, TLS is on, whatever the host.
    const dflt = parseCommandLine(['--host', '0.0.0.0'], false);
    expect(dflt.kind === 'serve' && dflt.config.tls).toBe(true);
  });

  it('refuses plaintext on a non-loopback address however the config was built', async () => {
    const dataDir = tempDir('chandler-tls-off-');
    const log = new Logger(true);
    log.setSink(() => {});
    const a = new Authority(defaultConfig({ tls: false, host: '0.0.0.0', port: 0, dataDir, hashWorkers: 1 }), log);
    try {
      await expect(a.start()).rejects.toThrow(/plaintext is allowed only on a loopback address/);
    } finally {
      await a.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('serves ws:// with --tls off on loopback (the one exception)', async () => {
    const dataDir = tempDir('chandler-tls-off-');
    const auth = await spawnAuthority(['--tls', 'off', '--port', '0', '--data', dataDir, '--no-console', '--quiet']);
    try {
      expect(auth.url).toMatch(/^ws:\/\/127\.0\.0\.1:/);
      const c = pinnedClient(auth.url, null);
      expect((await c.register(uniqueName('plain'), PASSWORD)).ok).toBe(true);
      c.close();
    } finally {
      auth.proc.kill('SIGTERM');
      await auth.exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, processTestMs(1));

  it('gives a plaintext http:// or ws:// request to a TLS authority no service at all', async () => {
    const port = Number(new URL(t.url).port);
    const http = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    const upgrade = await rawExchange(
      port,
      'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    for (const reply of [http, upgrade]) {
      const text = reply.toString('latin1');
      expect(text).not.toMatch(/HTTP\/1\.[01]/);
      expect(text).not.toMatch(/<html|CHandler|Switching Protocols/i);
      // At most a TLS alert record (content type 21), never an application byte.
      if (reply.length > 0) expect(reply[0]).toBe(21);
    }
    // And the ws library over ws:// never opens.
    const ws = new WebSocket(t.url.replace(/^wss:/, 'ws:'));
    const outcome = await new Promise<string>((resolve) => {
      ws.once('open', () => resolve('open'));
      ws.once('error', () => resolve('error'));
      ws.once('close', () => resolve('closed'));
    });
    ws.terminate();
    expect(outcome).not.toBe('open');
    // The TLS service itself is unharmed.
    const c = newClient(t);
    expect((await c.register(uniqueName('afterplain'), PASSWORD)).ok).toBe(true);
    c.close();
  });
});

describe('certificate pinning in the client core', () => {
  it('refuses a wrong pin with CERT_MISMATCH naming both fingerprints, and sends nothing', async () => {
    const framesBefore = t.authority.counters.framesIn;
    const name = uniqueName('pinned');
    for (const pin of [WRONG_PIN, 'not a fingerprint at all']) {
      const c = pinnedClient(t.url, pin);
      const r = await c.register(name, PASSWORD);
      expect(!r.ok && r.error.code).toBe('CERT_MISMATCH');
      expect(!r.ok && r.error.message).toContain(t.fingerprint!);
      expect(c.status).not.toBe('reconnecting');
      c.close();
    }
    expect(t.authority.counters.framesIn).toBe(framesBefore);
    expect(t.authority.store.users.byName(name)).toBeUndefined();
    // The right pin, in any case and with or without colons, works.
    const ok = pinnedClient(t.url, t.fingerprint!.toLowerCase().replaceAll(':', ''));
    expect((await ok.register(name, PASSWORD)).ok).toBe(true);
    ok.close();
  });

  it('stops for good when the certificate changes under a live session: the token never reaches the impostor', async () => {
    const first = await startAuthority();
    const port = Number(new URL(first.url).port);
    const c = pinnedClient(first.url, first.fingerprint);
    expect((await c.register(uniqueName('victim'), PASSWORD)).ok).toBe(true);
    const closed: ClosedInfo[] = [];
    c.on('closed', (info) => closed.push(info));
    await first.cleanup();
    // Someone else answers on the same address with another certificate.
    const impostor = await startAuthority({ port });
    try {
      expect(impostor.fingerprint).not.toBe(first.fingerprint);
      await waitFor(() => c.status === 'closed', 'the client gives up', LOADED_MS);
      expect(closed[0]?.error?.code).toBe('CERT_MISMATCH');
      expect(closed[0]?.error?.message).toContain(impostor.fingerprint!);
      // No retry loop either: a client with the same backoff, cut by the other authority, is back first.
      const control = pinnedClient(t.url, t.fingerprint);
      expect((await control.register(uniqueName('control'), PASSWORD)).ok).toBe(true);
      await reconnectedAfterCut(t, control);
      control.close();
      expect(impostor.authority.counters.framesIn).toBe(0);
      expect(impostor.authority.hub.connections.size).toBe(0);
    } finally {
      c.close();
      await impostor.cleanup();
    }
  });
});
