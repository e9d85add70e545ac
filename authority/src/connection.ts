/**
 * One client connection: its authentication state, its subscriptions, its send queue (typed
 * events and replies in, framed bytes out), and its part in the DM relay.
 *
 * States: anonymous → authenticating → authenticated (→ anonymous on logout) → closed.
 * Outgoing frames are queued and written once per event-loop turn under cork (see Hub.flush);
 * the queue is bounded in bytes, and a consumer past the cap is closed SLOW_CONSUMER.
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import {
  CLOSE_CODES,
  failure,
  type ErrorBody,
  type ErrorCode,
  type EventData,
  type EventName,
  type Failure,
  type RequestType,
  LIMITS,
  type Result,
} from '../../shared/protocol/index.js';
import { ExchangeSlot } from './auth-exchange.js';
import { frameEvent, frameJson, frameText } from './frame.js';
import type { TokenBucket } from './throttle.js';

export type ConnState = 'anonymous' | 'authenticating' | 'authenticated' | 'closed';

export interface ConnUser {
  id: number;
  username: string;
  admin: boolean;
  mustChangePassword: boolean;
}

/** How far the stored-DM backlog has been handed to a connection (see dm-delivery.ts). */
export interface DmDelivery {
  userId: number;
  /** Highest stored-envelope id handed to this connection. */
  cursor: number;
  /** The backlog is drained: new envelopes are pushed live. */
  caughtUp: boolean;
}

/** A connection's part in the DM relay: its backlog hand-over and its rate buckets. */
export interface DmRelayState {
  /** The device this connection's DM engine said it is (helloDevice), or null. */
  deviceId: string | null;
  delivery: DmDelivery | null;
  /** sendSignal, per connection. */
  signals: TokenBucket | null;
  /** relayDm, per connection. */
  envelopes: TokenBucket | null;
}

/** Queued frames up to this many bytes in all are joined into one buffer before the write. */
const JOIN_MAX_BYTES = 16 * 1024;

/** A close reason is at most 123 bytes of UTF-8 (RFC 6455 §5.5); ws throws past that. */
const MAX_CLOSE_REASON_BYTES = 120;

export function closeReasonBytes(reason: string): string {
  let out = reason;
  while (Buffer.byteLength(out) > MAX_CLOSE_REASON_BYTES) out = [...out].slice(0, -1).join('');
  return out;
}

/** How long a closing socket gets to take its close frame before it is cut. */
const CLOSE_GRACE_MS = 2000;

export class Connection {
  state: ConnState = 'anonymous';
  user: ConnUser | null = null;
  tokenHash: string | null = null;
  clientVersion = '';
  readonly since = Date.now();
  readonly rooms = new Set<number>();
  messagesIn = 0;
  messagesOut = 0;
  /** Consecutive malformed frames; reset by a good one. */
  badFrames = 0;
  /** Per request type, until when the last refusal (RATE_LIMITED, TOO_MANY_ATTEMPTS, BUSY) said to wait. */
  readonly refusedUntil = new Map<string, number>();
  /** Requests sent again before that time, in a row: a client that ignores `until` is cut. */
  earlyRetries = 0;
  /** Answered the last ping. */
  alive = true;
  readonly dm: DmRelayState = { deviceId: null, delivery: null, signals: null, envelopes: null };
  /** The OPAQUE login or registration half done on this connection (auth-exchange.ts). */
  readonly exchange = new ExchangeSlot(LIMITS.authExchangeMs);
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private closeTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    private readonly socket: Socket,
    readonly ip: string,
    private readonly queueCapBytes: number,
    private readonly onDirty: (c: Connection) => void,
  ) {}

  get closed(): boolean {
    return this.state === 'closed';
  }

  get isOpen(): boolean {
    return this.state !== 'closed' && this.ws.readyState === WebSocket.OPEN;
  }

  /** Bytes waiting: in our queue plus in the socket's buffer. */
  queueDepth(): number {
    return this.pendingBytes + this.socket.writableLength;
  }

  /** `bytes` more fit under the queue cap now, or the queue is empty (anything may then be sent). */
  hasRoomFor(bytes: number): boolean {
    const depth = this.queueDepth();
    return depth === 0 || depth + bytes <= this.queueCapBytes;
  }

  /**
   * Resolves once `bytes` more fit under the queue cap (or the queue is empty, whatever the size),
   * or the connection ended. A large reply is built only then: a client that pipelines several
   * megabyte pages gets them as fast as it reads them, instead of being cut SLOW_CONSUMER for
   * replies the server chose to build faster than it could read.
   */
  async whenRoomFor(bytes: number): Promise<void> {
    while (this.isOpen && !this.hasRoomFor(bytes)) {
      if (this.socket.writableNeedDrain) {
        await new Promise<void>((resolve) => {
          const done = () => {
            this.socket.off('drain', done);
            this.socket.off('close', done);
            resolve();
          };
          this.socket.on('drain', done);
          this.socket.on('close', done);
        });
      } else {
        // Queued but not yet handed to the socket: the hub writes it at the end of this turn.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  /**
   * Queues pre-framed bytes (shared between recipients: never mutated). `frames` says how many
   * WebSocket frames the bytes hold when a batch was joined into one buffer (for the counters).
   */
  sendFrame(frame: Buffer, frames = 1): void {
    if (!this.isOpen) return;
    if (this.queueDepth() + frame.length > this.queueCapBytes) {
      this.close(CLOSE_CODES.SLOW_CONSUMER, 'send queue full: read faster, then resume from history');
      return;
    }
    if (this.pending.length === 0) this.onDirty(this);
    this.pending.push(frame);
    this.pendingBytes += frame.length;
    this.messagesOut += frames;
  }

  /** A live event, typed by its name in shared/protocol's EVENTS. */
  send<E extends EventName>(ev: E, data: EventData<E>): void {
    this.sendFrame(frameEvent(ev, data));
  }

  /** The result of request `re`; the request type is named (`reply<'postMessage'>`) so that the result is checked. */
  reply<T extends RequestType = never>(re: number, result: NoInfer<Result<T>>): void {
    this.sendFrame(frameJson({ re, ok: true, result }));
  }

  /**
   * A result already serialised: `resultJson` is the JSON text of a value of request `re`'s
   * result type (a large reply whose messages were serialised once while measuring them).
   */
  replyJson(re: number, resultJson: string): void {
    this.sendFrame(frameText(`{"re":${re},"ok":true,"result":${resultJson}}`));
  }

  /** A typed failure: only its code, message, `until` and `reason` go on the wire (never its cause). */
  replyError(re: number | null, error: Failure<ErrorCode>): void {
    const body: ErrorBody = { code: error.code, message: error.message };
    if (error.until !== undefined) body.until = error.until;
    if (error.reason !== undefined) body.reason = error.reason;
    this.sendFrame(frameJson({ re, ok: false, error: body }));
  }

  fail(re: number | null, code: ErrorCode, extra: { until?: number; message?: string } = {}): void {
    this.replyError(re, failure(code, extra));
  }

  /**
   * Writes the queued frames in one system call when the socket keeps up. Called by the hub
   * once per loop turn. A single buffer, often shared by every reader of a room, is written as
   * is; a few small ones are joined (cheaper than a writev); larger ones go out corked (writev).
   */
  flush(): void {
    if (this.pending.length === 0) return;
    const frames = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.isOpen) return;
    if (frames.length === 1) {
      this.socket.write(frames[0]!);
    } else if (bytes <= JOIN_MAX_BYTES) {
      this.socket.write(Buffer.concat(frames, bytes));
    } else {
      this.socket.cork();
      for (const f of frames) this.socket.write(f);
      this.socket.uncork();
    }
  }

  /** Idempotent. Queued frames are written first so that the client sees every reply before the close. */
  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.flush();
    this.state = 'closed';
    this.pending = [];
    this.pendingBytes = 0;
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close(code, closeReasonBytes(reason));
      this.closeTimer = setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS);
      this.closeTimer.unref();
    }
  }

  /** Called when the socket is gone, whoever closed it. */
  markClosed(): void {
    this.state = 'closed';
    this.exchange.drop();
    this.pending = [];
    this.pendingBytes = 0;
    if (this.closeTimer) clearTimeout(this.closeTimer);
  }
}
