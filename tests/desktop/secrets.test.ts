/** The session token is kept only encrypted by the OS keychain (safeStorage, stubbed: it is Electron). */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SecretStore } from '../../desktop/src/main/secrets.js';

const dir = mkdtempSync(join(tmpdir(), 'chandler-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A reversible stand-in for the OS keychain (XOR), enough to tell sealed bytes from plaintext. */
function vault(backend = 'gnome_libsecret', available = true) {
  const flip = (b: Buffer) => Buffer.from(b.map((x) => x ^ 0x5a));
  return {
    isEncryptionAvailable: () => available,
    getSelectedStorageBackend: () => backend as never,
    encryptString: (s: string) => flip(Buffer.from(s, 'utf8')),
    decryptString: (b: Buffer) => flip(b).toString('utf8'),
  };
}

describe('secret storage', () => {
  it('keeps values encrypted on disk and gives them back', () => {
    const file = join(dir, 'a.json');
    const store = new SecretStore(file, vault(), 'linux');
    expect(store.set('session-token', 'tok-123456789')).toBe(true);
    expect(readFileSync(file, 'utf8')).not.toContain('tok-123456789');
    expect(new SecretStore(file, vault(), 'linux').get('session-token')).toBe('tok-123456789');
    expect(store.delete('session-token')).toBe(true);
    expect(store.get('session-token')).toBeNull();
    expect(store.delete('session-token')).toBe(false);
  });

  it('stores nothing when only an obfuscating fallback exists, or no encryption at all', () => {
    for (const [backend, available, platform] of [
      ['basic_text', true, 'linux'],
      ['gnome_libsecret', false, 'linux'],
      ['unknown', false, 'win32'],
    ] as const) {
      const file = join(dir, `${backend}-${platform}.json`);
      const store = new SecretStore(file, vault(backend, available), platform);
      expect(store.set('session-token', 'tok')).toBe(false);
      expect(store.get('session-token')).toBeNull();
    }
  });
});
