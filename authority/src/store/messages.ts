import type Database from 'better-sqlite3';

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

/**
 * Room messages. Sequence numbers are dense per room (1, 2, 3…), assigned at commit
 * from an in-memory high-water mark that the database seeds at open.
 */
export class MessageRepo {
  private readonly q;
  private readonly lastSeq = new Map<number, number>();

  constructor(private readonly db: Database.Database) {
    this.q = {
      insert: db.prepare<[number, number, number, string, string, string, number]>(
        'INSERT INTO messages (room_id, seq, author_id, author_name, client_id, text, ts) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      byClientId: db.prepare<[number, string], MessageRow>('SELECT * FROM messages WHERE author_id = ? AND client_id = ?'),
      before: db.prepare<[number, number, number], MessageRow>(
        'SELECT * FROM messages WHERE room_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?',
      ),
      after: db.prepare<[number, number, number], MessageRow>(
        'SELECT * FROM messages WHERE room_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?',
      ),
      maxSeqs: db.prepare<[], { room_id: number; seq: number }>(
        'SELECT room_id, MAX(seq) AS seq FROM messages GROUP BY room_id',
      ),
      count: db.prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM messages WHERE room_id = ?'),
    };
    this.reloadSeqs();
  }

  private reloadSeqs(): void {
    this.lastSeq.clear();
    for (const r of this.q.maxSeqs.all()) this.lastSeq.set(r.room_id, r.seq);
  }

  lastSeqOf(roomId: number): number {
    return this.lastSeq.get(roomId) ?? 0;
  }

  byClientId(authorId: number, clientId: string): MessageRow | undefined {
    return this.q.byClientId.get(authorId, clientId);
  }

  /** Stores a batch in one transaction (group commit); returns each message's sequence number. */
  appendBatch(batch: readonly NewMessage[]): number[] {
    try {
      return this.db.transaction(() =>
        batch.map((m) => {
          const seq = this.lastSeqOf(m.roomId) + 1;
          this.q.insert.run(m.roomId, seq, m.authorId, m.authorName, m.clientId, m.text, m.ts);
          this.lastSeq.set(m.roomId, seq);
          return seq;
        }),
      )();
    } catch (err) {
      this.reloadSeqs(); // the transaction rolled back: forget the numbers it handed out
      throw err;
    }
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
