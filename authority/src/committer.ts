/**
 * Group commit for room messages: every message accepted during one event-loop turn is
 * written in a single transaction; only after COMMIT is each sender acknowledged (with the
 * room sequence number) and the message fanned out — framed once for all readers.
 */
import type { RoomMessage } from '../../shared/protocol/index.js';
import { frameJson } from './frame.js';
import type { Connection } from './connection.js';
import type { Hub } from './hub.js';
import type { Logger } from './log.js';
import type { NewMessage, Store } from './store/index.js';

interface Pending {
  msg: NewMessage;
  roomName: string;
  conn: Connection;
  requestId: number;
}

export interface CommitStats {
  batches: number;
  messages: number;
  lastBatchSize: number;
  largestBatch: number;
}

export class MessageCommitter {
  private queue: Pending[] = [];
  private scheduled = false;
  readonly stats: CommitStats = { batches: 0, messages: 0, lastBatchSize: 0, largestBatch: 0 };

  constructor(
    private readonly store: Store,
    private readonly hub: Hub,
    private readonly log: Logger,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  enqueue(p: Pending): void {
    this.queue.push(p);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Commits what is queued; also called directly at shutdown. */
  readonly flush = (): void => {
    this.scheduled = false;
    if (this.queue.length === 0) return;
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

    let seqs: number[];
    try {
      seqs = this.store.messages.appendBatch(unique.map((p) => p.msg));
    } catch (err) {
      this.log.error('commit_failed', { messages: unique.length, error: (err as Error).message });
      for (const p of batch) p.conn.fail(p.requestId, 'INTERNAL', { message: 'the message could not be stored; send it again' });
      return;
    }
    this.stats.batches++;
    this.stats.messages += unique.length;
    this.stats.lastBatchSize = unique.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, unique.length);

    unique.forEach((p, i) => {
      const seq = seqs[i]!;
      p.conn.reply(p.requestId, { seq, ts: p.msg.ts, duplicate: false });
      const event: { ev: 'messagePosted' } & RoomMessage = {
        ev: 'messagePosted',
        room: p.roomName,
        seq,
        clientId: p.msg.clientId,
        author: p.msg.authorName,
        text: p.msg.text,
        ts: p.msg.ts,
      };
      this.hub.broadcastFrame(p.msg.roomId, frameJson(event));
    });
    batch.forEach((p, i) => {
      const first = dupOf[i];
      if (first !== undefined) p.conn.reply(p.requestId, { seq: seqs[first]!, ts: unique[first]!.msg.ts, duplicate: true });
    });
  };
}
