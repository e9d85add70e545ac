/**
 * Device identities for the key log's bench accounts, made with node:crypto's native X25519 and
 * Ed25519 rather than the client's tweetnacl: the same public identity (Ed25519 signatures are
 * deterministic, and verifyPublicIdentity accepts these), at about 0.3 ms instead of 10 ms, so
 * that 10,000 accounts are seeded in seconds. Only the public half is kept: nobody logs in as them.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { bytesToBase64, deriveKeyId, identityStatement, utf8Encode } from '../../shared/crypto/index.js';
import type { PublicIdentity } from '../../shared/protocol/index.js';

const RAW_KEY_BYTES = 32;

/** The raw 32-byte public key: the tail of its DER SubjectPublicKeyInfo. */
function rawPublicKey(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ format: 'der', type: 'spki' }).subarray(-RAW_KEY_BYTES));
}

export function benchIdentity(): PublicIdentity {
  const box = generateKeyPairSync('x25519');
  const signing = generateKeyPairSync('ed25519');
  const boxKey = rawPublicKey(box.publicKey);
  const signKey = rawPublicKey(signing.publicKey);
  const keyId = deriveKeyId(boxKey, signKey);
  const boxPublicKey = bytesToBase64(boxKey);
  const signature = sign(null, utf8Encode(identityStatement(keyId, boxPublicKey)), signing.privateKey);
  return { keyId, boxPublicKey, signPublicKey: bytesToBase64(signKey), signature: bytesToBase64(new Uint8Array(signature)) };
}
