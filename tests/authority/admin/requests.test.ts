/**
 * The admin requests of a client (the desktop admin panel's calls): same operations as the
 * console, refused to non-admins, audited under the admin's name and address.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChandlerClient, ClosedInfo } from '../../../shared/client/index.js';
import { CLOSE_CODES, type ServerEvent } from '../../../shared/protocol/index.js';
import { adminClient, newClient, PASSWORD, registered, startAuthority, uniqueName, type TestAuthority } from '../../helpers/authority.js';

let t: TestAuthority;
let live: ChandlerClient[] = [];

beforeEach(async () => {
  t = await startAuthority();
});
afterEach(async () => {
  for (const c of live) c.close();
  live = [];
  await t.cleanup();
});

async function user(): Promise<ChandlerClient> {
  const c = await registered(t);
  live.push(c);
  return c;
}

async function admin(): Promise<ChandlerClient> {
  const c = await adminClient(t);
  live.push(c);
  return c;
}

function closedOf(c: ChandlerClient): Promise<ClosedInfo> {
  return new Promise((resolve) => c.on('closed', resolve));
}

function lastAudit() {
  return t.authority.store.audit.recent(1)[0];
}

describe('admin requests', () => {
  it('are refused to users who are not admins', async () => {
    const u = await user();
    const other = await user();
    const calls = [
      u.call('adminListUsers', {}),
      u.call('adminBan', { username: other.username! }),
      u.call('adminUnban', { username: other.username! }),
      u.call('adminKick', { username: other.username!, seconds: 60 }),
      u.call('adminGrant', { username: other.username!, room: 'Marketing' }),
      u.call('adminRevoke', { username: other.username!, room: 'Général' }),
      u.call('adminCreateRoom', { name: 'Pirates', policy: 'open' }),
    ];
    for (const r of await Promise.all(calls)) expect(!r.ok && r.error.code).toBe('NOT_ADMIN');
    expect(t.authority.store.audit.count()).toBe(0);
    expect(t.authority.store.rooms.byName('Pirates')).toBeUndefined();
  });

  it('adminListUsers shows role, ban, kick and presence', async () => {
    const boss = await admin();
    const u = await user();
    const r = await boss.call('adminListUsers', {});
    expect(r.ok).toBe(true);
    const users = r.ok ? r.value.users : [];
    expect(users).toContainEqual({ username: boss.username, admin: true, banned: false, kickedUntil: null, online: true });
    expect(users).toContainEqual({ username: u.username, admin: false, banned: false, kickedUntil: null, online: true });
  });

  it('adminKick closes the session with the end time, refuses login, and is audited with the admin and address', async () => {
    const boss = await admin();
    const u = await user();
    const name = u.username!;
    const closed = closedOf(u);
    expect((await boss.call('adminKick', { username: name, seconds: 600 })).ok).toBe(true);
    const info = await closed;
    expect(info.code).toBe(CLOSE_CODES.KICKED);
    const until = Date.parse(info.reason.replace(/^kicked until /, ''));
    expect(until).toBeGreaterThan(Date.now() + 590_000);
    const again = newClient(t);
    live.push(again);
    const r = await again.login(name, PASSWORD);
    expect(!r.ok && r.error).toMatchObject({ code: 'KICKED', until });
    expect(lastAudit()).toMatchObject({ actor: boss.username, origin: '127.0.0.1', action: 'kick', target: name });
    const listed = await boss.call('adminListUsers', {});
    expect(listed.ok && listed.value.users.find((x) => x.username === name)?.kickedUntil).toBe(until);
    // Bad input is a typed error, not a crash.
    for (const seconds of [0, -5, 1.5, 10 ** 12]) {
      const bad = await boss.call('adminKick', { username: name, seconds });
      expect(!bad.ok && bad.error.code).toBe('BAD_REQUEST');
    }
    const self = await boss.call('adminKick', { username: boss.username!.toUpperCase(), seconds: 60 });
    expect(!self.ok && self.error.code).toBe('CANNOT_TARGET_SELF');
    const ghost = await boss.call('adminKick', { username: 'nobody_here', seconds: 60 });
    expect(!ghost.ok && ghost.error.code).toBe('UNKNOWN_USER');
    expect((await boss.call('adminUnban', { username: name })).ok).toBe(true);
    expect((await again.login(name, PASSWORD)).ok).toBe(true);
  });

  it('adminCreateRoom, adminGrant and adminRevoke act live', async () => {
    const boss = await admin();
    const u = await user();
    const events: ServerEvent[] = [];
    u.on('event', (e) => events.push(e));
    expect((await boss.call('adminCreateRoom', { name: 'Comité', policy: 'closed' })).ok).toBe(true);
    const dup = await boss.call('adminCreateRoom', { name: 'comité', policy: 'open' });
    expect(!dup.ok && dup.error.code).toMatch(/ROOM_EXISTS/);
    const bad = await boss.call('adminCreateRoom', { name: ' padded ', policy: 'open' });
    expect(!bad.ok && bad.error.code).toBe('BAD_REQUEST');
    // The admin reads the new room at once; the user must be invited.
    expect((await boss.history('Comité')).ok).toBe(true);
    // To a non-member a closed room does not exist: not listed, not told, not askable.
    const closed = await u.requestAccess('Comité');
    expect(!closed.ok && closed.error.code).toBe('UNKNOWN_ROOM');
    expect((await boss.call('adminGrant', { username: u.username!, room: 'Comité' })).ok).toBe(true);
    const twice = await boss.call('adminGrant', { username: u.username!, room: 'Comité' });
    expect(!twice.ok && twice.error.code).toBe('ALREADY_MEMBER');
    expect((await u.history('Comité')).ok).toBe(true);
    expect((await boss.call('adminRevoke', { username: u.username!, room: 'Comité' })).ok).toBe(true);
    const gone = await u.history('Comité');
    expect(!gone.ok && gone.error.code).toBe('UNKNOWN_ROOM');
    const notMember = await boss.call('adminRevoke', { username: u.username!, room: 'Comité' });
    expect(!notMember.ok && notMember.error.code).toBe('NOT_A_MEMBER');
    expect(events.map((e) => e.ev)).toEqual(expect.arrayContaining(['accessGranted', 'accessRevoked']));
    expect(events.map((e) => e.ev)).not.toContain('roomCreated');
    const actions = t.authority.store.audit.recent(10).map((r) => [r.actor, r.action, r.target]);
    expect(actions).toEqual([
      [boss.username, 'create_room', 'Comité'],
      [boss.username, 'grant', u.username],
      [boss.username, 'revoke', u.username],
    ]);
    expect(t.authority.store.audit.verify().ok).toBe(true);
  });

  it('adminBan cuts the user, blocks account and address, and adminUnban lifts both', async () => {
    const boss = await admin();
    // Its own loopback address: 127.0.0.1 is the console's own, which a ban never blocks.
    const u = newClient(t, { localAddress: '127.0.0.7' });
    live.push(u);
    const name = uniqueName('banned');
    expect((await u.register(name, PASSWORD)).ok).toBe(true);
    const closed = closedOf(u);
    const self = await boss.call('adminBan', { username: boss.username! });
    expect(!self.ok && self.error.code).toBe('CANNOT_TARGET_SELF');
    const bell = await boss.call('adminBan', { username: name, reason: 'ding\u0007' });
    expect(!bell.ok && bell.error.code).toBe('BAD_REQUEST');
    expect((await boss.call('adminBan', { username: name, reason: 'phishing links' })).ok).toBe(true);
    expect(await closed).toMatchObject({ code: CLOSE_CODES.BANNED, reason: 'banned: phishing links' });
    expect(t.authority.store.users.isIpBanned('127.0.0.7')).toBe(true);
    expect(t.authority.store.users.isIpBanned('127.0.0.1')).toBe(false);
    // The admin's own live connection stays; the listing shows the ban.
    const listed = await boss.call('adminListUsers', {});
    expect(listed.ok && listed.value.users.find((x) => x.username === name)).toMatchObject({ banned: true, online: false });
    expect(lastAudit()).toMatchObject({ actor: boss.username, origin: '127.0.0.1', action: 'ban', target: name });
    // The account itself is refused even from an address that is not banned.
    t.authority.store.db.prepare('DELETE FROM ip_bans').run();
    const fresh = newClient(t);
    live.push(fresh);
    const refused = await fresh.login(name, PASSWORD);
    expect(!refused.ok && refused.error).toMatchObject({ code: 'BANNED', message: 'banned: phishing links' });
    expect((await boss.call('adminUnban', { username: name })).ok).toBe(true);
    const back = newClient(t);
    live.push(back);
    expect((await back.login(name, PASSWORD)).ok).toBe(true);
  });
});
