/**
 * The DM history on a new device (issue 13 §2): another of my devices that is online sends it
 * peer-to-peer over a WebRTC data channel, sealed to my own key, with progress. Real authority,
 * real engines, real WebRTC (@roamhq/wrtc).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthority, until, type TestAuthority } from '../helpers/authority.js';
import { closeAll, dmUser, friends, goOffline, receivedText, TEST_DIRECT_TIMEOUT_MS, type DmUser } from './helpers.js';
import { LOADED_MS } from '../helpers/timing.js';

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority();
});
afterAll(async () => {
  await closeAll();
  await t.cleanup();
});

function conversation(u: DmUser, peer: string): string[] {
  const r = u.dm.conversation(peer, { limit: 1000 });
  return r.ok ? r.value.map((m) => `${m.direction} ${m.author}: ${m.text}`) : [];
}

describe('history on a new device', () => {
  it('comes from my other online device, peer-to-peer, with progress', async () => {
    const [alice, bob] = await friends(t);
    const sent: string[] = [];
    for (let i = 0; i < 60; i++) {
      const text = `message ${i} ${i % 2 ? 'de bob' : "d'alice"}`;
      const r = i % 2 ? await bob.dm.send(alice.name, text) : await alice.dm.send(bob.name, text);
      expect(r.ok).toBe(true);
      sent.push(text);
    }
    await receivedText(bob, sent[58]!);
    await receivedText(alice, sent[59]!);
    const before = conversation(bob, alice.name);
    expect(before).toHaveLength(60);

    // Bob's new laptop: the account's identity, no DM yet. It asks; bob's desktop sends.
    const laptop = await dmUser(t, { name: bob.name, register: false });
    await until(() => laptop.events.historyProgress.some((p) => p.done), 'the history arrived', LOADED_MS + 4 * TEST_DIRECT_TIMEOUT_MS);
    const last = laptop.events.historyProgress.at(-1)!;
    expect(last).toEqual({ received: 60, total: 60, added: 60, done: true });
    // Progress was told along the way, not once per DM.
    expect(laptop.events.historyProgress[0]).toMatchObject({ received: 0, total: 60, done: false });
    expect(laptop.events.historyProgress.length).toBeLessThan(10);
    expect(conversation(laptop, alice.name)).toEqual(before);
    // Not shown as new DMs (no notification storm), and the laptop's copy is kept at rest.
    expect(laptop.events.received).toEqual([]);
    await goOffline(laptop);
    const again = await dmUser(t, { name: bob.name, dir: laptop.dir, register: false });
    expect(conversation(again, alice.name)).toEqual(before);
    // A device that has DMs asks for nothing.
    expect(again.events.historyProgress).toEqual([]);
  }, 2 * LOADED_MS + 4 * TEST_DIRECT_TIMEOUT_MS);

  it('with no other device online, nothing comes; it does when one connects', async () => {
    const [alice, bob] = await friends(t);
    expect((await alice.dm.send(bob.name, 'bonjour')).ok).toBe(true);
    await receivedText(bob, 'bonjour');
    await goOffline(bob);
    const laptop = await dmUser(t, { name: bob.name, register: false });
    expect(await laptop.dm.requestHistory()).toBe(false);
    expect(laptop.events.historyProgress).toEqual([]);
    // Bob's desktop comes back: the laptop hears of it and asks again.
    const desktop = await dmUser(t, { name: bob.name, dir: bob.dir, register: false });
    // A question or a channel lost on a busy machine is tried again (up to 4 times, each after a channel's deadline).
    await until(() => laptop.events.historyProgress.some((p) => p.done), 'the history arrived once a device connected', LOADED_MS + 4 * TEST_DIRECT_TIMEOUT_MS);
    expect(laptop.events.historyProgress.at(-1)).toEqual({ received: 1, total: 1, added: 1, done: true });
    expect(conversation(laptop, alice.name)).toEqual(conversation(desktop, alice.name));
  }, 2 * LOADED_MS + 4 * TEST_DIRECT_TIMEOUT_MS);
});
