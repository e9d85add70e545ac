import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { PublicIdentity } from '../../../shared/protocol/index.js';
import {
  base64ToBytes,
  bytesToBase64,
  generateIdentity,
  identityStatement,
  publicIdentity,
  verifyPublicIdentity,
} from '../../../shared/crypto/index.js';

describe('device identity', () => {
  it('generates distinct identities whose keyId matches the protocol shape', () => {
    const a = generateIdentity();
    const b = generateIdentity();
    expect(a.keyId).not.toBe(b.keyId);
    expect(a.keyId).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    expect(a.box.secretKey).toHaveLength(32);
    expect(a.sign.secretKey).toHaveLength(64);
    expect(a.createdAt).toBeLessThanOrEqual(Date.now());
  });

  it('publishes a public identity that passes the wire schema and verifies', () => {
    const pub = publicIdentity(generateIdentity());
    expect(PublicIdentity.safeParse(pub).success).toBe(true);
    expect(JSON.stringify(pub)).not.toMatch(/secret/i);
    expect(verifyPublicIdentity(pub)).toBe(true);
  });

  it('refuses a tampered signature', () => {
    const pub = publicIdentity(generateIdentity());
    const sig = base64ToBytes(pub.signature)!;
    sig[10]! ^= 0x01;
    expect(verifyPublicIdentity({ ...pub, signature: bytesToBase64(sig) })).toBe(false);
  });

  it('refuses a keyId swapped for another identity', () => {
    const a = publicIdentity(generateIdentity());
    const b = publicIdentity(generateIdentity());
    expect(verifyPublicIdentity({ ...a, keyId: b.keyId })).toBe(false);
  });

  it('refuses a box key substituted by someone holding another signing key', () => {
    const victim = publicIdentity(generateIdentity());
    const attacker = generateIdentity();
    // The attacker re-signs the victim's keyId over its own box key.
    const boxPublicKey = bytesToBase64(attacker.box.publicKey);
    const signature = nacl.sign.detached(
      new TextEncoder().encode(identityStatement(victim.keyId, boxPublicKey)),
      attacker.sign.secretKey,
    );
    const forged = {
      keyId: victim.keyId,
      boxPublicKey,
      signPublicKey: bytesToBase64(attacker.sign.publicKey),
      signature: bytesToBase64(signature),
    };
    expect(verifyPublicIdentity(forged)).toBe(false);
  });

  it('refuses a box key swapped under a valid signature', () => {
    const pub = publicIdentity(generateIdentity());
    const other = publicIdentity(generateIdentity());
    expect(verifyPublicIdentity({ ...pub, boxPublicKey: other.boxPublicKey })).toBe(false);
  });

  it('answers false, never throws, on garbage', () => {
    for (const junk of [null, undefined, 42, 'x', [], {}, { keyId: 'abcdefgh' }]) {
      expect(verifyPublicIdentity(junk)).toBe(false);
    }
  });
});
