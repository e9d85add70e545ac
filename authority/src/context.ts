/** What every handler can reach, and the shape of a handler's answer. */
import {
  ERROR_TEXT,
  type ErrorBody,
  type ErrorCode,
  type Params,
  type RequestType,
  type Result,
} from '../../shared/protocol/index.js';
import type { AuthorityConfig } from './config.js';
import type { Connection } from './connection.js';
import type { Hub } from './hub.js';
import type { Logger } from './log.js';
import type { PasswordPool } from './passwords.js';
import type { Store } from './store/index.js';
import type { KeyedBuckets, WindowCounter } from './throttle.js';
import type { MessageCommitter } from './committer.js';

export interface Services {
  readonly config: AuthorityConfig;
  readonly store: Store;
  readonly hub: Hub;
  readonly passwords: PasswordPool;
  readonly log: Logger;
  readonly committer: MessageCommitter;
  readonly throttles: {
    loginPerAccount: WindowCounter;
    loginPerIp: WindowCounter;
    registerPerIp: WindowCounter;
    /** Room messages, per user over all their connections. */
    messagesPerUser: KeyedBuckets;
  };
  readonly serverVersion: string;
  now(): number;
  isShuttingDown(): boolean;
  /** Appends an admin action to the hash-chained audit log (and the log). */
  audit(actor: Actor, action: string, target: string | null, detail?: string): void;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ErrorBody };

export function ok<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

export function fail(code: ErrorCode, extra: { until?: number; message?: string } = {}): { ok: false; error: ErrorBody } {
  return { ok: false, error: { code, message: extra.message ?? ERROR_TEXT[code], until: extra.until } };
}

/** Tells a looked-up row from the failure a lookup returns in its place. */
export function isRow<T extends object>(x: T | Outcome<never>): x is T {
  return !('ok' in x);
}

/** A handler's "the reply is sent later" (postMessage: after the group commit). */
export const DEFERRED: unique symbol = Symbol('deferred');

export type Answer<T> = Outcome<T> | typeof DEFERRED;

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
