import fc from 'fast-check';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import {
  base64ToBytes,
  bytesToBase64,
  bytesToBase64Url,
  utf8Decode,
  utf8Encode,
} from '../../../shared/crypto/index.js';

describe('base64', () => {
  it('round-trips every length, including large buffers', () => {
    for (const n of [0, 1, 2, 3, 4, 31, 32, 33, 64, 100_000]) {
      const bytes = nacl.randomBytes(n);
      const text = bytesToBase64(bytes);
      expect(text.length).toBe(Math.ceil(n / 3) * 4);
      expect(base64ToBytes(text)).toEqual(bytes);
    }
  });

  it('refuses non-canonical and foreign encodings instead of throwing', () => {
    expect(base64ToBytes('AB==')).toBeNull(); // non-zero padding bits: "AA==" is the canonical form
    expect(base64ToBytes('AA=')).toBeNull();
    expect(base64ToBytes('A-_A')).toBeNull(); // base64url alphabet
    expect(base64ToBytes('AA AA')).toBeNull();
    expect(base64ToBytes(42 as unknown as string)).toBeNull();
    expect(base64ToBytes(bytesToBase64(new Uint8Array(31)), 32)).toBeNull();
    expect(base64ToBytes(bytesToBase64(new Uint8Array(32)), 32)).toHaveLength(32);
  });

  it('decodes exactly the canonical strings, as Node reads them', () => {
    const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ !é'.split('');
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...chars), { maxLength: 40 }), (picked) => {
        const text = picked.join('');
        const canonical = text.length % 4 === 0 && Buffer.from(text, 'base64').toString('base64') === text;
        const decoded = base64ToBytes(text);
        if (canonical) expect(decoded).toEqual(new Uint8Array(Buffer.from(text, 'base64')));
        else expect(decoded).toBeNull();
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(base64ToBytes(Buffer.from(bytes).toString('base64'))).toEqual(bytes);
      }),
    );
  });

  it('agrees with Node\'s own encoder', () => {
    for (let n = 0; n < 64; n++) {
      const bytes = nacl.randomBytes(n);
      expect(bytesToBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    }
  });

  it('answers null, never throws, on megabytes of hostile input', () => {
    expect(base64ToBytes('A'.repeat(8_000_000) + '!')).toBeNull();
    expect(base64ToBytes('A'.repeat(8_000_001))).toBeNull();
    expect(base64ToBytes('A'.repeat(8_000_000))).toHaveLength(6_000_000);
  });

  it('base64url has no padding and only the url-safe alphabet', () => {
    const text = bytesToBase64Url(new Uint8Array([0xfb, 0xff, 0xfe, 0x01]));
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(text).toBe('-__-AQ');
  });
});

describe('utf8', () => {
  it('round-trips text and refuses invalid sequences', () => {
    expect(utf8Decode(utf8Encode('Général 🎉'))).toBe('Général 🎉');
    expect(utf8Decode(new Uint8Array([0xc3, 0x28]))).toBeNull();
  });
});
