import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../../shared/protocol/index.js';
import { adminClient, registered, startAuthority, until, type TestAuthority } from '../helpers/authority.js';

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority();
});
afterAll(async () => {
  await t.cleanup();
});

function access(c: Awaited<ReturnType<typeof registered>>, room: string) {
  return c.rooms.get(room)?.info.access;
}

describe('rooms and access', () => {
  it('has the five default rooms; a new user is a member of Général only', async () => {
    const a = await registered(t);
    expect([...a.rooms.keys()]).toEqual(['Général', 'Blabla', 'Comptabilité', 'Informatique', 'Marketing']);
    expect(access(a, 'Général')).toBe('member');
    for (const r of ['Blabla', 'Comptabilité', 'Informatique', 'Marketing']) expect(access(a, r)).toBe('none');
    expect(a.rooms.get('Blabla')?.info.policy).toBe('open');
    expect(a.rooms.get('Comptabilité')?.info.policy).toBe('approval');
    a.close();
  });

  it('grants Blabla at once', async () => {
    const a = await registered(t);
    const r = await a.requestAccess('Blabla');
    expect(r.ok && r.value.access).toBe('member');
    expect(access(a, 'Blabla')).toBe('member');
    const sent = await a.settled(a.post('Blabla', 'hi blabla'));
    expect(sent.status).toBe('sent');
    a.close();
  });

  it('runs the approval flow with live notifications both ways', async () => {
    const admin = await adminClient(t);
    const user = await registered(t);
    const adminEvents: ServerEvent[] = [];
    admin.on('event', (e) => adminEvents.push(e));
    const userEvents: ServerEvent[] = [];
    user.on('event', (e) => userEvents.push(e));

    const r = await user.requestAccess('Comptabilité');
    expect(r.ok && r.value.access).toBe('pending');
    expect(access(user, 'Comptabilité')).toBe('pending');
    await until(() => adminEvents.some((e) => e.ev === 'accessRequested' && e.username === user.username), 'admin told');

    const list = await admin.call('listAccessRequests', {});
    expect(list.ok && list.value.requests.some((q) => q.username === user.username && q.room === 'Comptabilité')).toBe(true);

    // Posting before approval is refused.
    const early = await user.call('postMessage', { room: 'Comptabilité', clientId: 'early-message-1', text: 'x' });
    expect(!early.ok && early.error.code).toBe('NOT_A_MEMBER');

    const ok = await admin.call('approveAccess', { username: user.username!, room: 'Comptabilité' });
    expect(ok.ok).toBe(true);
    await until(() => userEvents.some((e) => e.ev === 'accessDecided' && e.room === 'Comptabilité' && e.granted), 'user told');
    await until(() => access(user, 'Comptabilité') === 'member', 'room opens');
    const posted = await user.settled(user.post('Comptabilité', 'bonjour la compta'));
    expect(posted.status).toBe('sent');
    const again = await admin.call('approveAccess', { username: user.username!, room: 'Comptabilité' });
    expect(!again.ok && again.error.code).toBe('NO_SUCH_REQUEST');
    admin.close();
    user.close();
  });

  it('denies a request and tells the requester', async () => {
    const admin = await adminClient(t);
    const user = await registered(t);
    const decided: ServerEvent[] = [];
    user.on('event', (e) => e.ev === 'accessDecided' && decided.push(e));
    await user.requestAccess('Marketing');
    expect((await admin.call('denyAccess', { username: user.username!, room: 'Marketing' })).ok).toBe(true);
    await until(() => decided.length === 1, 'denial told');
    expect(decided[0]).toMatchObject({ room: 'Marketing', granted: false });
    await until(() => access(user, 'Marketing') === 'none', 'back to none');
    admin.close();
    user.close();
  });

  it('shows many requests from one user to admins', async () => {
    const admin = await adminClient(t);
    const user = await registered(t);
    for (const room of ['Comptabilité', 'Informatique', 'Marketing']) await user.requestAccess(room);
    const list = await admin.call('listAccessRequests', {});
    const mine = list.ok ? list.value.requests.filter((q) => q.username === user.username) : [];
    expect(mine).toHaveLength(3);
    expect(mine.every((q) => q.pendingFromUser === 3)).toBe(true);
    admin.close();
    user.close();
  });

  it('refuses admin requests from a non-admin, and unknown users or rooms', async () => {
    const user = await registered(t);
    const r = await user.call('listAccessRequests', {});
    expect(!r.ok && r.error.code).toBe('NOT_ADMIN');
    const f = await user.call('forceFriend', { a: 'x', b: 'y' });
    expect(!f.ok && f.error.code).toBe('NOT_ADMIN');
    const admin = await adminClient(t);
    const u = await admin.call('approveAccess', { username: 'ghost_user', room: 'Marketing' });
    expect(!u.ok && u.error.code).toBe('UNKNOWN_USER');
    const room = await admin.call('approveAccess', { username: user.username!, room: 'Nowhere' });
    expect(!room.ok && room.error.code).toBe('UNKNOWN_ROOM');
    const nr = await user.requestAccess('Nowhere');
    expect(!nr.ok && nr.error.code).toBe('UNKNOWN_ROOM');
    admin.close();
    user.close();
  });

  it('lets admins read and post in every room', async () => {
    const admin = await adminClient(t);
    for (const room of ['Général', 'Blabla', 'Comptabilité', 'Informatique', 'Marketing']) {
      expect(access(admin, room)).toBe('member');
      const m = await admin.settled(admin.post(room, `admin says hi in ${room}`));
      expect(m.status).toBe('sent');
      const h = await admin.history(room);
      expect(h.ok && h.value.messages.some((x) => x.text === `admin says hi in ${room}`)).toBe(true);
    }
    admin.close();
  });
});
