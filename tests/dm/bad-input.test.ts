/**
 * Hostile and broken input around DMs: each is refused with a clear reason, logged without
 * its content, and neither the authority nor the receiving engine stops working.
 */
import nacl from 'tweetnacl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToBase64, generateIdentity } from '../../shared/crypto/index.js';
import { LIMITS } from '../../shared/protocol/index.js';
import { defaultConfig } from '../../authority/src/config.js';
import { startAuthority, until, type TestAuthority } from '../helpers/authority.js';
import { closeAll, dmUser, friends, goOffline, receivedText, type DmUser } from './helpers.js';

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority({ limits: { ...defaultConfig().limits, signalsPerSecond: SIGNALS_PER_SECOND } });
});
afterAll(async () => {
  await closeAll();
  await t.cleanup();
});

const FAKE_SID = 'Zz9_fake-session-id-000';
const SIGNALS_PER_SECOND = 20;

/** A real envelope from a to b, taken from the authority's store while b is offline. */
async function capturedEnvelope(a: DmUser, b: DmUser, text: string): Promise<{ envelope: string; b: DmUser }> {
  await goOffline(b);
  await until(() => a.client.friends.some((f) => f.username === b.name && !f.online), 'b offline');
  const sent = await a.dm.send(b.name, text);
  expect(sent.ok && sent.value.path).toBe('stored');
  const bId = t.authority.store.users.byName(b.name)!.id;
  const envelope = t.authority.store.dms.pendingFor(bId, 0, 0, 10).at(-1)!.envelope;
  const back = await dmUser(t, { name: b.name, dir: b.dir, register: false });
  await receivedText(back, text);
  return { envelope, b: back };
}

describe('signaling', () => {
  it('is refused between users who are not friends, with NOT_FRIENDS, logged without content', async () => {
    const [a] = await friends(t);
    const stranger = await dmUser(t);
    const secretSdp = 'v=0 secret-sdp-content-7f3a';
    const signal = await stranger.client.call('sendSignal', { to: a.name, data: { v: 1, kind: 'rtc', sid: FAKE_SID, rtc: { type: 'offer', sdp: secretSdp } } });
    expect(!signal.ok && signal.error.code).toBe('NOT_FRIENDS');
    const keys = await stranger.client.call('fetchKeys', { username: a.name });
    expect(!keys.ok && keys.error.code).toBe('NOT_FRIENDS');
    const relay = await stranger.client.call('relayDm', { to: a.name, envelope: '{"v":1}' });
    expect(!relay.ok && relay.error.code).toBe('NOT_FRIENDS');
    expect(t.logs.some((l) => l.includes('signal_refused') && l.includes('NOT_FRIENDS'))).toBe(true);
    expect(t.logs.join('\n')).not.toContain('secret-sdp-content');
    expect(a.events.rejected).toEqual([]);
  });

  it('refuses oversized signals, signals to offline friends and floods', async () => {
    const [a, b] = await friends(t);
    await goOffline(b);
    await until(() => a.client.friends.some((f) => f.username === b.name && !f.online), 'b offline');
    const big = await a.client.call('sendSignal', { to: b.name, data: { blob: 'x'.repeat(LIMITS.maxSignalBytes) } });
    expect(!big.ok && big.error.code).toBe('SIGNAL_TOO_LARGE');
    const knock = { v: 1, kind: 'knock', sid: FAKE_SID };
    const flood = await Promise.all(Array.from({ length: 4 * SIGNALS_PER_SECOND }, () => a.client.call('sendSignal', { to: b.name, data: knock })));
    const codes = flood.map((r) => (r.ok ? 'ok' : r.error.code));
    expect(codes[0]).toBe('PEER_OFFLINE');
    expect(codes.filter((c) => c === 'RATE_LIMITED').length).toBeGreaterThanOrEqual(SIGNALS_PER_SECOND);
    expect(new Set(codes)).toEqual(new Set(['PEER_OFFLINE', 'RATE_LIMITED']));
    const limited = flood.find((r) => !r.ok && r.error.code === 'RATE_LIMITED');
    expect(limited && !limited.ok && limited.error.until).toBeGreaterThan(Date.now() - 1000);
    expect(t.logs.some((l) => l.includes('signal_refused') && l.includes('SIGNAL_TOO_LARGE'))).toBe(true);
  });

  it('survives garbage SDP and malformed signals from a friend, and still connects afterwards', async () => {
    const [a, b] = await friends(t); // a sorts first: b answers offers
    const garbage = await a.client.call('sendSignal', {
      to: b.name,
      data: { v: 1, kind: 'rtc', sid: FAKE_SID, rtc: { type: 'offer', sdp: 'v=0\r\nthis is not a session description\r\n' } },
    });
    expect(garbage.ok).toBe(true);
    await until(() => b.events.rejected.some((r) => r.reason === 'PEER_ERROR'), 'garbage SDP refused');
    for (const data of [{ hello: 'world' }, 'text', null, { v: 1, kind: 'rtc', sid: FAKE_SID, rtc: { type: 'offer', sdp: 'no v=0 prefix' } }]) {
      expect((await a.client.call('sendSignal', { to: b.name, data })).ok).toBe(true);
    }
    await until(() => b.events.rejected.filter((r) => r.reason === 'BAD_SIGNAL').length === 4, 'malformed signals refused');
    // b may not offer to a (the glare rule says a does): refused too.
    await b.client.call('sendSignal', { to: a.name, data: { v: 1, kind: 'rtc', sid: FAKE_SID, rtc: { type: 'offer', sdp: 'v=0\r\n' } } });
    await until(() => a.events.rejected.some((r) => r.reason === 'BAD_SIGNAL'), 'offer from the wrong side refused');

    const sent = await a.dm.send(b.name, 'still fine');
    expect(sent.ok && sent.value.path).toBe('direct');
    await receivedText(b, 'still fine');
    expect(t.authority.counters.handlerErrors).toBe(0);
  });
});

describe('envelopes', () => {
  it('rejects a tampered envelope and a forged one, and refuses malformed ones at the authority', async () => {
    const [a, b0] = await friends(t);
    const { envelope, b } = await capturedEnvelope(a, b0, 'the original');
    const parsed = JSON.parse(envelope) as { ct: string; from: string; to: string; nonce: string };

    // One character of the ciphertext changed (staying canonical base64).
    const i = 10;
    const flipped = parsed.ct[i] === 'A' ? 'B' : 'A';
    const tampered = JSON.stringify({ ...parsed, ct: parsed.ct.slice(0, i) + flipped + parsed.ct.slice(i + 1) });
    expect((await a.client.call('relayDm', { to: b.name, envelope: tampered })).ok).toBe(true);
    await until(() => b.events.rejected.some((r) => r.reason === 'TAMPERED'), 'tampered envelope rejected');

    // Sealed by someone else's key while claiming to be from a's: does not open under a's pinned key.
    const mallory = generateIdentity();
    const nonce = nacl.randomBytes(24);
    const bBox = (await a.client.call('fetchKeys', { username: b.name }));
    if (!bBox.ok) throw new Error('no keys');
    const theirBox = Uint8Array.from(atob(bBox.value.identity.boxPublicKey), (ch) => ch.charCodeAt(0));
    const plaintext = JSON.stringify({ id: 'forged-000001', ts: Date.now(), from: a.name, to: b.name, body: { kind: 'text', text: 'forged text' } });
    const ct = nacl.box(new TextEncoder().encode(plaintext), nonce, theirBox, mallory.box.secretKey);
    const forged = JSON.stringify({ v: 1, from: parsed.from, to: parsed.to, nonce: bytesToBase64(nonce), ct: bytesToBase64(ct) });
    expect((await a.client.call('relayDm', { to: b.name, envelope: forged })).ok).toBe(true);
    await until(() => b.events.rejected.filter((r) => r.reason === 'TAMPERED').length === 2, 'forged envelope rejected');
    // Honest about its key, it is refused by the authority: not the sender's published key.
    const honest = await a.client.call('relayDm', { to: b.name, envelope: JSON.stringify({ ...JSON.parse(forged), from: mallory.keyId }) });
    expect(!honest.ok && honest.error.code).toBe('INVALID_KEYS');
    const garbage = await a.client.call('relayDm', { to: b.name, envelope: 'not an envelope' });
    expect(!garbage.ok && garbage.error.code).toBe('BAD_REQUEST');
    const tooBig = await a.client.call('relayDm', { to: b.name, envelope: 'x'.repeat(LIMITS.maxEnvelopeChars + 1) });
    expect(!tooBig.ok && tooBig.error.code).toBe('BAD_REQUEST');

    expect(b.events.received.map((r) => r.text)).toEqual(['the original']);
    // Refused envelopes are acknowledged (deleted), not kept for ever.
    await until(() => t.authority.store.dms.total() === 0, 'rejected envelopes acknowledged');
    const logs = t.logs.join('\n');
    expect(logs).not.toContain(parsed.ct.slice(0, 40));
    expect(t.authority.counters.handlerErrors).toBe(0);
  });

  it('rejects a replayed envelope, even after the recipient restarted', async () => {
    const [a, b0] = await friends(t);
    const { envelope, b } = await capturedEnvelope(a, b0, 'say it once');
    expect((await a.client.call('relayDm', { to: b.name, envelope })).ok).toBe(true);
    await until(() => b.events.rejected.some((r) => r.reason === 'REPLAYED'), 'replay rejected (same session)');

    await goOffline(b);
    const fresh = await dmUser(t, { name: b.name, dir: b.dir, register: false });
    expect((await a.client.call('relayDm', { to: b.name, envelope })).ok).toBe(true);
    await until(() => fresh.events.rejected.some((r) => r.reason === 'REPLAYED'), 'replay rejected (after restart)');
    expect(fresh.events.received).toEqual([]);
    const conv = fresh.dm.conversation(a.name);
    expect(conv.ok && conv.value.filter((r) => r.text === 'say it once')).toHaveLength(1);
  });
});
