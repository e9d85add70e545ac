/**
 * A closed room (by invitation only) exists for its members and the admins alone: anyone else
 * asking by name gets exactly what a room that does not exist gets, and is never told of it,
 * its member count or its activity.
 */
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

describe('closed rooms', () => {
  it('are invisible to a non-member: not listed, not announced, and every request answers as for no room', async () => {
    const boss = await adminClient(t);
    const insider = await registered(t);
    const outsider = await registered(t);
    const heard: ServerEvent[] = [];
    outsider.on('event', (e) => heard.push(e));

    expect((await boss.call('adminCreateRoom', { name: 'Direction', policy: 'closed' })).ok).toBe(true);
    expect((await boss.call('adminGrant', { username: insider.username!, room: 'Direction' })).ok).toBe(true);
    await until(() => insider.rooms.get('Direction')?.info.access === 'member', 'the insider is a member');
    expect((await insider.settled(insider.post('Direction', 'plan de restructuration'))).status).toBe('sent');

    const listed = await outsider.call('listRooms', {});
    expect(listed.ok && listed.value.rooms.map((r) => r.name)).not.toContain('Direction');
    // Every way of naming it answers like a name no room has, message included.
    const asked = async (room: string) => {
      const answers = await Promise.all([
        outsider.call('requestAccess', { room }),
        outsider.call('fetchHistory', { room }),
        outsider.call('listMembers', { room }),
        outsider.call('postMessage', { room, text: 'hello?', clientId: `probe-${room}` }),
      ]);
      return answers.map((a) => (a.ok ? 'ok' : `${a.error.code}: ${a.error.message.replace(room, '<room>')}`));
    };
    const missing = await asked('Nowhere');
    expect(missing.every((a) => a.startsWith('UNKNOWN_ROOM'))).toBe(true);
    expect(await asked('Direction')).toEqual(missing);
    expect(await asked('DIRECTION')).toEqual(missing);
    const sync = await outsider.call('syncRooms', { cursors: { Direction: 0 } });
    expect(sync.ok && sync.value.rooms).toEqual([]);

    // The member and the admin see it, with its activity.
    for (const c of [insider, boss]) {
      const r = await c.call('listRooms', {});
      const room = r.ok ? r.value.rooms.find((x) => x.name === 'Direction') : undefined;
      expect(room).toMatchObject({ policy: 'closed', access: 'member', lastSeq: 1 });
    }
    // Another closed room made now is not announced to the outsider; an open one is.
    expect((await boss.call('adminCreateRoom', { name: 'Comité secret', policy: 'closed' })).ok).toBe(true);
    expect((await boss.call('adminCreateRoom', { name: 'Cantine', policy: 'open' })).ok).toBe(true);
    await until(() => heard.some((e) => e.ev === 'roomCreated'), 'the open room is announced');
    expect(heard.filter((e) => e.ev === 'roomCreated').map((e) => e.ev === 'roomCreated' && e.room)).toEqual(['Cantine']);
    expect([...outsider.rooms.keys()]).not.toContain('Direction');
    for (const c of [boss, insider, outsider]) c.close();
  });
});
