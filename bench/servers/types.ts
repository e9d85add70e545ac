/** What the bench asks of a server under test, and what it answers. */
import type { SampleSummary } from '../histogram.js';

/** Accounts written straight into the authority's store before it starts (named `${prefix}${i}`). */
export interface AccountSeed {
  prefix: string;
  count: number;
  password: string;
  /**
   * How the account logs in with its password. cheap: an OPAQUE record whose key stretching (the
   * client's Argon2id) is one pass over 1 MiB; real: the authority's configured key stretching;
   * legacy: an account from before OPAQUE, with no record and a scrypt hash at the configured
   * cost (it logs in through legacyLogin). The authority's own work in an OPAQUE login is the
   * same whatever the stretching: only the client's changes.
   */
  stretching: 'cheap' | 'real' | 'legacy';
  /** general: all in Général; spread5: account i in default room i mod 5; private: a room each; none. */
  rooms: 'general' | 'spread5' | 'private' | 'none';
}

export interface ServerLaunch {
  dataDir: string;
  tls: boolean;
  accounts: AccountSeed[];
}

export interface ServerReady {
  url: string;
  pid: number;
  /** SHA-256 certificate fingerprint when TLS is on. */
  fingerprint: string | null;
  /** Our authority: how long writing the accounts took, OPAQUE records included. */
  seeded?: { accounts: number; records: number; ms: number };
}

export const PRIVATE_ROOM_PREFIX = 'bench-';

/**
 * Every seeded account also gets a session, so that a client can come in with `resume` (no
 * OPAQUE exchange at all): logins then cost what a reconnect costs, and the password workers stay idle.
 */
export function sessionToken(username: string): string {
  return `benchsession-${username}`;
}

export function accountName(prefix: string, i: number): string {
  return `${prefix}${String(i).padStart(5, '0')}`;
}

/** The room names an account of a seed reads (Général and the four other default rooms). */
export const DEFAULT_ROOMS = ['Général', 'Blabla', 'Comptabilité', 'Informatique', 'Marketing'] as const;

export function roomOf(seed: Pick<AccountSeed, 'rooms' | 'prefix'>, i: number): string | null {
  switch (seed.rooms) {
    case 'none':
      return null;
    case 'general':
      return DEFAULT_ROOMS[0];
    case 'spread5':
      return DEFAULT_ROOMS[i % DEFAULT_ROOMS.length]!;
    case 'private':
      return `${PRIVATE_ROOM_PREFIX}${seed.prefix}${i}`;
  }
}

/** What the authority's password workers take for each step of a login, one job alone (median ms). */
export interface LoginSteps {
  scryptVerifyMs: number;
  opaqueLoginStartMs: number;
  opaqueLoginFinishMs: number;
}

/**
 * Accounts `${prefix}${i}` for i in [from, to), written into the store without a login (nobody
 * logs in as them), each publishing a fresh identity into the key log as publishKeys does; then
 * `reader` (a seeded account) is made friends with `friends`, so that it may fetch their keys.
 */
export interface KeyLogSeed {
  prefix: string;
  from: number;
  to: number;
  reader?: string;
  friends?: string[];
}

export interface KeyLogSeeded {
  /** Leaves in the log afterwards. */
  size: number;
  ms: number;
}

/** `rounds` passes over the friends' leaves (inclusion), `rounds` consistency proofs from `from` leaves, `signRounds` head signatures. */
export interface KeyLogCostsBody {
  friends: string[];
  from: number;
  rounds: number;
  signRounds: number;
}

/** The authority's own work for the key log, in its process, no network (µs unless named). */
export interface KeyLogServerCosts {
  size: number;
  /** KeyLog.inclusion for the friends' leaves, the head already signed: a fetchKeys' proof work. */
  inclusion: SampleSummary;
  /** KeyLog.consistency from `from` to the current size. */
  consistency: SampleSummary;
  /** Signing a head (Ed25519, tweetnacl): paid by the first proof asked for after the log grew. */
  headSign: SampleSummary;
}
