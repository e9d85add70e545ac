/** Hostile and malformed frames straight on the socket: typed errors or clear close codes, no crash, no damage. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startLogin, startRegistration } from '../../shared/crypto/opaque.js';
import { CLOSE_CODES, LIMITS } from '../../shared/protocol/index.js';
import { registered, startAuthority, type TestAuthority } from '../helpers/authority.js';

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority();
});
afterAll(async () => {
  await t.cleanup();
});

interface Raw {
  ws: WebSocket;
  frames: unknown[];
  closed: Promise<{ code: number; reason: string }>;
  next(): Promise<Record<string, unknown>>;
}

async function raw(): Promise<Raw> {
  const ws = new WebSocket(t.url, { rejectUnauthorized: false });
  const frames: unknown[] = [];
  const waiters: ((f: unknown) => void)[] = [];
  ws.on('message', (d) => {
    const f = JSON.parse(d.toString());
    const w = waiters.shift();
    if (w) w(f);
    else frames.push(f);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise((r, j) => {
    ws.once('open', r);
    ws.once('error', j);
  });
  return {
    ws,
    frames,
    closed,
    next: () =>
      new Promise((resolve) => {
        if (frames.length) resolve(frames.shift() as Record<string, unknown>);
        else waiters.push((f) => resolve(f as Record<string, unknown>));
      }),
  };
}

async function errorCodeFor(r: Raw, frame: string): Promise<unknown> {
  r.ws.send(frame);
  const reply = await r.next();
  return (reply.error as { code?: string } | undefined)?.code ?? 'ok';
}

describe('bad input', () => {
  it('answers malformed frames with BAD_REQUEST and keeps serving', async () => {
    const r = await raw();
    expect(await errorCodeFor(r, 'not json')).toBe('BAD_REQUEST');
    expect(await errorCodeFor(r, '[1,2,3]')).toBe('BAD_REQUEST');
    expect(await errorCodeFor(r, '{"id":1,"type":"noSuchThing"}')).toBe('BAD_REQUEST');
    expect(await errorCodeFor(r, '{"id":"one","type":"loginStart"}')).toBe('BAD_REQUEST');
    expect(await errorCodeFor(r, '{"id":2,"type":"loginStart","username":5,"startLoginRequest":"AAAA"}')).toBe('BAD_REQUEST');
    expect(await errorCodeFor(r, '{"id":3,"type":"loginStart","username":"abc","startLoginRequest":"AAAA","extra":1}')).toBe('BAD_REQUEST');
    // The old password login is no request at all now: the password has nowhere to go.
    expect(await errorCodeFor(r, '{"id":7,"type":"login","username":"abc","password":"whatever-password!"}')).toBe('BAD_REQUEST');
    expect(await errorCodeFor(r, '{"id":4,"type":"__proto__"}')).toBe('BAD_REQUEST');
    expect(await errorCodeFor(r, '{"id":5,"type":"listRooms"}')).toBe('NOT_AUTHENTICATED');
    r.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(((await r.next()).error as { code: string }).code).toBe('BAD_REQUEST');
    // Still alive and answering.
    const started = await startLogin('whatever-password!');
    const alive = await errorCodeFor(r, JSON.stringify({ id: 6, type: 'loginStart', username: 'nobody_at_all', startLoginRequest: started.request }));
    expect(alive).toBe('ok'); // a response as for any name (OPAQUE's fake one for an unknown name)
    r.ws.close();
  });

  it('closes oversized frames with FRAME_TOO_LARGE', async () => {
    const r = await raw();
    r.ws.send(JSON.stringify({ id: 1, type: 'login', username: 'x', password: 'y'.repeat(LIMITS.maxFrameBytes) }));
    expect((await r.closed).code).toBe(CLOSE_CODES.FRAME_TOO_LARGE);
  });

  it('closes a connection that sends only garbage with PROTOCOL_ABUSE', async () => {
    const r = await raw();
    for (let i = 0; i < 25; i++) r.ws.send('garbage');
    expect((await r.closed).code).toBe(CLOSE_CODES.PROTOCOL_ABUSE);
  });

  it('does not echo raw input into the logs and stores nothing from refused frames', async () => {
    const a = await registered(t);
    const before = (t.authority.store.db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n;
    const r = await raw();
    const marker = 'EVIL\u001b[31mMARKER';
    r.ws.send(JSON.stringify({ id: 1, type: 'loginStart', username: 'z'.repeat(40), startLoginRequest: marker }));
    await r.next();
    r.ws.send(JSON.stringify({ id: 2, type: 'registerStart', username: `bad\u0000${marker}`, registrationRequest: (await startRegistration('x')).request }));
    expect(((await r.next()).error as { code: string }).code).toBe('INVALID_USERNAME');
    const bad = await a.call('postMessage', { room: 'Général', clientId: 'nul-char-msg-1', text: 'nul\u0000byte' });
    expect(!bad.ok && bad.error.code).toBe('INVALID_TEXT');
    const after = (t.authority.store.db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n;
    expect(after).toBe(before);
    expect(t.logs.some((l) => l.includes('MARKER') || l.includes('\u001b'))).toBe(false);
    expect(t.authority.store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    r.ws.close();
    a.close();
  });

  it('refuses signaling and DM relay between users who are not friends', async () => {
    const a = await registered(t);
    const b = await registered(t);
    const s = await a.call('sendSignal', { to: b.username!, data: { type: 'offer', sdp: 'v=0' } });
    expect(!s.ok && s.error.code).toBe('NOT_FRIENDS');
    const d = await a.call('relayDm', { to: b.username!, envelope: '{}' });
    expect(!d.ok && d.error.code).toBe('NOT_FRIENDS');
    a.close();
    b.close();
  });
});

describe('close reasons', () => {
  it('fit the WebSocket limit in bytes even when the text is not ASCII', async () => {
    const { closeReasonBytes } = await import('../../authority/src/connection.js');
    const long = 'suspendu jusqu’à '.repeat(20) + '🎉';
    const cut = closeReasonBytes(long);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(120);
    expect(long.startsWith(cut)).toBe(true);
    expect(cut).not.toContain('\ufffd');
    expect(closeReasonBytes('short')).toBe('short');
  });
});
