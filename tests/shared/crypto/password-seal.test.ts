import { describe, expect, it } from 'vitest';
import {
  base64ToBytes,
  bytesToBase64,
  generateIdentity,
  openSealedIdentity,
  openWithPassword,
  publicIdentity,
  SCRYPT_N,
  SCRYPT_P,
  SCRYPT_R,
  sealIdentity,
  SealedIdentitySchema,
  sealWithPassword,
  type SealedIdentity,
} from '../../../shared/crypto/index.js';

/** Cheap KDF for tests; one test below checks the real defaults. */
const FAST = { N: 2 ** 10 };
const PASSWORD = 'correct horse battery staple!';

function flipCiphertextByte(sealed: SealedIdentity): SealedIdentity {
  const ct = base64ToBytes(sealed.ct)!;
  ct[ct.length - 1]! ^= 0x80;
  return { ...sealed, ct: bytesToBase64(ct) };
}

describe('identity at rest', () => {
  it('seals to JSON and opens back to the same keys', async () => {
    const id = generateIdentity();
    const sealed = await sealIdentity(id, PASSWORD, FAST);
    const stored: unknown = JSON.parse(JSON.stringify(sealed));
    expect(SealedIdentitySchema.safeParse(stored).success).toBe(true);
    expect(JSON.stringify(sealed)).not.toContain(bytesToBase64(id.box.secretKey));

    const opened = await openSealedIdentity(stored, PASSWORD);
    expect(opened).not.toBeNull();
    expect(opened!.keyId).toBe(id.keyId);
    expect(opened!.box.secretKey).toEqual(id.box.secretKey);
    expect(opened!.sign.secretKey).toEqual(id.sign.secretKey);
    expect(opened!.createdAt).toBe(id.createdAt);
    expect(publicIdentity(opened!)).toEqual(publicIdentity(id));
  });

  it('uses the scrypt defaults unless told otherwise', async () => {
    const sealed = await sealIdentity(generateIdentity(), PASSWORD);
    expect(sealed.kdf).toMatchObject({ name: 'scrypt', N: 2 ** 15, r: 8, p: 1 });
    expect([SCRYPT_N, SCRYPT_R, SCRYPT_P]).toEqual([2 ** 15, 8, 1]);
    expect(base64ToBytes(sealed.kdf.salt)).toHaveLength(16);
  });

  it('opens with the parameters stored in the sealed value', async () => {
    const id = generateIdentity();
    const sealed = await sealIdentity(id, PASSWORD, { N: 2 ** 11 });
    expect(sealed.kdf.N).toBe(2 ** 11);
    expect((await openSealedIdentity(sealed, PASSWORD))?.keyId).toBe(id.keyId);
  });

  it('answers null for a wrong password', async () => {
    const sealed = await sealIdentity(generateIdentity(), PASSWORD, FAST);
    expect(await openSealedIdentity(sealed, 'correct horse battery staple?')).toBeNull();
    expect(await openSealedIdentity(sealed, '')).toBeNull();
  });

  it('answers null for a tampered ciphertext, nonce, salt or work factor', async () => {
    const sealed = await sealIdentity(generateIdentity(), PASSWORD, FAST);
    const otherSalt = bytesToBase64(new Uint8Array(16).fill(7));
    const otherNonce = bytesToBase64(new Uint8Array(24).fill(7));
    expect(await openSealedIdentity(flipCiphertextByte(sealed), PASSWORD)).toBeNull();
    expect(await openSealedIdentity({ ...sealed, nonce: otherNonce }, PASSWORD)).toBeNull();
    expect(await openSealedIdentity({ ...sealed, kdf: { ...sealed.kdf, salt: otherSalt } }, PASSWORD)).toBeNull();
    expect(await openSealedIdentity({ ...sealed, kdf: { ...sealed.kdf, N: 2 ** 11 } }, PASSWORD)).toBeNull();
  });

  it('refuses values that are not a sealed identity, without throwing', async () => {
    const sealed = await sealIdentity(generateIdentity(), PASSWORD, FAST);
    const garbage: unknown[] = [
      null,
      'sealed',
      42,
      [],
      {},
      { ...sealed, v: 2 },
      { ...sealed, extra: true },
      { ...sealed, nonce: 'AAAA' },
      { ...sealed, ct: '' },
      { ...sealed, ct: 'not base64!' },
      { ...sealed, kdf: { ...sealed.kdf, name: 'pbkdf2' } },
      { ...sealed, kdf: { ...sealed.kdf, N: 3000 } }, // not a power of two
      { ...sealed, kdf: { ...sealed.kdf, N: 2 ** 30 } }, // a hostile file asking for gigabytes
      { ...sealed, kdf: { ...sealed.kdf, N: 2 } }, // too cheap to resist guessing
      { ...sealed, kdf: { ...sealed.kdf, p: 1000 } },
    ];
    for (const value of garbage) {
      expect(SealedIdentitySchema.safeParse(value).success).toBe(false);
      expect(await openSealedIdentity(value, PASSWORD)).toBeNull();
    }
  });

  it('refuses a sealed value that holds something other than an identity', async () => {
    const sealed = await sealWithPassword(new Uint8Array([1, 2, 3]), PASSWORD, FAST);
    expect(await openSealedIdentity(sealed, PASSWORD)).toBeNull();
  });

  it('treats a password typed in another Unicode normalisation form as the same', async () => {
    const id = generateIdentity();
    const sealed = await sealIdentity(id, 'mot de passe général!', FAST);
    const decomposed = 'mot de passe général!'.normalize('NFD');
    expect((await openSealedIdentity(sealed, decomposed))?.keyId).toBe(id.keyId);
  });
});

describe('sealWithPassword', () => {
  it('round-trips arbitrary bytes and uses a fresh salt and nonce each time', async () => {
    const bytes = new TextEncoder().encode('a DM history database');
    const one = await sealWithPassword(bytes, PASSWORD, FAST);
    const two = await sealWithPassword(bytes, PASSWORD, FAST);
    expect(one.kdf.salt).not.toBe(two.kdf.salt);
    expect(one.nonce).not.toBe(two.nonce);
    expect(await openWithPassword(one, PASSWORD)).toEqual(bytes);
    expect(await openWithPassword(two, 'wrong password!!')).toBeNull();
  });

  it('answers null, never throws, for a huge or corrupted stored value', async () => {
    const sealed = await sealWithPassword(new Uint8Array(10), PASSWORD, FAST);
    expect(await openWithPassword({ ...sealed, ct: 'A'.repeat(4_000_000) }, PASSWORD)).toBeNull();
    expect(await openWithPassword({ ...sealed, ct: 'A'.repeat(4_000_000) + '*' }, PASSWORD)).toBeNull();
  });

  it('refuses to seal with a work factor outside the bounds', async () => {
    await expect(sealWithPassword(new Uint8Array(1), PASSWORD, { N: 2 ** 4 })).rejects.toThrow();
  });
});
