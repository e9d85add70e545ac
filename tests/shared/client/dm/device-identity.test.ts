/** The identity at rest: created once, sealed under the password, never silently lost; one per account with a backup port. */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileDmStorage } from '../../../../cli/dm/index.js';
import { identityName, unlockIdentity, type IdentityBackupPort, type UnlockedIdentity } from '../../../../shared/client/dm/index.js';
import { sealIdentityBackup, generateIdentity } from '../../../../shared/crypto/index.js';
import { fail, ok, type IdentityBackup, type Outcome } from '../../../../shared/protocol/index.js';
import { tempDir } from '../../../helpers/authority.js';

const N = 1 << 10;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function value(r: Outcome<UnlockedIdentity>): UnlockedIdentity {
  if (!r.ok) throw new Error(`unlock failed: ${r.error.code}`);
  return r.value;
}

/** The authority's part, in memory: one kept backup, replaced only by who read it (as putIdentityBackup). */
function account(exportKey: Uint8Array) {
  const state = { kept: null as IdentityBackup | null, puts: 0 };
  const port = (key: Uint8Array = exportKey): IdentityBackupPort => ({
    exportKey: key,
    get: () => Promise.resolve(ok(state.kept)),
    put: (backup, replaces) => {
      if ((state.kept?.keyId ?? null) !== replaces) return Promise.resolve(fail('BACKUP_CONFLICT'));
      state.kept = backup;
      state.puts++;
      return Promise.resolve(ok(undefined));
    },
  });
  return { state, port };
}

function storage(): FileDmStorage {
  const dir = tempDir('chandler-identity-');
  dirs.push(dir);
  return new FileDmStorage(dir);
}

describe('device identity', () => {
  it('is created at first unlock and the same one is opened afterwards', async () => {
    const store = storage();
    const first = value(await unlockIdentity(store, 'Alice', 'a long password!', { kdfN: N }));
    expect(first.created).toBe(true);
    const sealed = readFileSync(join(store.dir, identityName('alice')), 'utf8');
    expect(JSON.parse(sealed)).toMatchObject({ v: 1, kdf: { name: 'scrypt', N } });
    // No secret key in the clear.
    expect(sealed).not.toContain(Buffer.from(first.identity.box.secretKey).toString('base64'));
    const again = value(await unlockIdentity(store, 'alice', 'a long password!', { kdfN: N }));
    expect(again).toMatchObject({ created: false, setAside: null });
    expect(again.identity.keyId).toBe(first.identity.keyId);
    expect(again.identity.box.secretKey).toEqual(first.identity.box.secretKey);
  });

  it('keeps an identity the password cannot open aside and makes a new one', async () => {
    const store = storage();
    const first = value(await unlockIdentity(store, 'alice', 'the old password!', { kdfN: N }));
    const before = readFileSync(join(store.dir, identityName('alice')));
    const replaced = value(await unlockIdentity(store, 'alice', 'the new password!', { kdfN: N, now: 42 }));
    expect(replaced.created).toBe(true);
    expect(replaced.setAside).toBe(`${identityName('alice')}.unreadable-42`);
    expect(replaced.identity.keyId).not.toBe(first.identity.keyId);
    expect(readFileSync(join(store.dir, replaced.setAside!))).toEqual(before);
  });

  it('treats a damaged file the same way, without crashing', async () => {
    const store = storage();
    await unlockIdentity(store, 'alice', 'a long password!', { kdfN: N });
    writeFileSync(join(store.dir, identityName('alice')), '{"v":1,"kdf":{"name":"scrypt","N":1073741824}}');
    const r = await unlockIdentity(store, 'alice', 'a long password!', { kdfN: N, now: 7 });
    expect(value(r)).toMatchObject({ created: true, setAside: `${identityName('alice')}.unreadable-7` });
  });

  it('without an export key (a resumed session) opens only the keys already here: LOCKED, nothing made', async () => {
    const store = storage();
    const r = await unlockIdentity(store, 'alice', 'a long password!', { kdfN: N, localOnly: true });
    expect(r.ok ? null : r.error.code).toBe('LOCKED');
    expect(await store.read(identityName('alice'))).toBeNull();
  });
});

describe('one identity per account (the sealed backup)', () => {
  const exportKey = new Uint8Array(64).fill(7);

  it('the first device makes it and keeps it sealed; a new device opens the same keys', async () => {
    const { state, port } = account(exportKey);
    const laptop = value(await unlockIdentity(storage(), 'alice', 'a long password!', { kdfN: N, backup: port() }));
    expect(laptop).toMatchObject({ created: true, previous: null });
    expect(state.kept?.keyId).toBe(laptop.identity.keyId);
    // No secret in the clear in what the authority keeps.
    expect(JSON.stringify(state.kept)).not.toContain(Buffer.from(laptop.identity.box.secretKey).toString('base64'));
    const desktopStore = storage();
    const desktop = value(await unlockIdentity(desktopStore, 'alice', 'a long password!', { kdfN: N, backup: port() }));
    expect(desktop).toMatchObject({ created: false, previous: null, setAside: null });
    expect(desktop.identity.keyId).toBe(laptop.identity.keyId);
    expect(desktop.identity.sign.secretKey).toEqual(laptop.identity.sign.secretKey);
    expect(state.puts).toBe(1);
    // Kept on the new device too: the next unlock opens it there without asking.
    const local = value(await unlockIdentity(desktopStore, 'alice', 'a long password!', { kdfN: N, localOnly: true }));
    expect(local.identity.keyId).toBe(laptop.identity.keyId);
  });

  it("a device that had its own keys takes the account's and keeps its own aside", async () => {
    const { port } = account(exportKey);
    const first = value(await unlockIdentity(storage(), 'alice', 'a long password!', { kdfN: N, backup: port() }));
    const store = storage();
    const own = value(await unlockIdentity(store, 'alice', 'a long password!', { kdfN: N }));
    const before = readFileSync(join(store.dir, identityName('alice')));
    const r = value(await unlockIdentity(store, 'alice', 'a long password!', { kdfN: N, backup: port(), now: 9 }));
    expect(r.identity.keyId).toBe(first.identity.keyId);
    expect(r.previous?.keyId).toBe(own.identity.keyId);
    expect(r.setAside).toBe(`${identityName('alice')}.replaced-9`);
    expect(readFileSync(join(store.dir, r.setAside!))).toEqual(before);
  });

  it('a backup this export key cannot open (another password, tampering) is replaced by this device\'s keys', async () => {
    const { state, port } = account(exportKey);
    state.kept = sealIdentityBackup(generateIdentity(), new Uint8Array(64).fill(1));
    const store = storage();
    const mine = value(await unlockIdentity(store, 'alice', 'a long password!', { kdfN: N }));
    const r = value(await unlockIdentity(store, 'alice', 'a long password!', { kdfN: N, backup: port() }));
    expect(r).toMatchObject({ created: false, previous: null });
    expect(r.identity.keyId).toBe(mine.identity.keyId);
    expect(state.kept.keyId).toBe(mine.identity.keyId);
    // A tampered one (its sealed keys from another identity than its keyId) is no identity either.
    const other = sealIdentityBackup(generateIdentity(), exportKey);
    state.kept = { ...other, keyId: mine.identity.keyId.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) };
    const again = value(await unlockIdentity(storage(), 'alice', 'a long password!', { kdfN: N, backup: port() }));
    expect(again.created).toBe(true);
    expect(state.kept.keyId).toBe(again.identity.keyId);
  });

  it('two new devices at once: the second to keep one takes the first one\'s', async () => {
    const { state, port } = account(exportKey);
    const winner = generateIdentity();
    const racing = port();
    const slowGet = racing.get;
    let raced = false;
    racing.get = async () => {
      const r = await slowGet();
      // Another device keeps its identity between this read and our write, once.
      if (!raced) {
        raced = true;
        state.kept = sealIdentityBackup(winner, exportKey);
      }
      return r;
    };
    const r = value(await unlockIdentity(storage(), 'alice', 'a long password!', { kdfN: N, backup: racing }));
    expect(r.identity.keyId).toBe(winner.keyId);
    expect(r.created).toBe(false);
  });
});
