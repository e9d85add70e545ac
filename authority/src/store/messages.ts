import { closeSync, fdatasync, fdatasyncSync, fstatSync, openSync, statSync } from 'node:fs';
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

/** How many WAL flushes between two checks that the open descriptor is still the WAL file. */
const WAL_CHECK_EVERY = 1000;

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

  /**
   * The WAL, opened once and kept open: a flush per batch then costs one call in libuv's thread
   * pool instead of three (open, fdatasync, close). SQLite keeps the same file while any
   * connection has the database open (it rewinds it, it does not replace it), and ours stays
   * open as long as this repo; every WAL_CHECK_EVERY flushes the descriptor is checked to still
   * name the file at walPath, and opened again if it does not.
   */
  private walFd: number | null = null;
  private syncsSinceCheck = 0;

  private walDescriptor(): number {
    if (this.walFd !== null && ++this.syncsSinceCheck >= WAL_CHECK_EVERY) {
      this.syncsSinceCheck = 0;
      try {
        if (fstatSync(this.walFd).ino !== statSync(this.walPath!).ino) this.dropWalFd();
      } catch {
        this.dropWalFd();
      }
    }
    this.walFd ??= openSync(this.walPath!, 'r+');
    return this.walFd;
  }

  private dropWalFd(): void {
    if (this.walFd === null) return;
    try {
      closeSync(this.walFd);
    } catch {
      // already gone
    }
    this.walFd = null;
  }

  /** Flushes the WAL to stable storage, blocking: every batch committed before the call is durable. */
  syncWal(): void {
    if (this.walPath === null) return;
    fdatasyncSync(this.walDescriptor());
  }

  /** The same off the event loop, in libuv's thread pool: covers every batch committed before the call. */
  syncWalAsync(done: (err: Error | null) => void): void {
    if (this.walPath === null) {
      queueMicrotask(() => done(null));
      return;
    }
    let fd: number;
    try {
      fd = this.walDescriptor();
    } catch (err) {
      queueMicrotask(() => done(err as Error));
      return;
    }
    fdatasync(fd, (err) => {
      if (err) this.dropWalFd(); // opened afresh for the next try
      done(err);
    });
  }

  /** Stops the checkpoint worker; the store calls it before it closes the database. */
  close(): void {
    this.checkpointer.close();
    this.dropWalFd();
  }

  /** Newest first below `before`, returned oldest first. */
  page(roomId: number, before: number, limit: number): MessageRow[] {
    return this.q.before.all(roomId, before, limit).reverse();
  }

  after(roomId: number, after: number, limit: number): MessageRow[] {
    return this.q.after.all(roomId, after, limit);
  }

  /** The same, read row by row: a caller that stops early (a byte budget) reads no more rows. */
  iterateAfter(roomId: number, after: number, limit: number): IterableIterator<MessageRow> {
    return this.q.after.iterate(roomId, after, limit);
  }

  /** Newest first below `before`, row by row. */
  iterateBefore(roomId: number, before: number, limit: number): IterableIterator<MessageRow> {
    return this.q.before.iterate(roomId, before, limit);
  }

  count(roomId: number): number {
    return this.q.count.get(roomId)?.n ?? 0;
  }
}
