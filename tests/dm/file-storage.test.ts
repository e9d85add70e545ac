/** The Node storage of DM keys and history: owner-only files, atomic replacement, safe names. */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileDmStorage } from '../../cli/dm/index.js';
import { tempDir } from '../helpers/authority.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('FileDmStorage', () => {
  it('writes owner-only files in an owner-only directory, replacing them whole', async () => {
    const root = tempDir('chandler-store-');
    dirs.push(root);
    const store = new FileDmStorage(join(root, 'dm'));
    expect(await store.read('identity-alice.json')).toBeNull();
    await store.write('identity-alice.json', new TextEncoder().encode('first'));
    await store.write('identity-alice.json', new TextEncoder().encode('second, longer'));
    expect(new TextDecoder().decode((await store.read('identity-alice.json'))!)).toBe('second, longer');
    expect(statSync(join(root, 'dm')).mode & 0o777).toBe(0o700);
    expect(statSync(join(root, 'dm', 'identity-alice.json')).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(root, 'dm'))).toEqual(['identity-alice.json']); // no temporary file left
    await store.remove('identity-alice.json');
    expect(await store.read('identity-alice.json')).toBeNull();
  });

  it('refuses names that could leave its directory', async () => {
    const root = tempDir('chandler-store-');
    dirs.push(root);
    const store = new FileDmStorage(root);
    for (const name of ['../escape', '..', '.hidden', 'a/b', '', 'x'.repeat(200)]) {
      await expect(store.write(name, new Uint8Array(1))).rejects.toThrow(/bad name/);
    }
  });
});
