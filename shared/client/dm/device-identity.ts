/**
 * The device identity at rest: created at the user's first login on this device, sealed
 * with their password (scrypt + secretbox), opened at each login. Secret keys never leave
 * the device.
 */
import {
  generateIdentity,
  openSealedIdentity,
  sealIdentity,
  utf8Decode,
  utf8Encode,
  type DeviceIdentity,
} from '../../crypto/index.js';
import type { DmStorage } from './types.js';
import { peerKey } from './peer-key.js';

/** Storage names are per user, so that two accounts can share a device. */
export function identityName(username: string): string {
  return `identity-${peerKey(username)}.json`;
}

export function historyName(username: string): string {
  return `dm-history-${peerKey(username)}.sealed`;
}

export interface UnlockedIdentity {
  identity: DeviceIdentity;
  /** A new identity was made now. */
  created: boolean;
  /** Where an identity that could not be opened was kept (the password changed elsewhere, or damage). */
  setAside: string | null;
}

function parse(bytes: Uint8Array): unknown {
  const text = utf8Decode(bytes);
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export async function saveIdentity(
  storage: DmStorage,
  username: string,
  identity: DeviceIdentity,
  password: string,
  kdfN?: number,
): Promise<void> {
  const sealed = await sealIdentity(identity, password, kdfN === undefined ? {} : { N: kdfN });
  await storage.write(identityName(username), utf8Encode(JSON.stringify(sealed)));
}

/**
 * Opens this user's identity with the password, or makes one. The password was just accepted
 * by the authority, so an identity it cannot open was sealed under an older password (changed
 * from another device or reset by an admin): it is kept aside, never deleted, and a new one made.
 */
export async function unlockIdentity(
  storage: DmStorage,
  username: string,
  password: string,
  options: { kdfN?: number; now?: number } = {},
): Promise<UnlockedIdentity> {
  const name = identityName(username);
  const stored = await storage.read(name);
  if (stored) {
    const identity = await openSealedIdentity(parse(stored), password);
    if (identity) return { identity, created: false, setAside: null };
  }
  let setAside: string | null = null;
  if (stored) {
    setAside = `${name}.unreadable-${options.now ?? Date.now()}`;
    await storage.write(setAside, stored);
  }
  const identity = generateIdentity(options.now);
  await saveIdentity(storage, username, identity, password, options.kdfN);
  return { identity, created: true, setAside };
}
