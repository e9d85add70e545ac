import { close, closeSync, fdatasync, fdatasyncSync, open, openSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { Checkpointer } from './checkpointer.js';

export interface MessageRow {
  room_id: number;
  seq: number;
  author_id: number | null;
  author_name: string;
  client_id: string;
  text: string;
  ts: number;
}

export interface NewMessage {
  roomId: number;
  authorId: number;
  authorName: string;
  clientId: string;
  text: string;
  ts: number;
}

export interface AppendOptions {
  /**
   * Commit without waiting for the disk: the batch is in the WAL (it survives a crash of this
   * process, kill -9 included) but not yet on stable storage. The caller must then call
   * `syncWal` or `syncWalAsync` before it tells anyone that the batch is stored. This is what
   * lets the group commit keep the event loop busy while the disk flushes.
   */
  deferSync?: boolean;
}

/** What became of one message of a batch. */
export interface Appended {
  seq: number;
  ts: number;
  /** Already stored: nothing was written, `seq` and `ts` are the first copy's. */
  duplicate: boolean;
}

/** PRAGMA synchronous values. */
const SYNC_NORMAL = 1;

/**
 * Room messages. Sequence numbers are dense per room (1, 2, 3…), assigned at commit
 * from an in-memory high-water mark that the database seeds at open.
 */
export class MessageRepo {
  private readonly q;
  private readonly lastSeq = new Map<number, number>();
  private readonly insertAll: (batch: readonly NewMessage[]) => Appended[];
  private readonly walPath: string | null;
  private readonly checkpointer: Checkpointer;

  constructor(private readonly db: Database.Database) {
    const synchronous = Number(db.pragma('synchronous', { simple: true }));
    this.q = {
      // A resend (same author, same client id) inserts nothing: the unique index is the duplicate check.
      insert: db.prepare<[number, number, number, string, string, string, number]>(
        `INSERT INTO messages (room_id, seq, author_id, author_name, client_id, text, ts) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (author_id, client_id) DO NOTHING`,
      ),
      byClientId: db.prepare<[number, string], MessageRow>('SELECT * FROM messages WHERE author_id = ? AND client_id = ?'),
      before: db.prepare<[number, number, number], MessageRow>(
        'SELECT * FROM messages WHERE room_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?',
      ),
      after: db.prepare<[number, number, number], MessageRow>(
        'SELECT * FROM messages WHERE room_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?',
      ),
      // One primary-key probe per room, not a scan of every message (a room may hold millions).
      maxSeqs: db.prepare<[], { room_id: number; seq: number | null }>(
        'SELECT r.id AS room_id, (SELECT MAX(m.seq) FROM messages m WHERE m.room_id = r.id) AS seq FROM rooms r',
      ),
      count: db.prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM messages WHERE room_id = ?'),
      lazySync: db.prepare(`PRAGMA synchronous = ${SYNC_NORMAL}`),
      restoreSync: db.prepare(`PRAGMA synchronous = ${synchronous}`),
    };
    this.insertAll = db.transaction((batch: readonly NewMessage[]) => {
      const out = new Array<Appended>(batch.length);
      for (let i = 0; i < batch.length; i++) {
        const m = batch[i]!;
        const seq = (this.lastSeq.get(m.roomId) ?? 0) + 1;
        if (this.q.insert.run(m.roomId, seq, m.authorId, m.authorName, m.clientId, m.text, m.ts).changes === 1) {
          this.lastSeq.set(m.roomId, seq);
          out[i] = { seq, ts: m.ts, duplicate: false };
        } else {
          const stored = this.q.byClientId.get(m.authorId, m.clientId);
          if (!stored) throw new Error('a message was neither inserted nor found');
          out[i] = { seq: stored.seq, ts: stored.ts, duplicate: true };
        }
      }
      return out;
    });
    this.walPath = db.memory ? null : `${db.name}-wal`;
    this.checkpointer = new Checkpointer(db);
    this.reloadSeqs();
  }

  private reloadSeqs(): void {
    this.lastSeq.clear();
    for (const r of this.q.maxSeqs.all()) if (r.seq !== null) this.lastSeq.set(r.room_id, r.seq);
  }

  lastSeqOf(roomId: number): number {
    return this.lastSeq.get(roomId) ?? 0;
  }

  byClientId(authorId: number, clientId: string): MessageRow | undefined {
    return this.q.byClientId.get(authorId, clientId);
  }

  /**
   * Stores a batch in one transaction (group commit). For each message: its sequence number,
   * or, when its author already sent that client id, the stored message's (a duplicate).
   */
  appendBatch(batch: readonly NewMessage[], options: AppendOptions = {}): Appended[] {
    const lazy = options.deferSync === true && this.walPath !== null;
    if (lazy) this.q.lazySync.run();
    try {
      const seqs = this.insertAll(batch);
      this.checkpointer.committed();
      return seqs;
    } catch (err) {
      this.reloadSeqs(); // the transaction rolled back: forget the numbers it handed out
      throw err;
    } finally {
      if (lazy) this.q.restoreSync.run();
    }
  }

  /** Flushes the WAL to stable storage, blocking: every batch committed before the call is durable. */
  syncWal(): void {
    if (this.walPath === null) return;
    const fd = openSync(this.walPath, 'r+');
    try {
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The same off the event loop, in libuv's thread pool: covers every batch committed before
   * the call. The file is opened afresh each time, so a WAL that SQLite recreated is never missed.
   */
  syncWalAsync(done: (err: Error | null) => void): void {
    if (this.walPath === null) {
      queueMicrotask(() => done(null));
      return;
    }
    open(this.walPath, 'r+', (openErr, fd) => {
      if (openErr) return done(openErr);
      fdatasync(fd, (syncErr) => close(fd, (closeErr) => done(syncErr ?? closeErr ?? null)));
    });
  }

  /** Stops the checkpoint worker; the store calls it before it closes the database. */
  close(): void {
    this.checkpointer.close();
  }

  /** Newest first below `before`, returned oldest first. */
  page(roomId: number, before: number, limit: number): MessageRow[] {
    return this.q.before.all(roomId, before, limit).reverse();
  }

  after(roomId: number, after: number, limit: number): MessageRow[] {
    return this.q.after.all(roomId, after, limit);
  }

  count(roomId: number): number {
    return this.q.count.get(roomId)?.n ?? 0;
  }
}
