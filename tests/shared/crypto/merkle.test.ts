import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import {
  MAX_PROOF_HASHES,
  consistencyProof,
  inclusionProof,
  leafHash,
  nodeHash,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from '../../../shared/crypto/merkle.js';

// Known answers: the RFC 6962 test tree shared by Google's Certificate Transparency implementations,
// as listed in transparency-dev/merkle proof/verify_test.go (commit 02194e9a), the successor of
// certificate-transparency-go's merkle package. Indices here are 0-based (that file's are 1-based).
const VECTOR_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(hexToBytes);

/** MTH of the first 1..8 vector leaves. */
const VECTOR_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

const VECTOR_INCLUSION = [
  { index: 0, size: 1, proof: [] },
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    index: 1,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];

const VECTOR_CONSISTENCY = [
  { oldSize: 1, newSize: 1, proof: [] },
  {
    oldSize: 1,
    newSize: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    oldSize: 6,
    newSize: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    oldSize: 2,
    newSize: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    oldSize: 6,
    newSize: 7,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

const EMPTY_TREE_ROOT = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const EXHAUSTIVE_MAX_SIZE = 40;
/** Every tampering is tried on every proof of trees up to this size. */
const TAMPER_MAX_SIZE = 16;

const vectorHashes = VECTOR_LEAVES.map(leafHash);
const hex = (hashes: Uint8Array[]): string[] => hashes.map(bytesToHex);

/** Distinct leaves 0..n-1, their hashes, and the root of every prefix (roots[m] = MTH(D[0:m])). */
const leaves = Array.from({ length: EXHAUSTIVE_MAX_SIZE }, (_, i) => leafHash(new Uint8Array([i, i >> 8])));
const roots = Array.from({ length: EXHAUSTIVE_MAX_SIZE + 1 }, (_, m) => treeRoot(leaves.slice(0, m)));

function flipBit(proof: Uint8Array[], at: number, bit: number): Uint8Array[] {
  return proof.map((h, i) => {
    if (i !== at) return h;
    const copy = h.slice();
    copy[bit >> 3]! ^= 1 << (bit & 7);
    return copy;
  });
}

describe('merkle tree hashing (RFC 9162 §2.1)', () => {
  it('separates leaves from nodes by a prefix byte', () => {
    expect(bytesToHex(leafHash(new Uint8Array(0)))).toBe(VECTOR_ROOTS[0]);
    expect(bytesToHex(nodeHash(vectorHashes[0]!, vectorHashes[1]!))).toBe(VECTOR_ROOTS[1]);
  });

  it('gives the empty tree the hash of nothing', () => {
    expect(bytesToHex(treeRoot([]))).toBe(EMPTY_TREE_ROOT);
  });

  it('computes the known roots of sizes 1..8', () => {
    for (let size = 1; size <= 8; size++) {
      expect(bytesToHex(treeRoot(vectorHashes.slice(0, size))), `size ${size}`).toBe(VECTOR_ROOTS[size - 1]);
    }
  });
});

describe('inclusion proofs', () => {
  it('match the known proofs, which verify', () => {
    for (const { index, size, proof } of VECTOR_INCLUSION) {
      const tree = vectorHashes.slice(0, size);
      expect(hex(inclusionProof(tree, index)), `${index} in ${size}`).toEqual(proof);
      const root = hexToBytes(VECTOR_ROOTS[size - 1]!);
      expect(verifyInclusion(vectorHashes[index]!, index, size, proof.map(hexToBytes), root)).toBe(true);
    }
  });

  it('refuses the known proofs at a wrong index, size or root', () => {
    for (const { index, size, proof: hexProof } of VECTOR_INCLUSION) {
      const proof = hexProof.map(hexToBytes);
      const root = hexToBytes(VECTOR_ROOTS[size - 1]!);
      const leaf = vectorHashes[index]!;
      expect(verifyInclusion(leaf, index - 1, size, proof, root)).toBe(false);
      expect(verifyInclusion(leaf, index + 1, size, proof, root)).toBe(false);
      expect(verifyInclusion(leaf, index ^ 2, size, proof, root)).toBe(false);
      expect(verifyInclusion(leaf, index, size * 2, proof, root)).toBe(false);
      expect(verifyInclusion(leaf, index, Math.floor(size / 2), proof, root)).toBe(false);
      expect(verifyInclusion(leaf, index, size, proof, hexToBytes(EMPTY_TREE_ROOT))).toBe(false);
      expect(verifyInclusion(leafHash(new Uint8Array([1])), index, size, proof, root)).toBe(false);
    }
  });

  it('verify for every index of every tree up to 40 leaves', () => {
    for (let size = 1; size <= EXHAUSTIVE_MAX_SIZE; size++) {
      const tree = leaves.slice(0, size);
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(tree, index);
        expect(verifyInclusion(tree[index]!, index, size, proof, roots[size]!), `${index} in ${size}`).toBe(true);
      }
    }
  });

  it('fail when anything about them is tampered with', () => {
    const zero = new Uint8Array(32);
    for (let size = 1; size <= TAMPER_MAX_SIZE; size++) {
      const tree = leaves.slice(0, size);
      const root = roots[size]!;
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(tree, index);
        const leaf = tree[index]!;
        const at = `${index} in ${size}`;
        for (let i = 0; i < proof.length; i++) {
          for (let bit = 0; bit < 256; bit += 37) {
            expect(verifyInclusion(leaf, index, size, flipBit(proof, i, bit), root), at).toBe(false);
          }
        }
        for (let other = 0; other < size; other++) {
          if (other === index) continue;
          expect(verifyInclusion(leaf, other, size, proof, root), at).toBe(false);
          expect(verifyInclusion(tree[other]!, index, size, proof, root), at).toBe(false);
        }
        expect(verifyInclusion(leaf, index, size * 2, proof, root), at).toBe(false);
        expect(verifyInclusion(leaf, index, Math.floor(size / 2), proof, root), at).toBe(false);
        if (proof.length > 0) expect(verifyInclusion(leaf, index, size, proof.slice(0, -1), root), at).toBe(false);
        expect(verifyInclusion(leaf, index, size, [...proof, zero], root), at).toBe(false);
        expect(verifyInclusion(leaf, index, size, [zero, ...proof], root), at).toBe(false);
        expect(verifyInclusion(leaf, index, size, [...proof, root], root), at).toBe(false);
        expect(verifyInclusion(leaf, index, size, proof, roots[size - 1]!), at).toBe(false);
        expect(verifyInclusion(leaf, index, size, proof, roots[size + 1] ?? zero), at).toBe(false);
      }
    }
  });

  it('refuse hostile numbers and malformed hashes without throwing', () => {
    const tree = leaves.slice(0, 5);
    const proof = inclusionProof(tree, 1);
    const root = roots[5]!;
    const leaf = tree[1]!;
    for (const bad of [NaN, -1, 1.5, Infinity, -Infinity, 2 ** 53, 2 ** 64, 5, 6]) {
      expect(verifyInclusion(leaf, bad, 5, proof, root), `index ${bad}`).toBe(false);
    }
    for (const bad of [NaN, -1, 0, 1, 1.5, Infinity, 2 ** 53, 2 ** 64]) {
      expect(verifyInclusion(leaf, 1, bad, proof, root), `size ${bad}`).toBe(false);
    }
    expect(verifyInclusion(leaf, 2 ** 53 - 2, 2 ** 53 - 1, proof, root)).toBe(false);
    for (const bad of [new Uint8Array(0), new Uint8Array(31), new Uint8Array(33), leaf.subarray(1)]) {
      expect(verifyInclusion(bad, 1, 5, proof, root)).toBe(false);
      expect(verifyInclusion(leaf, 1, 5, proof, bad)).toBe(false);
      expect(verifyInclusion(leaf, 1, 5, [bad, ...proof.slice(1)], root)).toBe(false);
    }
    const hostile: unknown[] = [undefined, null, 'x', {}, [1, 2, 3], Array.from({ length: 32 }, () => 0)];
    for (const bad of hostile) {
      expect(verifyInclusion(bad as Uint8Array, 1, 5, proof, root)).toBe(false);
      expect(verifyInclusion(leaf, 1, 5, proof, bad as Uint8Array)).toBe(false);
      expect(verifyInclusion(leaf, 1, 5, bad as Uint8Array[], root)).toBe(false);
      expect(verifyInclusion(leaf, bad as number, 5, proof, root)).toBe(false);
      expect(verifyInclusion(leaf, 1, 5, [bad as Uint8Array, ...proof.slice(1)], root)).toBe(false);
    }
    const sparse = [...proof];
    delete sparse[0];
    expect(verifyInclusion(leaf, 1, 5, sparse, root)).toBe(false);
  });

  it('refuse a proof longer than the limit before hashing it', () => {
    const tooLong = Array.from({ length: MAX_PROOF_HASHES + 1 }, () => new Uint8Array(32));
    expect(verifyInclusion(leaves[0]!, 0, 2 ** 53 - 1, tooLong, roots[1]!)).toBe(false);
  });

  it('are not built for an index outside the tree', () => {
    expect(() => inclusionProof(leaves.slice(0, 3), 3)).toThrow(RangeError);
    expect(() => inclusionProof(leaves.slice(0, 3), -1)).toThrow(RangeError);
    expect(() => inclusionProof([], 0)).toThrow(RangeError);
  });
});

describe('consistency proofs', () => {
  it('match the known proofs, which verify', () => {
    for (const { oldSize, newSize, proof } of VECTOR_CONSISTENCY) {
      const tree = vectorHashes.slice(0, newSize);
      expect(hex(consistencyProof(tree, oldSize)), `${oldSize} to ${newSize}`).toEqual(proof);
      const oldRoot = hexToBytes(VECTOR_ROOTS[oldSize - 1]!);
      const newRoot = hexToBytes(VECTOR_ROOTS[newSize - 1]!);
      expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof.map(hexToBytes))).toBe(true);
    }
  });

  it('refuse the known proofs at wrong sizes or roots', () => {
    for (const { oldSize, newSize, proof: hexProof } of VECTOR_CONSISTENCY) {
      if (hexProof.length === 0) continue;
      const proof = hexProof.map(hexToBytes);
      const oldRoot = hexToBytes(VECTOR_ROOTS[oldSize - 1]!);
      const newRoot = hexToBytes(VECTOR_ROOTS[newSize - 1]!);
      expect(verifyConsistency(oldSize - 1, newSize, oldRoot, newRoot, proof)).toBe(false);
      expect(verifyConsistency(oldSize + 1, newSize, oldRoot, newRoot, proof)).toBe(false);
      expect(verifyConsistency(oldSize ^ 2, newSize, oldRoot, newRoot, proof)).toBe(false);
      expect(verifyConsistency(oldSize, newSize * 2, oldRoot, newRoot, proof)).toBe(false);
      expect(verifyConsistency(oldSize, Math.floor(newSize / 2), oldRoot, newRoot, proof)).toBe(false);
      expect(verifyConsistency(oldSize, newSize, newRoot, oldRoot, proof)).toBe(false);
      expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, [])).toBe(false);
      expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, [proof[0]!, ...proof])).toBe(false);
    }
  });

  it('verify for every pair of sizes up to 40 leaves', () => {
    for (let newSize = 1; newSize <= EXHAUSTIVE_MAX_SIZE; newSize++) {
      const tree = leaves.slice(0, newSize);
      for (let oldSize = 1; oldSize <= newSize; oldSize++) {
        const proof = consistencyProof(tree, oldSize);
        const ok = verifyConsistency(oldSize, newSize, roots[oldSize]!, roots[newSize]!, proof);
        expect(ok, `${oldSize} to ${newSize}`).toBe(true);
      }
    }
  });

  it('fail when anything about them is tampered with', () => {
    const zero = new Uint8Array(32);
    for (let newSize = 2; newSize <= TAMPER_MAX_SIZE; newSize++) {
      const tree = leaves.slice(0, newSize);
      const newRoot = roots[newSize]!;
      for (let oldSize = 1; oldSize < newSize; oldSize++) {
        const proof = consistencyProof(tree, oldSize);
        const oldRoot = roots[oldSize]!;
        const at = `${oldSize} to ${newSize}`;
        for (let i = 0; i < proof.length; i++) {
          for (let bit = 0; bit < 256; bit += 37) {
            expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, flipBit(proof, i, bit)), at).toBe(false);
          }
        }
        for (let other = 1; other < newSize; other++) {
          if (other === oldSize) continue;
          expect(verifyConsistency(other, newSize, oldRoot, newRoot, proof), at).toBe(false);
          expect(verifyConsistency(oldSize, newSize, roots[other]!, newRoot, proof), at).toBe(false);
        }
        expect(verifyConsistency(oldSize, newSize * 2, oldRoot, newRoot, proof), at).toBe(false);
        expect(verifyConsistency(oldSize, newSize, oldRoot, roots[newSize - 1]!, proof), at).toBe(false);
        expect(verifyConsistency(oldSize, newSize, oldRoot, roots[newSize + 1] ?? zero, proof), at).toBe(false);
        expect(verifyConsistency(oldSize, newSize, newRoot, oldRoot, proof), at).toBe(false);
        expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof.slice(0, -1)), at).toBe(false);
        expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof.slice(1)), at).toBe(false);
        expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, [...proof, zero]), at).toBe(false);
        expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, [...proof, newRoot]), at).toBe(false);
        expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, [oldRoot, ...proof]), at).toBe(false);
        expect(verifyConsistency(newSize, oldSize, newRoot, oldRoot, proof), at).toBe(false);
      }
    }
  });

  it('hold between equal sizes only with equal roots and no proof', () => {
    const root = roots[5]!;
    expect(verifyConsistency(5, 5, root, root, [])).toBe(true);
    expect(verifyConsistency(5, 5, root, roots[4]!, [])).toBe(false);
    expect(verifyConsistency(5, 5, root, root, [root])).toBe(false);
  });

  it('hold from the empty tree only with its root and no proof', () => {
    const empty = treeRoot([]);
    expect(verifyConsistency(0, 0, empty, empty, [])).toBe(true);
    expect(verifyConsistency(0, 5, empty, roots[5]!, [])).toBe(true);
    expect(verifyConsistency(0, 5, empty, roots[5]!, [empty])).toBe(false);
    expect(verifyConsistency(0, 5, roots[1]!, roots[5]!, [])).toBe(false);
    expect(verifyConsistency(0, 0, empty, roots[1]!, [])).toBe(false);
  });

  it('refuse hostile numbers and malformed hashes without throwing', () => {
    const proof = consistencyProof(leaves.slice(0, 7), 3);
    const [oldRoot, newRoot] = [roots[3]!, roots[7]!];
    for (const bad of [NaN, -1, 1.5, Infinity, -Infinity, 2 ** 53, 2 ** 64]) {
      expect(verifyConsistency(bad, 7, oldRoot, newRoot, proof), `old size ${bad}`).toBe(false);
      expect(verifyConsistency(3, bad, oldRoot, newRoot, proof), `new size ${bad}`).toBe(false);
    }
    expect(verifyConsistency(8, 7, oldRoot, newRoot, proof)).toBe(false);
    expect(verifyConsistency(3, 2, oldRoot, newRoot, proof)).toBe(false);
    expect(verifyConsistency(3, 2 ** 53 - 1, oldRoot, newRoot, proof)).toBe(false);
    expect(verifyConsistency(2 ** 53 - 2, 2 ** 53 - 1, oldRoot, newRoot, proof)).toBe(false);
    for (const bad of [new Uint8Array(0), new Uint8Array(31), new Uint8Array(33)]) {
      expect(verifyConsistency(3, 7, bad, newRoot, proof)).toBe(false);
      expect(verifyConsistency(3, 7, oldRoot, bad, proof)).toBe(false);
      expect(verifyConsistency(3, 7, oldRoot, newRoot, [bad, ...proof.slice(1)])).toBe(false);
      expect(verifyConsistency(5, 5, bad, bad, [])).toBe(false);
    }
    const hostile: unknown[] = [undefined, null, 'x', {}, [1, 2, 3]];
    for (const bad of hostile) {
      expect(verifyConsistency(bad as number, 7, oldRoot, newRoot, proof)).toBe(false);
      expect(verifyConsistency(3, 7, bad as Uint8Array, newRoot, proof)).toBe(false);
      expect(verifyConsistency(3, 7, oldRoot, newRoot, bad as Uint8Array[])).toBe(false);
      expect(verifyConsistency(3, 7, oldRoot, newRoot, [...proof.slice(1), bad as Uint8Array])).toBe(false);
    }
    const tooLong = Array.from({ length: MAX_PROOF_HASHES + 1 }, () => new Uint8Array(32));
    expect(verifyConsistency(1, 2 ** 53 - 1, roots[1]!, newRoot, tooLong)).toBe(false);
  });

  it('are not built for an old size outside 1..n', () => {
    expect(() => consistencyProof(leaves.slice(0, 3), 0)).toThrow(RangeError);
    expect(() => consistencyProof(leaves.slice(0, 3), 4)).toThrow(RangeError);
    expect(() => consistencyProof(leaves.slice(0, 3), 1.5)).toThrow(RangeError);
  });
});
