import { afterEach, describe, expect, it } from 'vitest';
import { openWithPassword, sealWithPassword, useScrypt } from '../../shared/crypto/index.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { nativeScrypt } from '../../cli/native-scrypt.js';

afterEach(() => useScrypt(null));

describe('native scrypt in the CLI', () => {
  it('derives exactly the bytes of the portable implementation', async () => {
    const secret = new TextEncoder().encode('pässwörd-with-ü!');
    const salt = new Uint8Array(16).map((_, i) => i * 7);
    const params = { N: 2 ** 12, r: 8, p: 1, dkLen: 32 };
    expect(await nativeScrypt(secret, salt, params)).toEqual(await scryptAsync(secret, salt, params));
  });

  it('opens with one what was sealed with the other, and still refuses a wrong password', async () => {
    const data = new TextEncoder().encode('device secret keys');
    const sealed = await sealWithPassword(data, 'correct-horse-battery!', { N: 2 ** 12 });
    useScrypt(nativeScrypt);
    expect(await openWithPassword(sealed, 'correct-horse-battery!')).toEqual(data);
    expect(await openWithPassword(sealed, 'wrong-horse-battery!')).toBeNull();
    const sealedNative = await sealWithPassword(data, 'correct-horse-battery!', { N: 2 ** 12 });
    useScrypt(null);
    expect(await openWithPassword(sealedNative, 'correct-horse-battery!')).toEqual(data);
  });
});
