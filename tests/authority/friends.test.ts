import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, registered, startAuthority, until, type TestAuthority } from '../helpers/authority.js';

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority();
});
afterAll(async () => {
  await t.cleanup();
});

const stateOf = (c: Awaited<ReturnType<typeof registered>>, name: string) => c.friends.find((f) => f.username === name);

describe('friends', () => {
  it('request, accept, see each other online, remove', async () => {
    const a = await registered(t);
    const b = await registered(t);
    const r = await a.call('requestFriend', { username: b.username! });
    expect(r.ok && r.value.state).toBe('outgoing');
    await until(() => stateOf(b, a.username!)?.state === 'incoming', 'b sees the request live');
    expect((await b.call('acceptFriend', { username: a.username! })).ok).toBe(true);
    await until(() => stateOf(a, b.username!)?.state === 'friends', 'a sees friendship');
    expect(stateOf(a, b.username!)?.online).toBe(true);
    b.close();
    await until(() => stateOf(a, b.username!)?.online === false, 'a sees b offline');
    const b2 = await (async () => {
      const c = (await import('../helpers/authority.js')).newClient(t);
      await c.login(b.username!, 'correct-horse-battery!');
      return c;
    })();
    await until(() => stateOf(a, b.username!)?.online === true, 'a sees b online again');
    expect((await a.call('removeFriend', { username: b.username! })).ok).toBe(true);
    await until(() => stateOf(b2, a.username!) === undefined, 'b told of removal');
    expect(stateOf(a, b.username!)).toBeUndefined();
    a.close();
    b2.close();
  });

  it('refuse, and the errors: unknown user, self, duplicates, nothing to accept', async () => {
    const a = await registered(t);
    const b = await registered(t);
    const code = async (p: Promise<{ ok: boolean; error?: { code: string } }>) => {
      const r = await p;
      return r.ok ? 'ok' : r.error!.code;
    };
    expect(await code(a.call('requestFriend', { username: 'ghost_nobody' }))).toBe('UNKNOWN_USER');
    expect(await code(a.call('requestFriend', { username: a.username! }))).toBe('SELF_FRIEND');
    expect(await code(b.call('acceptFriend', { username: a.username! }))).toBe('NO_FRIEND_REQUEST');
    expect(await code(a.call('requestFriend', { username: b.username! }))).toBe('ok');
    expect(await code(b.call('refuseFriend', { username: a.username! }))).toBe('ok');
    await until(() => stateOf(a, b.username!) === undefined, 'a told of refusal');
    expect(await code(b.call('refuseFriend', { username: a.username! }))).toBe('NO_FRIEND_REQUEST');
    expect(await code(a.call('removeFriend', { username: b.username! }))).toBe('NOT_FRIENDS');
    // Asking someone who already asked you is accepting.
    await a.call('requestFriend', { username: b.username! });
    const back = await b.call('requestFriend', { username: a.username! });
    expect(back.ok && back.value.state).toBe('friends');
    expect(await code(a.call('requestFriend', { username: b.username! }))).toBe('ALREADY_FRIENDS');
    a.close();
    b.close();
  });

  it('lets an admin make two users friends without consent', async () => {
    const admin = await adminClient(t);
    const a = await registered(t);
    const b = await registered(t);
    expect((await admin.call('forceFriend', { a: a.username!, b: b.username! })).ok).toBe(true);
    await until(() => stateOf(a, b.username!)?.state === 'friends' && stateOf(b, a.username!)?.state === 'friends', 'both told');
    const again = await admin.call('forceFriend', { a: a.username!, b: b.username! });
    expect(!again.ok && again.error.code).toBe('ALREADY_FRIENDS');
    const ghost = await admin.call('forceFriend', { a: a.username!, b: 'ghost_nobody' });
    expect(!ghost.ok && ghost.error.code).toBe('UNKNOWN_USER');
    admin.close();
    a.close();
    b.close();
  });
});
