/** DMs across authority restarts and outages: stored ones survive, open channels keep working. */
import { afterEach, describe, expect, it } from 'vitest';
import { startAuthority, until, type TestAuthority } from '../helpers/authority.js';
import { befriend, closeAll, dmUser, friends, goOffline, receivedText, type DmUser } from './helpers.js';
import { LOADED_MS } from '../helpers/timing.js';

let t: TestAuthority | null = null;

/** A first DM from a to b, over a data channel that it opens. */
async function openChannel(a: DmUser, b: DmUser): Promise<void> {
  const first = await a.dm.send(b.name, 'channel up');
  expect(first.ok && first.value.path).toBe('direct');
  await receivedText(b, 'channel up');
}
afterEach(async () => {
  await closeAll();
  await t?.cleanup();
  t = null;
});

describe('resilience', () => {
  it('delivers a DM stored for an offline friend after the authority restarted', async () => {
    t = await startAuthority();
    const [a, b] = await friends(t);
    await goOffline(b);
    await until(() => a.client.friends.some((f) => f.username === b.name && !f.online), 'b offline');
    const texts = ['stored before the restart 1', 'stored before the restart 2', 'stored before the restart 3'];
    const sent = [];
    for (const text of texts) {
      const r = await a.dm.send(b.name, text);
      if (!r.ok) throw new Error(r.error.code);
      expect(r.value.path).toBe('stored');
      sent.push(r.value);
    }

    t = await t.restart();
    await until(() => a.client.status === 'ready', 'a reconnected to the restarted authority', LOADED_MS);
    const back = await dmUser(t, { name: b.name, dir: b.dir, register: false });
    await until(() => back.events.received.length === texts.length, 'stored DMs received after the restart', LOADED_MS);
    expect(back.events.received.map((r) => [r.text, r.path])).toEqual(texts.map((x) => [x, 'stored']));
    for (const s of sent) expect((await a.dm.waitFor(s, 'delivered', LOADED_MS))?.status).toBe('delivered');
    await until(() => t!.authority.store.dms.total() === 0, 'deleted once acknowledged');
  });

  it('a direct DM sent just before the sender closes is receipted once the sender is back, and shown once', async () => {
    t = await startAuthority();
    const [a, b] = await friends(t);
    await openChannel(a, b);
    const sent = await a.dm.send(b.name, 'receipt lost');
    if (!sent.ok) throw new Error(sent.error.code);
    expect(sent.value.path).toBe('direct');
    await goOffline(a); // at once: b's receipt finds a gone (relayed and stored, or lost with the channel)
    const back = await dmUser(t, { name: a.name, dir: a.dir, register: false });
    expect((await back.dm.waitFor(sent.value, 'delivered', LOADED_MS))?.status).toBe('delivered');
    await receivedText(b, 'receipt lost');
    expect(b.events.received.filter((r) => r.text === 'receipt lost')).toHaveLength(1); // shown once
  });

  it('stops using a channel to a friend whose last session ended, and stores for them instead', async () => {
    t = await startAuthority();
    const [a, b] = await friends(t);
    await openChannel(a, b);
    b.client.close(); // b's process loses its session (its engine is not closed properly)
    await until(() => a.dm.channelState(b.name) === 'closed', 'a closes the channel when b goes offline');
    const later = await a.dm.send(b.name, 'after b left');
    expect(later.ok && later.value.path).toBe('stored');
  });

  it('keeps an open data channel delivering while the authority is down, and queues the rest', async () => {
    t = await startAuthority();
    const [a, b] = await friends(t);
    const c = await dmUser(t, { name: `${a.name}c` });
    await befriend(a, c);
    await openChannel(a, b);

    await t.stop();
    await until(() => a.client.status !== 'ready' && b.client.status !== 'ready', 'clients lost the authority');
    const during = await a.dm.send(b.name, 'while the authority is down');
    expect(during.ok && during.value.path).toBe('direct');
    expect((await receivedText(b, 'while the authority is down')).path).toBe('direct');
    if (during.ok) expect((await a.dm.waitFor(during.value, 'delivered', LOADED_MS))?.status).toBe('delivered');
    const reply = await b.dm.send(a.name, 'reply while down');
    expect(reply.ok && reply.value.path).toBe('direct');
    await receivedText(a, 'reply while down');

    // No channel with c and no authority: queued, and sent by itself once the authority is back.
    const queued = await a.dm.send(c.name, 'queued during the outage');
    expect(queued.ok && queued.value.status).toBe('queued');
    t = await t.restart();
    await receivedText(c, 'queued during the outage', LOADED_MS);
    if (queued.ok) expect((await a.dm.waitFor(queued.value, 'delivered', LOADED_MS))?.status).toBe('delivered');
  });
});
