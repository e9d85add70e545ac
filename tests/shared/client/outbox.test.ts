/** My room messages on their way: shown once, in place, from the post until they are back in the room. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registered, startAuthority, until, type TestAuthority } from '../../helpers/authority.js';

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority();
});
afterAll(async () => {
  await t.cleanup();
});

describe('the outbox', () => {
  it('holds a message from the post until it is back in the room, so a timeline shows it exactly once', async () => {
    const a = await registered(t);
    const room = 'Général';
    const copies = (clientId: string) =>
      a.messagesOf(room).filter((m) => m.clientId === clientId).length +
      a.outbox.pending(room).filter((m) => m.clientId === clientId).length;
    const seen: number[] = [];
    const check = () => {
      if (posted) seen.push(copies(posted.clientId));
    };
    let posted: ReturnType<typeof a.post> | null = null;
    a.on('outbox', check);
    a.on('message', check);
    posted = a.post(room, 'on its way');
    check();
    expect(a.outbox.pending(room).map((m) => m.status)).toEqual(['sending']);
    const settled = await a.settled(posted);
    expect(settled.status).toBe('sent');
    await until(() => a.messagesOf(room).some((m) => m.clientId === settled.clientId), 'the fan-out');
    expect(a.outbox.pending(room)).toEqual([]);
    expect([...a.outbox.values()]).toEqual([]);
    expect(seen.length).toBeGreaterThan(1);
    expect(new Set(seen)).toEqual(new Set([1]));
    a.close();
  });
});
