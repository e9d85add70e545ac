/**
 * A device's long-term identity: an X25519 box key pair for DMs and an Ed25519 key
 * pair that signs the published public identity. Secret keys never leave the device;
 * at rest they are sealed under the user's password.
 */
import nacl from 'tweetnacl';
import { PublicIdentity } from '../protocol/index.js';
import {
  base64ToBytes,
  bytesToBase64,
  bytesToBase64Url,
  concatBytes,
  utf8Encode,
  wipe,
} from './encoding.js';
import {
  openWithPassword,
  PasswordSealedSchema,
  sealWithPassword,
  type PasswordSealed,
  type SealOptions,
} from './password-seal.js';

export type DeviceIdentity = {
  keyId: string;
  box: nacl.BoxKeyPair;
  sign: nacl.SignKeyPair;
  /** ms since epoch */
  createdAt: number;
};

/** Bytes of SHA-512(boxPublicKey || signPublicKey) that name a key pair. */
export const KEY_ID_BYTES = 16;
const KEY_BYTES = 32;
const SIGNATURE_BYTES = nacl.sign.signatureLength;

/** The statement an identity's signing key makes about its box key. */
export function identityStatement(keyId: string, boxPublicKey: string): string {
  return `chandler-id-v1|${keyId}|${boxPublicKey}`;
}

export function deriveKeyId(boxPublicKey: Uint8Array, signPublicKey: Uint8Array): string {
  return bytesToBase64Url(nacl.hash(concatBytes(boxPublicKey, signPublicKey)).subarray(0, KEY_ID_BYTES));
}

function identityFromSecrets(boxSecretKey: Uint8Array, signSeed: Uint8Array, createdAt: number): DeviceIdentity {
  const box = nacl.box.keyPair.fromSecretKey(boxSecretKey);
  const sign = nacl.sign.keyPair.fromSeed(signSeed);
  return { keyId: deriveKeyId(box.publicKey, sign.publicKey), box, sign, createdAt };
}

export function generateIdentity(now: number = Date.now()): DeviceIdentity {
  const boxSecret = nacl.randomBytes(nacl.box.secretKeyLength);
  const signSeed = nacl.randomBytes(nacl.sign.seedLength);
  const identity = identityFromSecrets(boxSecret, signSeed, now);
  wipe(boxSecret, signSeed);
  return identity;
}

/** What the authority stores and hands to friends. */
export function publicIdentity(id: DeviceIdentity): PublicIdentity {
  const boxPublicKey = bytesToBase64(id.box.publicKey);
  const signature = nacl.sign.detached(utf8Encode(identityStatement(id.keyId, boxPublicKey)), id.sign.secretKey);
  return {
    keyId: id.keyId,
    boxPublicKey,
    signPublicKey: bytesToBase64(id.sign.publicKey),
    signature: bytesToBase64(signature),
  };
}

/** True only for a well-formed identity whose keyId names its keys and whose signature holds. */
export function verifyPublicIdentity(pub: unknown): pub is PublicIdentity {
  const parsed = PublicIdentity.safeParse(pub);
  if (!parsed.success) return false;
  const { keyId, boxPublicKey, signPublicKey, signature } = parsed.data;
  const box = base64ToBytes(boxPublicKey, KEY_BYTES);
  const sign = base64ToBytes(signPublicKey, KEY_BYTES);
  const sig = base64ToBytes(signature, SIGNATURE_BYTES);
  if (!box || !sign || !sig) return false;
  if (deriveKeyId(box, sign) !== keyId) return false;
  return nacl.sign.detached.verify(utf8Encode(identityStatement(keyId, boxPublicKey)), sig, sign);
}

// ---------- at rest ----------

export const SealedIdentitySchema = PasswordSealedSchema;
export type SealedIdentity = PasswordSealed;

/** Sealed identity plaintext: version(1) || box secret key(32) || sign seed(32) || createdAt(float64 BE). */
const IDENTITY_BLOB_VERSION = 1;
export const IDENTITY_BLOB_BYTES = 1 + KEY_BYTES + KEY_BYTES + 8;

/** The identity's secrets as bytes (wipe them after use). */
export function encodeIdentity(id: DeviceIdentity): Uint8Array {
  const blob = new Uint8Array(IDENTITY_BLOB_BYTES);
  blob[0] = IDENTITY_BLOB_VERSION;
  blob.set(id.box.secretKey, 1);
  blob.set(id.sign.secretKey.subarray(0, nacl.sign.seedLength), 1 + KEY_BYTES);
  new DataView(blob.buffer).setFloat64(1 + 2 * KEY_BYTES, id.createdAt);
  return blob;
}

/** The identity encodeIdentity's bytes hold, or null for anything else. */
export function decodeIdentity(blob: Uint8Array): DeviceIdentity | null {
  if (blob.length !== IDENTITY_BLOB_BYTES || blob[0] !== IDENTITY_BLOB_VERSION) return null;
  const createdAt = new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getFloat64(1 + 2 * KEY_BYTES);
  if (!Number.isFinite(createdAt) || createdAt < 0) return null;
  return identityFromSecrets(blob.subarray(1, 1 + KEY_BYTES), blob.subarray(1 + KEY_BYTES, 1 + 2 * KEY_BYTES), createdAt);
}

export async function sealIdentity(
  id: DeviceIdentity,
  password: string,
  options?: SealOptions,
): Promise<SealedIdentity> {
  const blob = encodeIdentity(id);
  try {
    return await sealWithPassword(blob, password, options);
  } finally {
    wipe(blob);
  }
}

/** The identity, or null for a wrong password, a tampered or malformed value. */
export async function openSealedIdentity(sealed: unknown, password: string): Promise<DeviceIdentity | null> {
  const blob = await openWithPassword(sealed, password);
  if (!blob) return null;
  try {
    return decodeIdentity(blob);
  } finally {
    wipe(blob);
  }
}
