/** Trust on first use, safety numbers, and the block on a changed key until the user trusts it. */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyName, identityName } from '../../shared/client/dm/index.js';
import { startAuthority, tempDir, until, type TestAuthority } from '../helpers/authority.js';
import { closeAll, dmUser, friends, goOffline, receivedText } from './helpers.js';

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority();
});
afterAll(async () => {
  await closeAll();
  await t.cleanup();
});

/** A user's new device after the account's sealed identity was dropped (an admin's reset does it): a new identity. */
function startedOver(name: string) {
  t.authority.store.dms.deleteBackup(t.authority.store.users.byName(name)!.id);
  return dmUser(t, { name, dir: tempDir('chandler-dm-'), register: false });
}

describe('device keys', () => {
  it('are made at the first login, kept sealed on the device only, and the same at the next login', async () => {
    const u = await dmUser(t);
    expect(u.events.identityCreated).toEqual([{ keyId: u.dm.keyId, replaced: false }]);
    const file = join(u.dir, identityName(u.name));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(u.dir).mode & 0o777).toBe(0o700);
    // The authority holds the public identity only.
    const published = await u.client.call('fetchKeys', { username: u.name });
    expect(published.ok && published.value.identity.keyId).toBe(u.dm.keyId);
    const keyId = u.dm.keyId;
    await goOffline(u);
    const again = await dmUser(t, { name: u.name, dir: u.dir, register: false });
    expect(again.dm.keyId).toBe(keyId);
    expect(again.events.identityCreated).toEqual([]);
  });
});

describe('trust', () => {
  it('shows both friends the same safety number', async () => {
    const [a, b] = await friends(t);
    const fromA = await a.dm.safetyNumber(b.name);
    const fromB = await b.dm.safetyNumber(a.name);
    expect(fromA.ok && fromB.ok).toBe(true);
    if (!fromA.ok || !fromB.ok) return;
    expect(fromA.value.safetyNumber).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(fromA.value.safetyNumber).toBe(fromB.value.safetyNumber);
    expect(fromA.value.pending).toBeNull();
  });

  it('blocks sending when a friend key changes, until the user trusts the new key', async () => {
    const [a, b] = await friends(t);
    const before = await a.dm.safetyNumber(b.name);
    // b starts over: a new device directory and no identity kept for the account (as after an
    // admin's reset), hence a new identity, published at login.
    await goOffline(b);
    const b2 = await startedOver(b.name);
    expect(b2.dm.keyId).not.toBe(b.dm.keyId);
    await until(() => a.events.keyChanged.length === 1, 'a is warned of the change');
    expect(a.events.keyChanged[0]).toMatchObject({ username: b.name, pinnedKeyId: b.dm.keyId, newKeyId: b2.dm.keyId });
    expect(a.dm.isBlocked(b.name)).toBe(true);

    const blocked = await a.dm.send(b.name, 'must not leave');
    expect(!blocked.ok && blocked.error.code).toBe('KEY_CHANGED');
    const conv = a.dm.conversation(b.name);
    expect(conv.ok && conv.value.some((r) => r.text === 'must not leave')).toBe(false);

    // The new safety number differs from the old one, and matches what b2 sees.
    const changed = await a.dm.safetyNumber(b.name);
    const fromB2 = await b2.dm.safetyNumber(a.name);
    if (!changed.ok || !fromB2.ok || !before.ok) throw new Error('safety numbers unavailable');
    expect(changed.value.safetyNumber).toBe(before.value.safetyNumber);
    expect(changed.value.pending?.safetyNumber).toBe(fromB2.value.safetyNumber);
    expect(changed.value.pending?.safetyNumber).not.toBe(before.value.safetyNumber);

    // What b2 sends meanwhile is held by a, not shown, until a trusts the key.
    const early = await b2.dm.send(a.name, 'from my new device');
    expect(early.ok).toBe(true);
    await until(() => a.events.rejected.some((r) => r.reason === 'UNPINNED_KEY'), 'held as from an unpinned key');
    expect(a.events.received.some((r) => r.text === 'from my new device')).toBe(false);

    const trusted = await a.dm.trust(b.name);
    expect(trusted.ok && trusted.value).toMatchObject({ changed: true, keyId: b2.dm.keyId });
    expect(a.dm.isBlocked(b.name)).toBe(false);
    await receivedText(a, 'from my new device');
    const after = await a.dm.send(b.name, 'welcome back');
    expect(after.ok).toBe(true);
    await receivedText(b2, 'welcome back');
    // Trusting again is a no-op that says so.
    const again = await a.dm.trust(b.name);
    expect(again.ok && again.value.changed).toBe(false);
  });

  it('notices a change made while offline at the next login, and keeps waiting DMs stored until trusted', async () => {
    const [a, b] = await friends(t);
    await goOffline(a);
    await goOffline(b);
    const b2 = await startedOver(b.name);
    const sent = await b2.dm.send(a.name, 'sent while you were away');
    expect(sent.ok && sent.value.path).toBe('stored');

    const a2 = await dmUser(t, { name: a.name, dir: a.dir, register: false });
    await until(() => a2.events.keyChanged.length === 1, 'change noticed at login');
    await until(() => a2.events.rejected.some((r) => r.reason === 'UNPINNED_KEY'), 'stored DM held');
    // Not acknowledged while held: the authority keeps it.
    const aId = t.authority.store.users.byName(a.name)!.id;
    expect(t.authority.store.dms.countFor(aId)).toBe(1);
    const blocked = await a2.dm.send(b.name, 'blocked');
    expect(!blocked.ok && blocked.error.code).toBe('KEY_CHANGED');

    expect((await a2.dm.trust(b.name)).ok).toBe(true);
    expect((await receivedText(a2, 'sent while you were away')).path).toBe('stored');
    await until(() => t.authority.store.dms.countFor(aId) === 0, 'acknowledged once trusted');
    expect(existsSync(join(a2.dir, historyName(a.name)))).toBe(true);
  });
});
