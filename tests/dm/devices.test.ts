/**
 * One identity per user on every device (issue 13 §2): the authority keeps it sealed under a key
 * that only the password's holder derives (OPAQUE's export key), so a new device opens the same
 * keys and friends see no key change. Real authority, real OPAQUE, real engines on their own dirs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetPassword } from '../../authority/src/handlers/moderation.js';
import { DmHistory, historyKeyFrom, historyName, unlockIdentity } from '../../shared/client/dm/index.js';
import { FileDmStorage, loadNodeSql } from '../../cli/dm/index.js';
import { generateIdentity, sealIdentityBackup } from '../../shared/crypto/index.js';
import { newClient, PASSWORD, registered, tempDir, uniqueName, until, type TestAuthority, startAuthority } from '../helpers/authority.js';
import { closeAll, dmUser, engineFor, friends, goOffline, receivedText, record, TEST_KDF_N } from './helpers.js';

const NEW_PASSWORD = 'Un autre mot de passe, 2026!';
const ADMIN = { name: 'test-admin', origin: 'test' };

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority();
});
afterAll(async () => {
  await closeAll();
  await t.cleanup();
});

function keptBackup(name: string) {
  const id = t.authority.store.users.byName(name)!.id;
  return t.authority.store.dms.backupOf(id);
}

describe('a second device', () => {
  it('opens the same identity: same safety number, no key change for friends, no alarm', async () => {
    const [a, b] = await friends(t);
    const laptop = await dmUser(t, { name: b.name, register: false });
    expect(laptop.dm.keyId).toBe(b.dm.keyId);
    expect(laptop.events.identityCreated).toEqual([]);
    expect(laptop.events.warning).toEqual([]);

    // What the new device sends is taken by the friend as from the key it pinned.
    await laptop.dm.send(a.name, 'depuis mon portable');
    await receivedText(a, 'depuis mon portable');
    expect(a.events.keyChanged).toEqual([]);
    expect(a.events.rejected).toEqual([]);
    const fromA = await a.dm.safetyNumber(b.name);
    const fromLaptop = await laptop.dm.safetyNumber(a.name);
    expect(fromA.ok && fromLaptop.ok && fromA.value.safetyNumber === fromLaptop.value.safetyNumber).toBe(true);
    // Both devices watch the key log for their name: one key, no alarm on either.
    expect((await b.dm.checkKeyLog()).ok).toBe(true);
    expect((await laptop.dm.checkKeyLog()).ok).toBe(true);
    expect([...b.events.keyLogAlarm, ...laptop.events.keyLogAlarm]).toEqual([]);
  });

  it('the authority keeps only ciphertext, which its own export key does not open', async () => {
    const u = await dmUser(t);
    const kept = keptBackup(u.name)!;
    expect(kept.keyId).toBe(u.dm.keyId);
    const storage = new FileDmStorage(u.dir);
    const local = await unlockIdentity(storage, u.name, PASSWORD, { kdfN: TEST_KDF_N, localOnly: true });
    if (!local.ok) throw new Error(local.error.code);
    const secrets = [local.value.identity.box.secretKey, local.value.identity.sign.secretKey.subarray(0, 32)];
    const dump = JSON.stringify(kept);
    for (const secret of secrets) {
      expect(dump).not.toContain(Buffer.from(secret).toString('base64'));
      expect(dump).not.toContain(Buffer.from(secret).toString('hex'));
    }
    // The account's export (GDPR) names it without its ciphertext.
    const exported = t.authority.store.privacy.exportUser(t.authority.store.users.byName(u.name)!.id);
    expect(exported?.identityBackup).toMatchObject({ keyId: u.dm.keyId });
  });

  it('two new devices at once end with one identity', async () => {
    const name = uniqueName('twin');
    (await registered(t, name)).close();
    const logins = await Promise.all(
      [0, 1].map(async () => {
        const c = newClient(t);
        const r = await c.login(name, PASSWORD);
        if (!r.ok) throw new Error(r.error.code);
        return c;
      }),
    );
    const engines = logins.map((c) => engineFor(c, tempDir('chandler-dm-')));
    const unlocked = await Promise.all(engines.map((e) => e.unlock(PASSWORD)));
    expect(unlocked.every((r) => r.ok)).toBe(true);
    expect(engines[0]!.keyId).toBe(engines[1]!.keyId);
    expect(keptBackup(name)?.keyId).toBe(engines[0]!.keyId);
    for (const [i, e] of engines.entries()) {
      await e.close();
      logins[i]!.close();
    }
  });

  it('a resumed session opens only the keys already on the device: a new one needs the password', async () => {
    const u = await dmUser(t);
    const token = u.client.session!.token;
    await goOffline(u);
    const resumed = newClient(t);
    expect((await resumed.resume(token)).ok).toBe(true);
    expect(resumed.exportKey).toBeNull();
    const elsewhere = engineFor(resumed, tempDir('chandler-dm-'));
    const r = await elsewhere.unlock(PASSWORD);
    expect(r.ok ? 'opened' : r.error.code).toBe('LOCKED');
    await elsewhere.close();
    // On the device that has them, they open.
    const here = engineFor(resumed, u.dir);
    const opened = await here.unlock(PASSWORD);
    expect(opened.ok && opened.value.keyId).toBe(u.dm.keyId);
    await here.close();
    resumed.close();
  });
});

describe('passwords', () => {
  it('a password change seals the backup again: a new device with the new password opens the same identity', async () => {
    const u = await dmUser(t);
    const before = keptBackup(u.name)!;
    const changed = await u.client.changePassword(PASSWORD, NEW_PASSWORD);
    expect(changed.ok).toBe(true);
    await u.dm.changePassword(NEW_PASSWORD);
    const after = keptBackup(u.name)!;
    expect(after.keyId).toBe(before.keyId);
    expect(after.sealed).toBe(before.sealed); // only the backup key's seal changed
    expect(after.wrap).not.toBe(before.wrap);

    const c = newClient(t);
    expect((await c.login(u.name, NEW_PASSWORD)).ok).toBe(true);
    const phone = engineFor(c, tempDir('chandler-dm-'));
    const events = record(phone);
    const r = await phone.unlock(NEW_PASSWORD);
    expect(r.ok && r.value).toEqual({ keyId: u.dm.keyId, created: false });
    expect(events.warning).toEqual([]);
    await phone.close();
    c.close();
  });

  it('a device whose keys were sealed under the old password opens them again from the backup', async () => {
    const [a, b] = await friends(t);
    const desktop = await dmUser(t, { name: b.name, register: false });
    await goOffline(desktop);
    expect((await b.client.changePassword(PASSWORD, NEW_PASSWORD)).ok).toBe(true);
    // Back on the desktop with the new password: its file does not open with it, the backup does.
    const c = newClient(t);
    expect((await c.login(b.name, NEW_PASSWORD)).ok).toBe(true);
    const again = engineFor(c, desktop.dir);
    const events = record(again);
    const r = await again.unlock(NEW_PASSWORD);
    expect(r.ok && r.value.keyId).toBe(b.dm.keyId);
    expect(events.identityCreated).toEqual([]);
    await again.send(a.name, 'toujours moi');
    await receivedText(a, 'toujours moi');
    expect(a.events.keyChanged).toEqual([]);
    await again.close();
    c.close();
  });

  it("an admin's reset drops the backup (no one can open it): the next login makes a new identity and friends are warned", async () => {
    const [a, b] = await friends(t);
    await goOffline(b);
    const reset = resetPassword(t.authority, ADMIN, b.name);
    if (!reset.ok) throw new Error(reset.error.code);
    const c = newClient(t);
    expect((await c.resetPassword(b.name, reset.value.code, NEW_PASSWORD)).ok).toBe(true);
    expect(keptBackup(b.name)).toBeNull();
    const fresh = engineFor(c, b.dir);
    const events = record(fresh);
    const r = await fresh.unlock(NEW_PASSWORD);
    expect(r.ok && r.value.created).toBe(true);
    expect(fresh.keyId).not.toBe(b.dm.keyId);
    expect(keptBackup(b.name)?.keyId).toBe(fresh.keyId);
    expect(events.warning.map((w) => w.code)).toContain('IDENTITY_REPLACED');
    await until(() => a.events.keyChanged.some((k) => k.username === b.name), 'the friend is told the key changed');
    await fresh.close();
    c.close();
  });
});

describe('attacks on the backup', () => {
  it('a stolen session plants its own keys: no device of the user takes them', async () => {
    const [a, b] = await friends(t);
    // The thief has b's session (not the password): he replaces the backup with keys he holds.
    const thief = newClient(t);
    expect((await thief.resume(b.client.session!.token)).ok).toBe(true);
    const planted = generateIdentity();
    const put = await thief.call('putIdentityBackup', {
      backup: sealIdentityBackup(planted, new Uint8Array(64).fill(9)),
      replaces: b.dm.keyId,
    });
    expect(put.ok).toBe(true);
    thief.close();
    // b's next device cannot open it (the thief does not have the export key): it keeps b's keys.
    const phone = await dmUser(t, { name: b.name, dir: b.dir, register: false });
    expect(phone.dm.keyId).toBe(b.dm.keyId);
    expect(phone.dm.keyId).not.toBe(planted.keyId);
    expect(keptBackup(b.name)?.keyId).toBe(b.dm.keyId);
    expect(a.events.keyChanged).toEqual([]);
  });

  it('a put that did not read the kept backup is refused (BACKUP_CONFLICT), as is a malformed one', async () => {
    const u = await dmUser(t);
    const stale = await u.client.call('putIdentityBackup', {
      backup: sealIdentityBackup(generateIdentity(), new Uint8Array(64)),
      replaces: null,
    });
    expect(!stale.ok && stale.error.code).toBe('BACKUP_CONFLICT');
    const bad = await u.client.call('putIdentityBackup', {
      // Sent as is: the client does not check what it sends, the authority does.
      backup: { v: 1, keyId: u.dm.keyId!, wrap: 'AAAA', sealed: 'AAAA' } as never,
      replaces: u.dm.keyId,
    });
    expect(!bad.ok && bad.error.code).toBe('BAD_REQUEST');
    expect(keptBackup(u.name)?.keyId).toBe(u.dm.keyId);
  });
});

describe('a device from before one identity per account', () => {
  it("takes the account's identity and keeps its DM history, sealed again under the new keys", async () => {
    const name = uniqueName('old');
    (await registered(t, name)).close();
    // The old device: its own identity and a history sealed with it, as every device had before.
    const dir = tempDir('chandler-dm-');
    const storage = new FileDmStorage(dir);
    const own = await unlockIdentity(storage, name, PASSWORD, { kdfN: TEST_KDF_N });
    if (!own.ok) throw new Error(own.error.code);
    const oldKey = own.value.identity;
    const { history } = await DmHistory.open({
      sql: await loadNodeSql(),
      storage,
      name: historyName(name),
      key: historyKeyFrom(oldKey.box.secretKey, oldKey.sign.secretKey.subarray(0, 32)),
      saveDelayMs: 0,
      onSaveError: (err) => {
        throw err;
      },
    });
    history.insert({ id: 'old-dm-1', peer: 'someone', direction: 'in', author: 'someone', text: "d'avant", ts: 1, path: 'direct', status: 'delivered' }, 1);
    await history.close();

    // Another device logged in since and keeps the account's identity.
    const other = await dmUser(t, { name, register: false });
    expect(other.dm.keyId).not.toBe(oldKey.keyId);

    const old = await dmUser(t, { name, dir, register: false });
    expect(old.dm.keyId).toBe(other.dm.keyId);
    expect(old.events.warning.map((w) => w.code)).toEqual(['IDENTITY_ADOPTED']);
    const conv = old.dm.conversation('someone');
    expect(conv.ok && conv.value.map((r) => r.text)).toEqual(["d'avant"]);
  });
});
