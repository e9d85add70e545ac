/** What the bench asks of a server under test, and what it answers. */

/** Accounts written straight into the authority's store before it starts (named `${prefix}${i}`). */
export interface AccountSeed {
  prefix: string;
  count: number;
  password: string;
  /** cheap: scrypt N=2^10, so that logging 2000 clients in does not dominate; real: the configured cost. */
  hash: 'cheap' | 'real';
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
}

export const PRIVATE_ROOM_PREFIX = 'bench-';

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
