import nacl from 'tweetnacl';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  base64ToBytes,
  bytesToBase64,
  createChannelKeys,
  generateIdentity,
  openEnvelope,
  publicIdentity,
  ReplayGuard,
  sealEnvelope,
  type ChannelKeys,
  type DeviceIdentity,
  type DmEnvelope,
} from '../../../shared/crypto/index.js';
import { LIMITS } from '../../../shared/protocol/index.js';

const DAY = 24 * 60 * 60 * 1000;

const alice = generateIdentity();
const bob = generateIdentity();
const carol = generateIdentity();
const mallory = generateIdentity();

function channel(me: [string, DeviceIdentity], them: [string, DeviceIdentity]): ChannelKeys {
  return createChannelKeys(
    { username: me[0], identity: me[1] },
    { username: them[0], identity: publicIdentity(them[1]) },
  );
}

const aliceToBob = channel(['alice', alice], ['bob', bob]);
const bobWithAlice = channel(['bob', bob], ['alice', alice]);

let guard: ReplayGuard;
let counter = 0;
beforeEach(() => {
  guard = new ReplayGuard();
});

function nextId(): string {
  counter += 1;
  return `msg-${counter.toString().padStart(6, '0')}`;
}

function text(t: string, ts?: number) {
  return { id: nextId(), ts, body: { kind: 'text' as const, text: t } };
}

function edit(wire: string, change: (e: DmEnvelope) => Record<string, unknown>): string {
  return JSON.stringify(change(JSON.parse(wire) as DmEnvelope));
}

/** A correctly encrypted envelope from alice to bob whose plaintext is whatever we like. */
function sealRaw(plaintext: string): string {
  const nonce = nacl.randomBytes(24);
  const ct = nacl.box(new TextEncoder().encode(plaintext), nonce, bob.box.publicKey, alice.box.secretKey);
  return JSON.stringify({ v: 1, from: alice.keyId, to: bob.keyId, nonce: bytesToBase64(nonce), ct: bytesToBase64(ct) });
}

describe('DM envelope round trip', () => {
  it('carries a text from alice to bob', () => {
    const wire = sealEnvelope(aliceToBob, { id: 'abcdefgh-1', ts: 1_700_000_000_000, body: { kind: 'text', text: 'Salut Bob 👋' } });
    const result = openEnvelope(bobWithAlice, wire, new ReplayGuard({ now: () => 1_700_000_000_500 }));
    expect(result).toEqual({
      ok: true,
      message: { id: 'abcdefgh-1', ts: 1_700_000_000_000, from: 'alice', to: 'bob', body: { kind: 'text', text: 'Salut Bob 👋' } },
    });
  });

  it('works in both directions with the same precomputed keys', () => {
    const reply = sealEnvelope(bobWithAlice, text('bien reçu'));
    const result = openEnvelope(aliceToBob, reply, guard);
    expect(result.ok && result.message.body).toEqual({ kind: 'text', text: 'bien reçu' });
  });

  it('carries delivery receipts', () => {
    const wire = sealEnvelope(aliceToBob, { id: nextId(), body: { kind: 'receipt', ids: ['abcdefgh-1', 'abcdefgh-2'] } });
    const result = openEnvelope(bobWithAlice, wire, guard);
    expect(result.ok && result.message.body).toEqual({ kind: 'receipt', ids: ['abcdefgh-1', 'abcdefgh-2'] });
  });

  it('shows the relay only key ids, never the text or the usernames', () => {
    const wire = sealEnvelope(aliceToBob, text('le code du coffre est 4521'));
    expect(Object.keys(JSON.parse(wire) as object).sort()).toEqual(['ct', 'from', 'nonce', 'to', 'v']);
    expect(wire).not.toContain('coffre');
    expect(wire).not.toContain('alice');
    expect(wire).not.toContain('bob');
  });

  it('uses a fresh nonce for every message', () => {
    const a = JSON.parse(sealEnvelope(aliceToBob, text('x'))) as DmEnvelope;
    const b = JSON.parse(sealEnvelope(aliceToBob, text('x'))) as DmEnvelope;
    expect(a.nonce).not.toBe(b.nonce);
  });

  it('fits the longest allowed text, even in 3-byte characters, within the envelope limit', () => {
    for (const t of ['語'.repeat(LIMITS.maxMessageChars), '"\\\n'.repeat(LIMITS.maxMessageChars / 4) + 'x'.repeat(1), '🎉'.repeat(LIMITS.maxMessageChars / 2)]) {
      const wire = sealEnvelope(aliceToBob, text(t.slice(0, LIMITS.maxMessageChars)));
      expect(wire.length).toBeLessThanOrEqual(LIMITS.maxEnvelopeChars);
      expect(openEnvelope(bobWithAlice, wire, guard).ok).toBe(true);
    }
  });

  it('refuses to seal a text that breaks the rules (a caller bug, so it throws)', () => {
    expect(() => sealEnvelope(aliceToBob, text('x'.repeat(LIMITS.maxMessageChars + 1)))).toThrow();
    expect(() => sealEnvelope(aliceToBob, text('   '))).toThrow();
    expect(() => sealEnvelope(aliceToBob, { id: 'short', body: { kind: 'text', text: 'hi' } })).toThrow();
  });

  it('matches usernames without regard to case', () => {
    const bobWithAliceCapitalised = channel(['Bob', bob], ['Alice', alice]);
    expect(openEnvelope(bobWithAliceCapitalised, sealEnvelope(aliceToBob, text('hi')), guard).ok).toBe(true);
  });

  it('will not precompute keys for an identity that does not verify', () => {
    const forged = { ...publicIdentity(alice), keyId: carol.keyId };
    expect(() => createChannelKeys({ username: 'bob', identity: bob }, { username: 'alice', identity: forged })).toThrow();
  });

  it('never exposes the shared key when the keys object is logged', () => {
    expect(Object.keys(aliceToBob).sort()).toEqual(['conversation', 'myKeyId', 'myUsername', 'theirKeyId', 'theirUsername']);
  });
});

describe('DM envelope rejections', () => {
  it('TAMPERED: one flipped ciphertext bit', () => {
    const wire = sealEnvelope(aliceToBob, text('pay 10 €'));
    const tampered = edit(wire, (e) => {
      const ct = base64ToBytes(e.ct)!;
      ct[ct.length - 3]! ^= 0x01;
      return { ...e, ct: bytesToBase64(ct) };
    });
    expect(openEnvelope(bobWithAlice, tampered, guard)).toEqual({ ok: false, reason: 'TAMPERED' });
  });

  it('TAMPERED: a swapped nonce', () => {
    const wire = sealEnvelope(aliceToBob, text('hi'));
    const tampered = edit(wire, (e) => ({ ...e, nonce: bytesToBase64(nacl.randomBytes(24)) }));
    expect(openEnvelope(bobWithAlice, tampered, guard)).toEqual({ ok: false, reason: 'TAMPERED' });
  });

  it('TAMPERED: a stranger who writes the pinned key id in the header', () => {
    const malloryToBob = channel(['alice', mallory], ['bob', bob]);
    const forged = edit(sealEnvelope(malloryToBob, text('it is me, alice')), (e) => ({ ...e, from: alice.keyId }));
    expect(openEnvelope(bobWithAlice, forged, guard)).toEqual({ ok: false, reason: 'TAMPERED' });
  });

  it('TAMPERED: a message for carol readdressed to bob', () => {
    const aliceToCarol = channel(['alice', alice], ['bob', carol]);
    const readdressed = edit(sealEnvelope(aliceToCarol, text('hi')), (e) => ({ ...e, to: bob.keyId }));
    expect(openEnvelope(bobWithAlice, readdressed, guard)).toEqual({ ok: false, reason: 'TAMPERED' });
  });

  it('REPLAYED: the same wire delivered twice (e.g. once direct, once relayed)', () => {
    const wire = sealEnvelope(aliceToBob, text('once'));
    expect(openEnvelope(bobWithAlice, wire, guard).ok).toBe(true);
    expect(openEnvelope(bobWithAlice, wire, guard)).toEqual({ ok: false, reason: 'REPLAYED' });
  });

  it('REPLAYED: the same message id re-sealed with a fresh nonce', () => {
    const message = text('once');
    expect(openEnvelope(bobWithAlice, sealEnvelope(aliceToBob, message), guard).ok).toBe(true);
    expect(openEnvelope(bobWithAlice, sealEnvelope(aliceToBob, message), guard)).toEqual({ ok: false, reason: 'REPLAYED' });
  });

  it('a refused envelope does not use up its message id', () => {
    const wire = sealEnvelope(aliceToBob, text('hi'));
    const tampered = edit(wire, (e) => ({ ...e, nonce: bytesToBase64(nacl.randomBytes(24)) }));
    expect(openEnvelope(bobWithAlice, tampered, guard).ok).toBe(false);
    expect(openEnvelope(bobWithAlice, wire, guard).ok).toBe(true);
  });

  it('UNPINNED_KEY: an envelope from a key that is not the one pinned for alice', () => {
    const malloryToBob = channel(['alice', mallory], ['bob', bob]);
    const wire = sealEnvelope(malloryToBob, text('new phone, it is me alice'));
    expect(openEnvelope(bobWithAlice, wire, guard)).toEqual({ ok: false, reason: 'UNPINNED_KEY' });
  });

  it('WRONG_RECIPIENT: an envelope for carol delivered to bob', () => {
    const aliceToCarol = channel(['alice', alice], ['carol', carol]);
    const wire = sealEnvelope(aliceToCarol, text('for carol only'));
    expect(openEnvelope(bobWithAlice, wire, guard)).toEqual({ ok: false, reason: 'WRONG_RECIPIENT' });
  });

  it("WRONG_RECIPIENT: bob's key, but addressed to another username inside", () => {
    const confused = channel(['alice', alice], ['carol', bob]);
    const wire = sealEnvelope(confused, text('for carol only'));
    expect(openEnvelope(bobWithAlice, wire, guard)).toEqual({ ok: false, reason: 'WRONG_RECIPIENT' });
  });

  it("WRONG_SENDER: a friend's pinned key that signs its message as someone else", () => {
    const bobWithMallory = channel(['bob', bob], ['mallory', mallory]);
    const malloryPosingAsAlice = channel(['alice', mallory], ['bob', bob]);
    const wire = sealEnvelope(malloryPosingAsAlice, text('it is alice, send me the file'));
    expect(openEnvelope(bobWithMallory, wire, guard)).toEqual({ ok: false, reason: 'WRONG_SENDER' });
  });

  it('STALE: older than the age window, or from far in the future', () => {
    const now = Date.now();
    expect(openEnvelope(bobWithAlice, sealEnvelope(aliceToBob, text('old', now - 31 * DAY)), guard)).toEqual({
      ok: false,
      reason: 'STALE',
    });
    expect(openEnvelope(bobWithAlice, sealEnvelope(aliceToBob, text('future', now + DAY)), guard)).toEqual({
      ok: false,
      reason: 'STALE',
    });
    expect(openEnvelope(bobWithAlice, sealEnvelope(aliceToBob, text('stored offline', now - 29 * DAY)), guard).ok).toBe(true);
  });

  it('UNSUPPORTED_VERSION: a v2 envelope', () => {
    const wire = sealEnvelope(aliceToBob, text('hi'));
    expect(openEnvelope(bobWithAlice, edit(wire, (e) => ({ ...e, v: 2 })), guard)).toEqual({
      ok: false,
      reason: 'UNSUPPORTED_VERSION',
    });
    expect(openEnvelope(bobWithAlice, JSON.stringify({ v: 2, future: 'format' }), guard)).toEqual({
      ok: false,
      reason: 'UNSUPPORTED_VERSION',
    });
  });

  it('MALFORMED: garbage, wrong types, wrong lengths and oversize input, never a throw', () => {
    const wire = sealEnvelope(aliceToBob, text('hi'));
    const hostile: unknown[] = [
      undefined,
      null,
      42,
      { v: 1 },
      '',
      'not json',
      '{"v":1,',
      'null',
      '[]',
      '"a string"',
      '1e999',
      ' '.repeat(LIMITS.maxEnvelopeChars + 1),
      edit(wire, (e) => ({ ...e, ct: e.ct + 'A'.repeat(LIMITS.maxEnvelopeChars) })),
      edit(wire, (e) => ({ ...e, v: '1' })),
      edit(wire, ({ v: _v, ...e }) => e),
      edit(wire, (e) => ({ ...e, from: 42 })),
      edit(wire, (e) => ({ ...e, to: null })),
      edit(wire, (e) => ({ ...e, ct: ['AAAA'] })),
      edit(wire, (e) => ({ ...e, from: 'has spaces and / slashes' })),
      edit(wire, (e) => ({ ...e, nonce: bytesToBase64(nacl.randomBytes(23)) })),
      edit(wire, (e) => ({ ...e, nonce: 'A'.repeat(31) + '!' })),
      edit(wire, (e) => ({ ...e, ct: 'AAAA' })),
      edit(wire, (e) => ({ ...e, ct: e.ct.replace(/.$/, '*') })),
      edit(wire, (e) => ({ ...e, extra: 'field' })),
      wire.replace('{', '{"__proto__":{"polluted":true},'),
    ];
    for (const input of hostile) {
      expect(openEnvelope(bobWithAlice, input, guard)).toEqual({ ok: false, reason: 'MALFORMED' });
    }
  });

  it("MALFORMED: an authentic envelope whose plaintext is not a DM (a buggy or hostile friend's client)", () => {
    const ts = Date.now();
    const good = { id: 'abcdefgh-9', ts, from: 'alice', to: 'bob', body: { kind: 'text', text: 'hi' } };
    const plaintexts = [
      'not json',
      '\u00ff\u00fe',
      'null',
      JSON.stringify({ ...good, body: { kind: 'text', text: 'x'.repeat(LIMITS.maxMessageChars + 1) } }),
      JSON.stringify({ ...good, body: { kind: 'text', text: 'bell \u0007' } }),
      JSON.stringify({ ...good, body: { kind: 'text', text: 'lone \ud800 surrogate' } }),
      JSON.stringify({ ...good, body: { kind: 'html', html: '<script>' } }),
      JSON.stringify({ ...good, body: { kind: 'receipt', ids: [] } }),
      JSON.stringify({ ...good, body: { kind: 'receipt', ids: Array.from({ length: 101 }, (_, i) => `id-${String(i).padStart(6, '0')}`) } }),
      JSON.stringify({ ...good, id: 'x' }),
      JSON.stringify({ ...good, ts: 'yesterday' }),
      JSON.stringify({ ...good, ts: -1 }),
      JSON.stringify({ ...good, from: 'a' }),
      JSON.stringify({ ...good, extra: 1 }),
    ];
    for (const plaintext of plaintexts) {
      expect(openEnvelope(bobWithAlice, sealRaw(plaintext), guard)).toEqual({ ok: false, reason: 'MALFORMED' });
    }
    // The same construction with a good plaintext is accepted: the failures above are the plaintext's.
    expect(openEnvelope(bobWithAlice, sealRaw(JSON.stringify(good)), guard).ok).toBe(true);
  });

  it('never puts message content in a rejection', () => {
    const wire = sealEnvelope(aliceToBob, text('secret plans'));
    const bobWithMallory = channel(['bob', bob], ['mallory', mallory]);
    for (const result of [openEnvelope(bobWithMallory, wire, guard), openEnvelope(channel(['carol', carol], ['alice', alice]), wire, guard)]) {
      expect(result.ok).toBe(false);
      expect(Object.keys(result).sort()).toEqual(['ok', 'reason']);
      expect(JSON.stringify(result)).not.toContain('secret');
    }
  });
});
