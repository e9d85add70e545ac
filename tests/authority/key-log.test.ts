/**
 * The authority's key log keeps its tree as cached subtrees (key-log.ts): its proofs must be
 * exactly RFC 9162's, as the reference implementation (shared/crypto/merkle.ts) computes them
 * from all the leaves, at every size and index; and they must verify.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base64ToBytes, bytesToBase64, generateIdentity, publicIdentity } from '../../shared/crypto/index.js';
import { keyLogLeafHash, verifyKeyLogConsistency, verifyKeyLogHead, verifyKeyLogInclusion } from '../../shared/crypto/key-log.js';
import { consistencyProof, inclusionProof } from '../../shared/crypto/merkle.js';
import { startAuthority, NO_LOGIN, type TestAuthority } from '../helpers/authority.js';

let t: TestAuthority;
beforeAll(async () => {
  t = await startAuthority();
});
afterAll(async () => {
  await t.cleanup();
});

describe('the key log', () => {
  it('answers the proofs of the reference implementation at every size up to 40, and they verify', () => {
    const log = t.authority.keyLog;
    const start = log.size;
    const heads = [];
    for (let n = 1; n <= 40; n++) {
      const user = t.authority.store.users.create(`kt${process.pid % 1000}_${n}`, NO_LOGIN, false, n);
      const identity = publicIdentity(generateIdentity());
      log.publish(user.id, user.username, identity, 1_000 + n);
      const leaves = t.authority.store.keyLog.all().map((e) => keyLogLeafHash(e.name, e.identity, e.at));
      const head = log.currentHead()!;
      expect(head.size).toBe(start + n);
      expect(verifyKeyLogHead(head, log.publicKey)).toBe(true);
      for (let i = 0; i < leaves.length; i++) {
        const proof = log.inclusion(i);
        expect(proof.path).toEqual(inclusionProof(leaves, i).map(bytesToBase64));
        const e = t.authority.store.keyLog.all()[i]!;
        expect(verifyKeyLogInclusion(e.name, e.identity, e.at, i, proof.path, proof.head)).toBe(true);
      }
      for (let m = 1; m <= leaves.length; m++) {
        expect(log.consistency(m, leaves.length)).toEqual(consistencyProof(leaves, m).map(bytesToBase64));
      }
      heads.push(head);
    }
    // Every head extends every earlier one.
    for (let a = 0; a < heads.length; a += 7) {
      const older = heads[a]!;
      const newer = heads.at(-1)!;
      expect(verifyKeyLogConsistency(older, newer, log.consistency(older.size, newer.size)!)).toBe(true);
    }
    expect(base64ToBytes(heads.at(-1)!.root, 32)).not.toBeNull();
  });

  it('refuses a consistency proof it cannot give (sizes the log never had)', async () => {
    const size = t.authority.keyLog.size;
    const c = await (await import('../helpers/authority.js')).registered(t);
    for (const [from, to] of [[size + 5, size + 6], [3, 2]] as const) {
      const r = await c.call('keyLogConsistency', { from, to });
      expect(!r.ok && r.error.code).toBe('BAD_REQUEST');
    }
    c.close();
  });
});
