/**
 * Connections before the WebSocket upgrade: sockets per address are counted at TCP accept
 * (before TLS), so slow or silent sockets from one address cannot use up the descriptors;
 * a socket that never finishes TLS, or finishes it and never sends a request, is closed after
 * its (here shortened) deadline; so is a request whose headers drip forever, and a keep-alive
 * socket left idle.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { newClient, PASSWORD, startAuthority, uniqueName, type AuthorityOverrides, type TestAuthority } from '../helpers/authority.js';
import { waitFor } from './support/util.js';
import { LOADED_MS } from '../helpers/timing.js';

const started: TestAuthority[] = [];
const sockets: Socket[] = [];
async function authority(limits: AuthorityOverrides['limits']): Promise<TestAuthority> {
  const t = await startAuthority({ limits });
  started.push(t);
  return t;
}
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const t of started.splice(0)) await t.cleanup();
});

const portOf = (t: TestAuthority) => Number(new URL(t.url).port);

/** A raw TCP socket from `from` that sends nothing: a TLS handshake that never starts. */
function silentSocket(t: TestAuthority, from: string): { socket: Socket; closed: () => boolean; connected: Promise<void> } {
  const socket = netConnect({ host: '127.0.0.1', port: portOf(t), localAddress: from });
  sockets.push(socket);
  let isClosed = false;
  socket.on('error', () => {});
  socket.on('close', () => (isClosed = true));
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, closed: () => isClosed, connected };
}

describe('sockets per address at accept', () => {
  it('destroys raw sockets over the limit at once, and a client from another address still logs in', async () => {
    const t = await authority({ socketsPerIp: 5, tlsHandshakeMs: LOADED_MS * 4, firstRequestMs: LOADED_MS * 4 });
    const held = Array.from({ length: 5 }, () => silentSocket(t, '127.0.0.2'));
    await Promise.all(held.map((s) => s.connected));
    await waitFor(() => t.authority.openSockets === 5, 'the five are counted', LOADED_MS);
    const extra = Array.from({ length: 5 }, () => silentSocket(t, '127.0.0.2'));
    // The extra five are closed by the server although they never sent a byte.
    await waitFor(() => extra.every((s) => s.closed()), 'the sockets over the limit are closed', LOADED_MS);
    expect(held.filter((s) => s.closed())).toHaveLength(0);
    expect(t.logs.some((l) => l.includes('sockets_refused') && l.includes('limit=per_address'))).toBe(true);
    // Another address is not affected.
    const name = uniqueName('accept');
    const c = newClient(t);
    expect((await c.register(name, PASSWORD)).ok).toBe(true);
    c.close();
    const again = newClient(t);
    expect((await again.login(name, PASSWORD)).ok).toBe(true);
    again.close();
  });

  it('limits how fast one address opens sockets (each is a TLS handshake), not the others', async () => {
    const t = await authority({
      newSocketsPerSecondPerIp: 0.01,
      newSocketBurstPerIp: 3,
      tlsHandshakeMs: LOADED_MS * 4,
      firstRequestMs: LOADED_MS * 4,
    });
    const first = Array.from({ length: 3 }, () => silentSocket(t, '127.0.0.6'));
    await Promise.all(first.map((s) => s.connected));
    await waitFor(() => t.authority.openSockets === 3, 'the burst is let in', LOADED_MS);
    // A reconnect loop: each new socket past the burst is destroyed at accept, before any TLS.
    const loop = Array.from({ length: 5 }, () => silentSocket(t, '127.0.0.6'));
    await waitFor(() => loop.every((s) => s.closed()), 'the sockets over the rate are closed', LOADED_MS);
    expect(first.filter((s) => s.closed())).toHaveLength(0);
    expect(t.logs.some((l) => l.includes('sockets_refused') && l.includes('limit=rate'))).toBe(true);
    const c = newClient(t, { localAddress: '127.0.0.7' });
    expect((await c.register(uniqueName('rate'), PASSWORD)).ok).toBe(true);
    c.close();
  });

  it('does not limit the rate of an address declared shared (--ban-exempt: a NAT gateway)', async () => {
    const t = await startAuthority({
      banExempt: ['127.0.9.0/24'],
      limits: { newSocketsPerSecondPerIp: 0.01, newSocketBurstPerIp: 3, tlsHandshakeMs: LOADED_MS * 4, firstRequestMs: LOADED_MS * 4 },
    });
    started.push(t);
    const office = Array.from({ length: 8 }, () => silentSocket(t, '127.0.9.1'));
    await Promise.all(office.map((s) => s.connected));
    await waitFor(() => t.authority.openSockets === 8, 'all eight are let in', LOADED_MS);
    expect(office.filter((s) => s.closed())).toHaveLength(0);
  });

  it('caps the sockets of all addresses together', async () => {
    const t = await authority({ socketsPerIp: 100, maxSockets: 3, tlsHandshakeMs: LOADED_MS * 4 });
    const held = [silentSocket(t, '127.0.0.2'), silentSocket(t, '127.0.0.3'), silentSocket(t, '127.0.0.4')];
    await Promise.all(held.map((s) => s.connected));
    const extra = silentSocket(t, '127.0.0.5');
    await waitFor(() => extra.closed(), 'the socket over the total is closed', LOADED_MS);
    expect(held.filter((s) => s.closed())).toHaveLength(0);
    // One leaves: a new one is admitted (it is then closed only by the handshake deadline, not at once).
    held[0]!.socket.destroy();
    await waitFor(() => t.authority.openSockets === 2, 'the server sees one leave', LOADED_MS);
    const next = silentSocket(t, '127.0.0.5');
    await next.connected;
    await waitFor(() => t.authority.openSockets === 3, 'the new one is counted', LOADED_MS);
    expect(next.closed()).toBe(false);
  });
});

describe('deadlines before the upgrade', () => {
  it('closes a socket that never finishes the TLS handshake', async () => {
    const t = await authority({ tlsHandshakeMs: 300 });
    const s = silentSocket(t, '127.0.0.2');
    await s.connected;
    await waitFor(() => s.closed(), 'the silent socket is closed by the handshake deadline', LOADED_MS);
    expect(t.authority.openSockets).toBe(0);
  });

  it('closes a socket that completed TLS but never sends a request or upgrades', async () => {
    const t = await authority({ firstRequestMs: 300 });
    // tls.connect's types lack localAddress: the TCP socket is made first, from its own address.
    const tcp = netConnect({ host: '127.0.0.1', port: portOf(t), localAddress: '127.0.0.2' });
    const socket = tlsConnect({ socket: tcp, rejectUnauthorized: false });
    sockets.push(socket);
    let closed = false;
    socket.on('error', () => {});
    socket.on('close', () => (closed = true));
    await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
    await waitFor(() => closed, 'the idle TLS socket is closed', LOADED_MS);
    expect(t.authority.openSockets).toBe(0);
  });

  /** A TLS socket from its own address whose handshake is done, with what the server sent kept. */
  async function tlsSocket(t: TestAuthority, from: string) {
    const tcp = netConnect({ host: '127.0.0.1', port: portOf(t), localAddress: from });
    const socket = tlsConnect({ socket: tcp, rejectUnauthorized: false });
    sockets.push(socket);
    const state = { closed: false, received: '' };
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => (state.received += d.toString('latin1')));
    socket.on('close', () => (state.closed = true));
    await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
    return { socket, state };
  }

  it('closes a request whose headers never end, however slowly they drip (slowloris)', async () => {
    const t = await authority({ requestHeadersMs: 400, firstRequestMs: LOADED_MS * 4 });
    const { socket, state } = await tlsSocket(t, '127.0.0.3');
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => !state.closed && socket.write('X-Slow: still here\r\n'), 100);
    try {
      await waitFor(() => state.closed, 'the dripping request is closed', LOADED_MS);
    } finally {
      clearInterval(drip);
    }
    expect(state.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(t.authority.openSockets).toBe(0);
  });

  it('closes a keep-alive socket left idle after its response', async () => {
    const t = await authority({ keepAliveMs: 300, firstRequestMs: LOADED_MS * 4 });
    const { socket, state } = await tlsSocket(t, '127.0.0.4');
    socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => state.received.includes('{"ok":true}'), 'the health answer', LOADED_MS);
    await waitFor(() => state.closed, 'the idle keep-alive socket is closed', LOADED_MS);
    expect(t.authority.openSockets).toBe(0);
  });
});
