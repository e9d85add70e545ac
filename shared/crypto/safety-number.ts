/**
 * Safety numbers, derived as Signal derives its numeric fingerprints: each party's
 * keys and username are hashed many times into 30 digits; the two halves are sorted,
 * so both people see the same 60 digits and can compare them in person.
 */
import nacl from 'tweetnacl';
import type { PublicIdentity } from '../protocol/index.js';
import { base64ToBytes, concatBytes, utf8Encode } from './encoding.js';

export const SAFETY_NUMBER_VERSION = 0;
/** Signal's iteration count: it makes finding a second key with the same digits costly. */
export const SAFETY_NUMBER_ITERATIONS = 5200;
const DIGITS_PER_PARTY = 30;
const CHUNK_BYTES = 5;
const CHUNK_MODULUS = 100_000;
const GROUP_DIGITS = 5;

export type SafetyNumberParty = { username: string; identity: PublicIdentity };

function decodeKey(text: string): Uint8Array {
  const key = base64ToBytes(text, 32);
  if (!key) throw new TypeError('safetyNumber: malformed public key');
  return key;
}

function partyDigits({ username, identity }: SafetyNumberParty): string {
  const keys = concatBytes(decodeKey(identity.boxPublicKey), decodeKey(identity.signPublicKey));
  const version = new Uint8Array([SAFETY_NUMBER_VERSION >> 8, SAFETY_NUMBER_VERSION & 0xff]);
  // Lower case: usernames are unique without regard to case, and both sides must agree.
  let hash = nacl.hash(concatBytes(version, keys, utf8Encode(username.toLowerCase())));
  for (let i = 0; i < SAFETY_NUMBER_ITERATIONS; i++) hash = nacl.hash(concatBytes(hash, keys));

  let digits = '';
  for (let at = 0; digits.length < DIGITS_PER_PARTY; at += CHUNK_BYTES) {
    let chunk = 0;
    for (let i = 0; i < CHUNK_BYTES; i++) chunk = chunk * 256 + (hash[at + i] ?? 0);
    digits += String(chunk % CHUNK_MODULUS).padStart(GROUP_DIGITS, '0');
  }
  return digits;
}

/** 60 digits in 12 groups of 5, the same whichever side computes it. */
export function safetyNumber(a: SafetyNumberParty, b: SafetyNumberParty): string {
  const halves = [partyDigits(a), partyDigits(b)].sort();
  const groups = halves.join('').match(new RegExp(`\\d{${GROUP_DIGITS}}`, 'g')) ?? [];
  return groups.join(' ');
}
