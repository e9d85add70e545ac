import { describe, expect, it } from 'vitest';
import { generateIdentity, publicIdentity, safetyNumber } from '../../../shared/crypto/index.js';

const alice = { username: 'alice', identity: publicIdentity(generateIdentity()) };
const bob = { username: 'bob', identity: publicIdentity(generateIdentity()) };

describe('safety number', () => {
  it('is 60 digits in 12 groups of 5', () => {
    expect(safetyNumber(alice, bob)).toMatch(/^\d{5}( \d{5}){11}$/);
  });

  it('is the same on both sides', () => {
    expect(safetyNumber(alice, bob)).toBe(safetyNumber(bob, alice));
  });

  it('is stable across calls and unaffected by username case', () => {
    expect(safetyNumber(alice, bob)).toBe(safetyNumber({ ...alice, username: 'Alice' }, bob));
  });

  it('changes when either key changes', () => {
    const before = safetyNumber(alice, bob);
    const aliceNewDevice = { ...alice, identity: publicIdentity(generateIdentity()) };
    const bobNewDevice = { ...bob, identity: publicIdentity(generateIdentity()) };
    expect(safetyNumber(aliceNewDevice, bob)).not.toBe(before);
    expect(safetyNumber(alice, bobNewDevice)).not.toBe(before);
  });

  it('changes when the same key is claimed by another username', () => {
    expect(safetyNumber({ ...alice, username: 'mallory' }, bob)).not.toBe(safetyNumber(alice, bob));
  });

  it('changes when only the box key changes (the key that encrypts DMs)', () => {
    const other = publicIdentity(generateIdentity());
    const swapped = { ...alice, identity: { ...alice.identity, boxPublicKey: other.boxPublicKey } };
    expect(safetyNumber(swapped, bob)).not.toBe(safetyNumber(alice, bob));
  });
});
