/**
 * What every handler can reach (Services), who performs an action (Actor), the shape of a
 * handler's answer, and what the admin surfaces reach beyond Services (AdminServices).
 * Expected failures travel in shared/protocol's Outcome, narrowed to the wire's ErrorCode.
 */
import { ok, type ErrorCode, type Outcome, type Params, type RequestType, type Result } from '../../shared/protocol/index.js';
import type { BackupManager } from './backup.js';
import type { AuthorityConfig } from './config.js';
import type { Connection } from './connection.js';
import type { Hub } from './hub.js';
import type { Logger } from './log.js';
import type { KeyLog } from './key-log.js';
import type { PasswordPool } from './passwords.js';
import type { ReadTurns } from './read-turns.js';
import type { Store } from './store/index.js';
import type { KeyedBuckets, WindowCounter } from './throttle.js';
import type { MessageCommitter } from './committer.js';

export interface Services {
  readonly config: AuthorityConfig;
  readonly store: Store;
  readonly hub: Hub;
  readonly passwords: PasswordPool;
  /** The OPAQUE server setup (opaque-setup.ts), read or made at start. */
  readonly opaqueSetup: Promise<string>;
  /** The key directory's append-only, signed log (key-log.ts). */
  readonly keyLog: KeyLog;
  readonly log: Logger;
  readonly committer: MessageCommitter;
  readonly throttles: {
    /** Failed logins per "account|address". */
    loginPerAccountIp: WindowCounter;
    /** Failed logins per account, from addresses it never logged in from. */
    loginPerAccount: WindowCounter;
    /** Failed logins per address, unknown names included. */
    loginPerIp: WindowCounter;
    /** Registration attempts per address, whatever their answer. */
    registerPerIp: WindowCounter;
    /** Wrong passwords per user id in changePassword / deleteAccount. */
    passwordChecksPerUser: WindowCounter;
    /** Room messages, per user over all their connections. */
    messagesPerUser: KeyedBuckets;
    /** New access and friend requests (each notifies someone), per user. */
    requestsPerUser: KeyedBuckets;
    readBytesPerUser: KeyedBuckets;
  };
  /** Turns on the event loop for the requests that build large replies (read-turns.ts). */
  readonly readTurns: ReadTurns;
  readonly serverVersion: string;
  now(): number;
  isShuttingDown(): boolean;
  /** Appends an admin action to the hash-chained audit log (and the log). */
  audit(actor: Actor, action: string, target: string | null, detail?: string): void;
}

/** Frames read, for /threads. */
export interface FrameCounters {
  framesIn: number;
  badFrames: number;
  handlerErrors: number;
}

export interface PeriodicJob {
  name: string;
  everyMs: number;
}

/**
 * What the console and the control socket reach beyond Services: the process's counters and
 * timers (/threads), backups, and the graceful stop. The running Authority implements it.
 */
export interface AdminServices extends Services {
  readonly startedAt: number;
  readonly counters: FrameCounters;
  readonly backups: BackupManager;
  periodicJobs(): PeriodicJob[];
  /** Graceful stop of the whole authority; idempotent. */
  stop(reason: string): Promise<void>;
}

/** Tells a looked-up row from the failure a lookup returns in its place. */
export function isRow<T extends object>(x: T | Outcome<never, ErrorCode>): x is T {
  return !('ok' in x);
}

/** A handler's "the reply is sent later" (postMessage: after the group commit). */
export const DEFERRED: unique symbol = Symbol('deferred');

export type Answer<T> = Outcome<T, ErrorCode> | typeof DEFERRED;

export type Handler<T extends RequestType> = (
  s: Services,
  c: Connection,
  p: Params<T>,
  requestId: number,
) => Answer<Result<T>> | Promise<Answer<Result<T>>>;

export type HandlerMap = { [T in RequestType]: Handler<T> };

/** Who performed an action: a client's admin, or the console / control socket. */
export interface Actor {
  name: string;
  origin: string;
}

/** A client's admin as the actor of their request: their username, from their address. */
export function actorOf(c: Connection): Actor {
  return { name: c.user!.username, origin: c.ip };
}

/** An admin request's `{ ok: true }` for an operation that succeeded, or the operation's failure. */
export function acknowledged<T>(r: Outcome<T, ErrorCode>): Outcome<{ ok: true }, ErrorCode> {
  return r.ok ? ok({ ok: true as const }) : r;
}
