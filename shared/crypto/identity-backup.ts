/**
 * The user's one identity, kept by the authority as ciphertext it cannot open (issue 13 §2): a
 * new device that logs in gets the same keys, so friends see the same safety number and no
 * key-change warning.
 *
 *   backup key   32 random bytes, made with each new identity
 *   sealed       secretbox(identity secrets, backup key)
 *   wrap         secretbox(backup key, H("chandler-identity-backup-wrap-v1" ‖ exportKey))
 *
 * OPAQUE's export key is what only the password's holder can compute (the authority learns
 * nothing of it), so the authority, or anyone who takes its files, would have to run OPAQUE's
 * key stretching (Argon2id) per password guess, with the authority's OPAQUE secrets besides. The
 * backup key stands between the two so that a password change only seals 32 bytes again
 * (`rewrapBackup`), which the client layer does on its own, whether or not DMs are unlocked.
 */
import nacl from 'tweetnacl';
import type { IdentityBackup } from '../protocol/index.js';
import { base64ToBytes, bytesToBase64, concatBytes, utf8Encode, wipe } from './encoding.js';
import { decodeIdentity, encodeIdentity, IDENTITY_BLOB_BYTES, type DeviceIdentity } from './identity.js';

const WRAP_LABEL = utf8Encode('chandler-identity-backup-wrap-v1');
const KEY_BYTES = nacl.secretbox.keyLength;
const NONCE_BYTES = nacl.secretbox.nonceLength;
const WRAP_BYTES = NONCE_BYTES + KEY_BYTES + nacl.secretbox.overheadLength;
const SEALED_BYTES = NONCE_BYTES + IDENTITY_BLOB_BYTES + nacl.secretbox.overheadLength;

/** The key that seals the backup key: derived from the export key, never sent. */
function wrapKeyOf(exportKey: Uint8Array): Uint8Array {
  return nacl.hash(concatBytes(WRAP_LABEL, exportKey)).slice(0, KEY_BYTES);
}

function box(plain: Uint8Array, key: Uint8Array): Uint8Array {
  const nonce = nacl.randomBytes(NONCE_BYTES);
  return concatBytes(nonce, nacl.secretbox(plain, nonce, key));
}

function unbox(bytes: Uint8Array | null, key: Uint8Array): Uint8Array | null {
  if (!bytes || bytes.length < NONCE_BYTES + nacl.secretbox.overheadLength) return null;
  return nacl.secretbox.open(bytes.subarray(NONCE_BYTES), bytes.subarray(0, NONCE_BYTES), key);
}

function wrap(backupKey: Uint8Array, exportKey: Uint8Array): string {
  const wrapKey = wrapKeyOf(exportKey);
  try {
    return bytesToBase64(box(backupKey, wrapKey));
  } finally {
    wipe(wrapKey);
  }
}

/** The backup key a wrap holds, or null when this export key did not make it (another password, tampering). */
function unwrap(wrapped: string, exportKey: Uint8Array): Uint8Array | null {
  const wrapKey = wrapKeyOf(exportKey);
  try {
    const key = unbox(base64ToBytes(wrapped, WRAP_BYTES), wrapKey);
    return key && key.length === KEY_BYTES ? key : null;
  } finally {
    wipe(wrapKey);
  }
}

/** Seals an identity for the authority to keep; only this export key (this password) opens it. */
export function sealIdentityBackup(identity: DeviceIdentity, exportKey: Uint8Array): IdentityBackup {
  const backupKey = nacl.randomBytes(KEY_BYTES);
  const secrets = encodeIdentity(identity);
  try {
    return { v: 1, keyId: identity.keyId, wrap: wrap(backupKey, exportKey), sealed: bytesToBase64(box(secrets, backupKey)) };
  } finally {
    wipe(backupKey, secrets);
  }
}

/**
 * The identity a backup holds, or null: another password's backup (an admin reset since, say),
 * one tampered with, or one whose keys are not the identity its `keyId` names.
 */
export function openIdentityBackup(backup: IdentityBackup, exportKey: Uint8Array): DeviceIdentity | null {
  const backupKey = unwrap(backup.wrap, exportKey);
  if (!backupKey) return null;
  const secrets = unbox(base64ToBytes(backup.sealed, SEALED_BYTES), backupKey);
  wipe(backupKey);
  if (!secrets) return null;
  try {
    const identity = decodeIdentity(secrets);
    return identity && identity.keyId === backup.keyId ? identity : null;
  } finally {
    wipe(secrets);
  }
}

/** The backup's key sealed under a new export key (a password change), or null when the old one does not open it. */
export function rewrapBackup(backup: IdentityBackup, oldExportKey: Uint8Array, newExportKey: Uint8Array): string | null {
  const backupKey = unwrap(backup.wrap, oldExportKey);
  if (!backupKey) return null;
  try {
    return wrap(backupKey, newExportKey);
  } finally {
    wipe(backupKey);
  }
}
