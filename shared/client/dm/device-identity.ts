/**
 * The user's identity on this device: sealed at rest under the password (scrypt + secretbox),
 * opened at each login. Since issue 13 §2 one identity serves every device of a user: the
 * authority keeps it sealed under a key only the password's holder derives (OPAQUE's export key,
 * shared/crypto/identity-backup.ts), so a new device opens the same keys, and the first device
 * of a user (or one after an admin reset) makes the identity and hands it over sealed.
 * Secret keys leave the device only in that sealed form.
 */
import {
  generateIdentity,
  openIdentityBackup,
  openSealedIdentity,
  sealIdentity,
  sealIdentityBackup,
  utf8Decode,
  utf8Encode,
  type DeviceIdentity,
} from '../../crypto/index.js';
import { fail, ok, type IdentityBackup, type Outcome } from '../../protocol/index.js';
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
  /**
   * The identity this device held before it took the account's (a device from before §2 had its
   * own, or another device replaced the account's): what its local history was sealed with.
   */
  previous: DeviceIdentity | null;
  /** Where an identity that could not be opened, or was replaced, was kept (never deleted). */
  setAside: string | null;
}

/** The account's sealed identity at the authority, and the export key that opens it. */
export interface IdentityBackupPort {
  exportKey: Uint8Array;
  get(): Promise<Outcome<IdentityBackup | null>>;
  /** Keeps `backup` in place of the one named `replaces`; BACKUP_CONFLICT when another device's came first. */
  put(backup: IdentityBackup, replaces: string | null): Promise<Outcome<unknown>>;
}

/** Attempts when other devices keep making identities at the same moment (each attempt takes the winner's). */
const BACKUP_ATTEMPTS = 3;

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
 * This user's identity: the account's one (from the authority's sealed backup, when `backup` is
 * given), else the one sealed on this device, else a new one (handed to the authority sealed).
 * With `localOnly` (no export key: a resumed session), only this device's sealed identity is
 * used, and LOCKED says that a login with the password is needed to open it here.
 *
 * The password was just accepted by the authority, so a local identity it cannot open was
 * sealed under an older password (changed from another device, or reset by an admin): it is kept
 * aside, never deleted.
 */
export async function unlockIdentity(
  storage: DmStorage,
  username: string,
  password: string,
  options: { kdfN?: number; now?: number; backup?: IdentityBackupPort; localOnly?: boolean } = {},
): Promise<Outcome<UnlockedIdentity>> {
  const now = options.now ?? Date.now();
  const name = identityName(username);
  const stored = await storage.read(name);
  const local = stored ? await openSealedIdentity(parse(stored), password) : null;
  let chosen: DeviceIdentity | null = local;
  let created = false;
  if (options.backup) {
    const fromBackup = await fromAccount(options.backup, local, now);
    if (!fromBackup.ok) return fromBackup;
    ({ identity: chosen, created } = fromBackup.value);
  } else if (!local) {
    if (options.localOnly) return fail('LOCKED', { message: 'log in with your password to open your keys on this device' });
    chosen = generateIdentity(now);
    created = true;
  }
  const identity = chosen!;
  const previous = local && local.keyId !== identity.keyId ? local : null;
  let setAside: string | null = null;
  if (stored && (!local || previous)) {
    setAside = `${name}.${local ? 'replaced' : 'unreadable'}-${now}`;
    await storage.write(setAside, stored);
  }
  if (!local || previous) await saveIdentity(storage, username, identity, password, options.kdfN);
  return ok({ identity, created, previous, setAside });
}

/**
 * The account's identity: the kept backup when this export key opens it; else this device's
 * (or a new one), kept sealed in its place. Another device that keeps one between our read and
 * our write wins: we read again and take it. When the authority cannot be asked, this device's.
 */
async function fromAccount(
  backup: IdentityBackupPort,
  local: DeviceIdentity | null,
  now: number,
): Promise<Outcome<{ identity: DeviceIdentity; created: boolean }>> {
  let made: DeviceIdentity | null = null;
  for (let attempt = 0; attempt < BACKUP_ATTEMPTS; attempt++) {
    const got = await backup.get();
    if (!got.ok) return local ? ok({ identity: local, created: false }) : got;
    const kept = got.value;
    const opened = kept ? openIdentityBackup(kept, backup.exportKey) : null;
    if (opened) return ok({ identity: opened, created: false });
    // None kept yet, or one this password cannot open (sealed under another, or tampered with).
    const candidate = local ?? (made ??= generateIdentity(now));
    const put = await backup.put(sealIdentityBackup(candidate, backup.exportKey), kept?.keyId ?? null);
    if (put.ok || put.error.code !== 'BACKUP_CONFLICT') {
      // Not kept (the authority unreachable now): it is kept at a later login.
      return ok({ identity: candidate, created: candidate !== local });
    }
  }
  return fail('BACKUP_CONFLICT');
}
