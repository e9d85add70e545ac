/**
 * Secrets at rest under a password: scrypt derives a key, nacl.secretbox seals.
 * Used for the device identity and for the local DM history database.
 *
 * The sealed form is plain JSON, so it can live in a file or in IndexedDB; its KDF
 * parameters travel with it, so opening always uses what sealing used.
 */
import { scryptAsync } from '@noble/hashes/scrypt.js';
import nacl from 'tweetnacl';
import { z } from 'zod';
import { isBase64, base64Length, base64ToBytes, bytesToBase64, utf8Encode, wipe } from './encoding.js';

/** scrypt parameters used when sealing, unless a test asks for a cheaper N. */
export const SCRYPT_N = 2 ** 15;
export const SCRYPT_R = 8;
export const SCRYPT_P = 1;
export const SCRYPT_SALT_BYTES = 16;
export const SCRYPT_KEY_BYTES = nacl.secretbox.keyLength;

/**
 * What a sealed value may ask of the KDF. A hostile file must not be able to make
 * opening it take minutes or gigabytes (max ≈ 128·r·N = 512 MiB), nor be cheap to brute-force.
 */
export const SCRYPT_BOUNDS = { minN: 2 ** 10, maxN: 2 ** 19, maxR: 8, maxP: 4 } as const;

const SEALED_VERSION = 1;

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

function base64Of(byteLength: number) {
  return z.string().length(base64Length(byteLength)).refine(isBase64, 'base64');
}

export const ScryptParamsSchema = z
  .object({
    name: z.literal('scrypt'),
    N: z.number().int().min(SCRYPT_BOUNDS.minN).max(SCRYPT_BOUNDS.maxN).refine(isPowerOfTwo, 'N is a power of two'),
    r: z.number().int().min(1).max(SCRYPT_BOUNDS.maxR),
    p: z.number().int().min(1).max(SCRYPT_BOUNDS.maxP),
    salt: base64Of(SCRYPT_SALT_BYTES),
  })
  .strict();
export type ScryptParams = z.infer<typeof ScryptParamsSchema>;

/** Validate any stored sealed value with this before use (openWithPassword does it too). */
export const PasswordSealedSchema = z
  .object({
    v: z.literal(SEALED_VERSION),
    kdf: ScryptParamsSchema,
    nonce: base64Of(nacl.secretbox.nonceLength),
    ct: z.string().min(base64Length(nacl.secretbox.overheadLength)).refine(isBase64, 'base64'),
  })
  .strict();
export type PasswordSealed = z.infer<typeof PasswordSealedSchema>;

export type SealOptions = {
  /** scrypt work factor; lower it only in tests. */
  N?: number;
};

/** An scrypt implementation: same inputs, same bytes, whichever runs it. */
export type ScryptFn = (
  secret: Uint8Array,
  salt: Uint8Array,
  params: { N: number; r: number; p: number; dkLen: number },
) => Promise<Uint8Array>;

const portableScrypt: ScryptFn = (secret, salt, params) => scryptAsync(secret, salt, params);
let scrypt: ScryptFn = portableScrypt;

/**
 * Lets a runtime with a native scrypt (Node's crypto) stand in for the portable JavaScript one,
 * which is several times slower. Output is identical (tested), so sealed data opens either way.
 */
export function useScrypt(fn: ScryptFn | null): void {
  scrypt = fn ?? portableScrypt;
}

async function deriveKey(password: string, kdf: ScryptParams, salt: Uint8Array): Promise<Uint8Array> {
  // NFC: the same password typed on another system must give the same key.
  const secret = utf8Encode(password.normalize('NFC'));
  try {
    return await scrypt(secret, salt, { N: kdf.N, r: kdf.r, p: kdf.p, dkLen: SCRYPT_KEY_BYTES });
  } finally {
    wipe(secret);
  }
}

export async function sealWithPassword(
  plaintext: Uint8Array,
  password: string,
  options: SealOptions = {},
): Promise<PasswordSealed> {
  const salt = nacl.randomBytes(SCRYPT_SALT_BYTES);
  const kdf = ScryptParamsSchema.parse({
    name: 'scrypt',
    N: options.N ?? SCRYPT_N,
    r: SCRYPT_R,
    p: SCRYPT_P,
    salt: bytesToBase64(salt),
  });
  const key = await deriveKey(password, kdf, salt);
  const nonce = nacl.randomBytes(nacl.secretbox.nonceLength);
  const ct = nacl.secretbox(plaintext, nonce, key);
  wipe(key);
  return { v: SEALED_VERSION, kdf, nonce: bytesToBase64(nonce), ct: bytesToBase64(ct) };
}

/** The plaintext, or null for a wrong password, a tampered value or anything that is not a sealed value. */
export async function openWithPassword(sealed: unknown, password: string): Promise<Uint8Array | null> {
  const parsed = PasswordSealedSchema.safeParse(sealed);
  if (!parsed.success || typeof password !== 'string') return null;
  const { kdf } = parsed.data;
  const salt = base64ToBytes(kdf.salt, SCRYPT_SALT_BYTES);
  const nonce = base64ToBytes(parsed.data.nonce, nacl.secretbox.nonceLength);
  const ct = base64ToBytes(parsed.data.ct);
  if (!salt || !nonce || !ct) return null;
  const key = await deriveKey(password, kdf, salt);
  const plaintext = nacl.secretbox.open(ct, nonce, key);
  wipe(key);
  return plaintext;
}
