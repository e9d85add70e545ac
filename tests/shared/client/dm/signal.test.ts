/** The signaling vocabulary between engines, checked against real simple-peer output. */
import { describe, expect, it } from 'vitest';
import { createNodePeer } from '../../../../cli/dm/index.js';
import { initiatesWith, RtcSignal, SignalMessage } from '../../../../shared/client/dm/index.js';
import { LIMITS } from '../../../../shared/protocol/index.js';

const SID = 'abcdefghijklmnop_-0123';

/** An offer and ICE candidates from a real WebRTC peer (@roamhq/wrtc). */
async function realSignals(): Promise<unknown[]> {
  const peer = createNodePeer({ initiator: true, trickle: true, config: { iceServers: [] } });
  const signals: unknown[] = [];
  await new Promise<void>((resolve) => {
    peer.on('signal', (s) => {
      signals.push(s);
      if (signals.length >= 2) resolve();
    });
  });
  peer.destroy();
  return signals;
}

describe('signal messages', () => {
  it('accept what simple-peer really emits', async () => {
    const signals = await realSignals();
    expect((signals[0] as { type: string }).type).toBe('offer');
    for (const rtc of signals) {
      expect(RtcSignal.safeParse(rtc).success).toBe(true);
      expect(SignalMessage.safeParse({ v: 1, kind: 'rtc', sid: SID, rtc }).success).toBe(true);
    }
  });

  it('refuse anything else', () => {
    const bad: unknown[] = [
      null,
      'offer',
      { v: 2, kind: 'knock', sid: SID },
      { v: 1, kind: 'knock', sid: 'short' },
      { v: 1, kind: 'knock', sid: SID, extra: true },
      { v: 1, kind: 'rtc', sid: SID, rtc: { type: 'offer', sdp: 'not an sdp' } },
      { v: 1, kind: 'rtc', sid: SID, rtc: { type: 'offer', sdp: `v=0${'x'.repeat(LIMITS.maxSignalBytes)}` } },
      { v: 1, kind: 'rtc', sid: SID, rtc: { type: 'pranswer', sdp: 'v=0' } },
      { v: 1, kind: 'rtc', sid: SID, rtc: { renegotiate: true } },
      { v: 1, kind: 'rtc', sid: SID, rtc: { type: 'candidate', candidate: { candidate: 'x'.repeat(2000) } } },
      { v: 1, kind: 'rtc', sid: SID, to: 'bad sid!', rtc: { type: 'answer', sdp: 'v=0' } },
    ];
    for (const b of bad) expect(SignalMessage.safeParse(b).success, JSON.stringify(b)?.slice(0, 80)).toBe(false);
  });

  it('name exactly one initiator per pair of friends, whatever the case of their names', () => {
    const pairs: [string, string][] = [['alice', 'bob'], ['Bob', 'alice'], ['zoé.b', 'Zoe_a'], ['user10', 'user9']];
    for (const [x, y] of pairs) expect(initiatesWith(x, y)).toBe(!initiatesWith(y, x));
    expect(initiatesWith('Alice', 'bob')).toBe(initiatesWith('alice', 'BOB'));
  });
});
