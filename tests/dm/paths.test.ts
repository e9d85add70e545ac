import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthority, until, type TestAuthority } from '../helpers/authority.js';
import { closeAll, friends, receivedText } from './helpers.js';

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority();
});
afterAll(async () => {
  await closeAll();
  await t.cleanup();
});

describe('DM paths', () => {
  it('sends over a direct WebRTC data channel between two online friends, with a delivery receipt', async () => {
    const [a, b] = await friends(t);
    const sent = await a.dm.send(b.name, 'hello over the data channel');
    expect(sent.ok && sent.value.path).toBe('direct');
    const got = await receivedText(b, 'hello over the data channel');
    expect(got.path).toBe('direct');
    expect(got.author).toBe(a.name);
    const delivered = await a.dm.waitFor(sent.ok ? sent.value : { peer: '', id: '' }, 'delivered', 10_000);
    expect(delivered?.status).toBe('delivered');
    // The other way round uses the same channel.
    const back = await b.dm.send(a.name, 'and back');
    expect(back.ok && back.value.path).toBe('direct');
    await receivedText(a, 'and back');
    await until(() => a.dm.channelState(b.name) === 'open', 'channel open');
  });
});
