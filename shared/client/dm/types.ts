/**
 * What the DM engine is given (storage, WebRTC peers, sql.js) and what it reports.
 * Runtime-neutral: Node passes files and @roamhq/wrtc (cli/dm/), the desktop app passes
 * IndexedDB and the browser's own WebRTC through simple-peer's standalone bundle.
 */
import type { SqlJsStatic } from 'sql.js';
import type { DmPath, Failure } from '../../protocol/index.js';

// ---------- injected ----------

/**
 * Where the device keeps its sealed identity and its encrypted DM history. Values are opaque
 * bytes (already encrypted); names are short ASCII (letters, digits, `._-`). `write` replaces
 * a value atomically: a crash leaves the old value or the new one, never half of each.
 */
export interface DmStorage {
  read(name: string): Promise<Uint8Array | null>;
  write(name: string, data: Uint8Array): Promise<void>;
  remove(name: string): Promise<void>;
}

/** The part of simple-peer's API the engine uses. */
export interface PeerLike {
  signal(data: unknown): void;
  /** Sends one channel message; false once the data channel is full ('drain' follows). */
  write(data: string): boolean;
  destroy(err?: Error): void;
  on(event: 'signal', fn: (data: unknown) => void): unknown;
  on(event: 'connect' | 'close' | 'drain', fn: () => void): unknown;
  on(event: 'data', fn: (data: unknown) => void): unknown;
  on(event: 'error', fn: (err: Error & { code?: string }) => void): unknown;
}

/** An RTCIceServer (STUN or TURN) as the authority hands it out. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface PeerOptions {
  initiator: boolean;
  trickle: true;
  config: { iceServers: IceServer[]; iceTransportPolicy?: 'all' | 'relay' };
}

/** `(opts) => new SimplePeer({ ...opts, wrtc })` in Node; without wrtc in a browser. */
export type CreatePeer = (opts: PeerOptions) => PeerLike;

// ---------- reported ----------

/** How one DM travels: over the data channel, through the authority live, or stored for later. */
export type { DmPath };

export type DmDirection = 'in' | 'out';

/**
 * An outgoing DM goes sending → sent (with its path) → delivered (the friend's encrypted
 * receipt came back); or → queued (no way out now: retried when the authority is back) or failed.
 */
export type DmStatus = 'sending' | 'queued' | 'sent' | 'delivered' | 'failed' | 'received';

export interface DmRecord {
  /** The message id, chosen by the sender, the same on both sides. */
  id: string;
  /** The friend this conversation is with. */
  peer: string;
  direction: DmDirection;
  author: string;
  text: string;
  /** The sender's timestamp (ms): the conversation's order. */
  ts: number;
  path: DmPath | null;
  status: DmStatus;
  error?: Failure;
}

export type ChannelState = 'connecting' | 'open' | 'closed';

/** Why an incoming envelope or signal was refused. Never carries content. */
export interface DmRejection {
  from: string;
  /** An envelope rejection (TAMPERED, REPLAYED, …), or NOT_FRIENDS, BAD_SIGNAL, PEER_ERROR. */
  reason: string;
  path: DmPath | 'signal';
}

export interface KeyChange {
  username: string;
  /** The key pinned until now, and the one the friend now presents. */
  pinnedKeyId: string;
  newKeyId: string;
  /** Safety number with the new key, for comparing in person before `trust`. */
  safetyNumber: string;
}

/**
 * The key log caught the authority out (key-log-watch.ts): a key it did not log (refused), a
 * head its log key did not sign, a log that does not extend what this device saw, or a key for
 * my own account that I did not publish.
 */
export interface KeyLogAlarm {
  kind: 'unlogged' | 'badSignature' | 'inconsistent' | 'unknownBinding';
  username?: string;
  keyId?: string;
  /** In English, for logs and the CLI; the apps word `kind` in French and English. */
  message: string;
}

export interface DmEngineEvents {
  /** A new incoming DM, decrypted, with the path it took. */
  received: DmRecord;
  /** An outgoing DM changed status or path. */
  status: DmRecord;
  /** A friend's key changed: sending to them is blocked until `trust(username)`. */
  keyChanged: KeyChange;
  /** A friend's key was pinned: on first use, or accepted with trust(). */
  keyPinned: { username: string; keyId: string; firstUse: boolean };
  /** The data channel with a friend opened, is being opened, or closed. */
  channel: { username: string; state: ChannelState };
  rejected: DmRejection;
  /** A new identity was made for this device (first login, or the old one could not be opened). */
  identityCreated: { keyId: string; replaced: boolean };
  /** The DM history coming from another of my devices (history-transfer.ts). */
  historyProgress: HistoryProgress;
  /** The authority's key log does not hold what it announced: see KeyLogAlarm. */
  keyLogAlarm: KeyLogAlarm;
  /** Something went wrong that the user may want to know (history unreadable, storage failed). */
  warning: { code: string; message: string };
}

/** The DM history coming from another of my devices (history-transfer.ts). */
export interface HistoryProgress {
  /** DMs received so far, of `total` announced. */
  received: number;
  total: number;
  /** Written to this device's history (the others were here already). */
  added: number;
  done: boolean;
}

export interface DmEngineOptions {
  storage: DmStorage;
  /** Without it the engine still works, through the authority only. */
  createPeer?: CreatePeer;
  /** Loads sql.js (Node: `initSqlJs()`; browsers: with `locateFile` for the wasm). */
  loadSql: () => Promise<SqlJsStatic>;
  /** How long a send waits for a data channel to open before it uses the relay. */
  directTimeoutMs?: number;
  /** After a failed attempt, how long sends go straight to the relay. */
  directRetryAfterMs?: number;
  /** Extra RTCConfiguration (merged over the authority's iceServers), e.g. a relay-only policy. */
  rtcConfig?: Partial<PeerOptions['config']>;
  /** scrypt work factor for sealing the identity; lowered only in tests. */
  kdfN?: number;
  /** How this installation is named in the user's device list ("CLI on build-01"). */
  deviceName?: string;
  /** Where the engine reports refusals and failures (never message content). */
  log?: (event: string, fields: Record<string, unknown>) => void;
}

// ---------- limits ----------

export const DM_DEFAULTS = {
  /** A send waits this long for a data channel before it takes the relay. */
  directTimeoutMs: 5000,
  /** After a failed attempt, direct is tried again only after this long. */
  directRetryAfterMs: 30_000,
  /** Events kept while the engine is locked (the rest stay stored at the authority). */
  maxQueuedEvents: 1000,
  /** Envelopes from a changed, not yet trusted key kept per friend until `trust`. */
  maxHeldPerFriend: 200,
  /** History saves are coalesced over this window. */
  saveDelayMs: 50,
  /** Friends whose keys are fetched at once. */
  keyFetchConcurrency: 8,
} as const;
