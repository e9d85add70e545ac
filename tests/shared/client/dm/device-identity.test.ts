/** The device identity at rest: created once, sealed under the password, never silently lost. */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileDmStorage } from '../../../../cli/dm/index.js';
import { identityName, unlockIdentity } from '../../../../shared/client/dm/index.js';
import { tempDir } from '../../../helpers/authority.js';

const N = 1 << 10;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function storage(): FileDmStorage {
  const dir = tempDir('chandler-identity-');
  dirs.push(dir);
  return new FileDmStorage(dir);
}

describe('device identity', () => {
  it('is created at first unlock and the same one is opened afterwards', async () => {
    const store = storage();
    const first = await unlockIdentity(store, 'Alice', 'a long password!', { kdfN: N });
    expect(first.created).toBe(true);
    const sealed = readFileSync(join(store.dir, identityName('alice')), 'utf8');
    expect(JSON.parse(sealed)).toMatchObject({ v: 1, kdf: { name: 'scrypt', N } });
    // No secret key in the clear.
    expect(sealed).not.toContain(Buffer.from(first.identity.box.secretKey).toString('base64'));
    const again = await unlockIdentity(store, 'alice', 'a long password!', { kdfN: N });
    expect(again).toMatchObject({ created: false, setAside: null });
    expect(again.identity.keyId).toBe(first.identity.keyId);
    expect(again.identity.box.secretKey).toEqual(first.identity.box.secretKey);
  });

  it('keeps an identity the password cannot open aside and makes a new one', async () => {
    const store = storage();
    const first = await unlockIdentity(store, 'alice', 'the old password!', { kdfN: N });
    const before = readFileSync(join(store.dir, identityName('alice')));
    const replaced = await unlockIdentity(store, 'alice', 'the new password!', { kdfN: N, now: 42 });
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
    expect(r).toMatchObject({ created: true, setAside: `${identityName('alice')}.unreadable-7` });
  });
});
