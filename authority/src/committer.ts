/**
 * Group commit for room messages. Accepted messages are written in a single transaction that
 * does not wait for the disk; the WAL is then flushed off the event loop, and only when the
 * batch is on stable storage is each sender acknowledged (with the room sequence number) and
 * the batch fanned out: each message framed once, one buffer per room for all its readers.
 * While a flush runs, new messages gather; they are committed together at the end of the loop
 * turn in which it ends. So a busy authority commits bigger batches, never blocks its event
 * loop on the disk, and a quiet one commits each message in the turn it arrives.
 */
import { frameEvent } from './frame.js';
import type { Connection } from './connection.js';
import type { Hub } from './hub.js';
import type { Logger } from './log.js';
import type { Appended, NewMessage, Store } from './store/index.js';
import { roomMessage } from './wire.js';

interface Pending {
  msg: NewMessage;
  roomName: string;
  conn: Connection;
  requestId: number;
}

/** A batch in the database, waiting for the disk before anyone hears of it. */
interface Committed {
  /** Every request of the batch, in arrival order. */
  batch: Pending[];
  /** The distinct messages of the batch (a client id repeated within it is handed to the store once). */
  unique: Pending[];
  /** For each request of `batch`: the index in `unique` of the message it repeats, if any. */
  dupOf: (number | undefined)[];
  /** For each of `unique`: stored now, or found stored before (a resend). */
  appended: Appended[];
}

export interface CommitStats {
  batches: number;
  messages: number;
  lastBatchSize: number;
  largestBatch: number;
  /** WAL flushes (one per batch, plus the one at shutdown). */
  syncs: number;
  /** Time spent waiting for the disk, in all and at worst (ms): the floor of an ack's latency. */
  syncMsTotal: number;
  syncMsMax: number;
}

const STORE_FAILED = 'the message could not be stored; send it again';

export class MessageCommitter {
  private queue: Pending[] = [];
  private scheduled = false;
  /** Committed, waiting for the WAL flush in progress. */
  private syncing: Committed | null = null;
  readonly stats: CommitStats = { batches: 0, messages: 0, lastBatchSize: 0, largestBatch: 0, syncs: 0, syncMsTotal: 0, syncMsMax: 0 };

  constructor(
    private readonly store: Store,
    private readonly hub: Hub,
    private readonly log: Logger,
  ) {}

  /** Accepted requests not yet committed. */
  get queued(): number {
    return this.queue.length;
  }

  /** Messages committed and waiting for the disk before their ack. */
  get awaitingDisk(): number {
    return this.syncing?.batch.length ?? 0;
  }

  enqueue(p: Pending): void {
    this.queue.push(p);
    if (!this.scheduled && this.syncing === null) {
      this.scheduled = true;
      setImmediate(this.onTurn);
    }
  }

  /**
   * Commits what is queued and waits for the disk right here, then acknowledges and fans out
   * everything committed so far. Called at shutdown; synchronous so that nothing is left behind.
   */
  readonly flush = (): void => {
    const waiting: Committed[] = [];
    if (this.syncing) waiting.push(this.syncing);
    this.syncing = null; // the flush in flight, when it completes, finds nothing left to do
    const committed = this.commit();
    if (committed) waiting.push(committed);
    if (waiting.length === 0) return;
    try {
      this.store.messages.syncWal();
    } catch (err) {
      this.failAll(waiting, err as Error);
      return;
    }
    this.stats.syncs++;
    for (const c of waiting) this.publish(c);
  };

  private readonly onTurn = (): void => {
    this.scheduled = false;
    this.commitAndSync();
  };

  /** One transaction for everything queued, then a WAL flush off the event loop; repeats while work arrives. */
  private commitAndSync(): void {
    if (this.syncing !== null) return; // the flush in flight picks the queue up when it completes
    const committed = this.commit();
    if (!committed) return;
    this.syncing = committed;
    const started = performance.now();
    this.store.messages.syncWalAsync((err) => {
      if (this.syncing !== committed) return; // a synchronous flush() already took care of it
      this.syncing = null;
      if (err) {
        this.failAll([committed], err);
      } else {
        const ms = performance.now() - started;
        this.stats.syncs++;
        this.stats.syncMsTotal += ms;
        if (ms > this.stats.syncMsMax) this.stats.syncMsMax = ms;
        this.publish(committed);
      }
      // What arrived meanwhile is committed at the end of this loop turn, not now: the
      // requests still being read in this turn join the same batch.
      if (this.queue.length > 0 && !this.scheduled) {
        this.scheduled = true;
        setImmediate(this.onTurn);
      }
    });
  }

  private commit(): Committed | null {
    if (this.queue.length === 0) return null;
    const batch = this.queue;
    this.queue = [];

    // The same client id twice in one turn (a fast resend) is one message.
    const firstOf = new Map<string, number>();
    const unique: Pending[] = [];
    const dupOf: (number | undefined)[] = batch.map((p) => {
      const key = `${p.msg.authorId}\u0000${p.msg.clientId}`;
      const seen = firstOf.get(key);
      if (seen !== undefined) return seen;
      firstOf.set(key, unique.length);
      unique.push(p);
      return undefined;
    });

    let appended: Appended[];
    try {
      appended = this.store.messages.appendBatch(
        unique.map((p) => p.msg),
        { deferSync: true },
      );
    } catch (err) {
      this.log.error('commit_failed', { messages: unique.length, error: (err as Error).message });
      for (const p of batch) p.conn.fail(p.requestId, 'INTERNAL', { message: STORE_FAILED });
      return null;
    }
    this.stats.batches++;
    this.stats.messages += unique.length;
    this.stats.lastBatchSize = unique.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, unique.length);
    return { batch, unique, dupOf, appended };
  }

  /** Acks first, then the fan-out of what is new: per room, the batch's frames joined into one buffer. */
  private publish(c: Committed): void {
    const perRoom = new Map<number, Buffer[]>();
    for (let i = 0; i < c.unique.length; i++) {
      const p = c.unique[i]!;
      const { seq, ts, duplicate } = c.appended[i]!;
      p.conn.reply<'postMessage'>(p.requestId, { seq, ts, duplicate });
      if (duplicate) continue; // its readers had it the first time
      const frame = frameEvent(
        'messagePosted',
        roomMessage(p.roomName, { seq, ts, client_id: p.msg.clientId, author_name: p.msg.authorName, text: p.msg.text }),
      );
      const frames = perRoom.get(p.msg.roomId);
      if (frames) frames.push(frame);
      else perRoom.set(p.msg.roomId, [frame]);
    }
    for (let i = 0; i < c.batch.length; i++) {
      const first = c.dupOf[i];
      if (first === undefined) continue;
      const { seq, ts } = c.appended[first]!;
      c.batch[i]!.conn.reply<'postMessage'>(c.batch[i]!.requestId, { seq, ts, duplicate: true });
    }
    for (const [roomId, frames] of perRoom) {
      this.hub.broadcastFrame(roomId, frames.length === 1 ? frames[0]! : Buffer.concat(frames), frames.length);
    }
  }

  /** The WAL could not be flushed: nobody may be told these messages are stored. */
  private failAll(batches: Committed[], err: Error): void {
    const n = batches.reduce((sum, c) => sum + c.batch.length, 0);
    this.log.error('commit_sync_failed', { messages: n, error: err.message });
    for (const c of batches) for (const p of c.batch) p.conn.fail(p.requestId, 'INTERNAL', { message: STORE_FAILED });
  }
}
