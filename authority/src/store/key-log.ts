import type Database from 'better-sqlite3';
import type { PublicIdentity } from '../../../shared/protocol/index.js';

interface KeyLogRow {
  idx: number;
  name: string;
  user_id: number;
  key_id: string;
  box_pk: string;
  sign_pk: string;
  signature: string;
  at: number;
}

/** A leaf of the key log: who published which identity, and when it was logged. */
export interface KeyLogEntry {
  index: number;
  name: string;
  userId: number;
  identity: PublicIdentity;
  at: number;
}

function entryOf(r: KeyLogRow): KeyLogEntry {
  return {
    index: r.idx,
    name: r.name,
    userId: r.user_id,
    identity: { keyId: r.key_id, boxPublicKey: r.box_pk, signPublicKey: r.sign_pk, signature: r.signature },
    at: r.at,
  };
}

/** The key log's rows (append-only by trigger): see db/migrations/008_key_log.sql. */
export class KeyLogRepo {
  private readonly q;

  constructor(db: Database.Database) {
    this.q = {
      all: db.prepare<[], KeyLogRow>('SELECT * FROM key_log ORDER BY idx'),
      size: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM key_log'),
      append: db.prepare<[number, string, number, string, string, string, string, number]>(
        'INSERT INTO key_log (idx, name, user_id, key_id, box_pk, sign_pk, signature, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      latestFor: db.prepare<[string], KeyLogRow>('SELECT * FROM key_log WHERE name = ? ORDER BY idx DESC LIMIT 1'),
      pageFor: db.prepare<[string, number, number], KeyLogRow>('SELECT * FROM key_log WHERE name = ? AND idx > ? ORDER BY idx LIMIT ?'),
      directory: db.prepare<[], { user_id: number; username: string; key_id: string; box_pk: string; sign_pk: string; signature: string; updated_at: number }>(
        `SELECT k.user_id, u.username, k.key_id, k.box_pk, k.sign_pk, k.signature, k.updated_at
         FROM identity_keys k JOIN users u ON u.id = k.user_id ORDER BY k.updated_at, k.user_id`,
      ),
    };
  }

  all(): KeyLogEntry[] {
    return this.q.all.all().map(entryOf);
  }

  size(): number {
    return this.q.size.get()!.n;
  }

  append(entry: KeyLogEntry): void {
    const { keyId, boxPublicKey, signPublicKey, signature } = entry.identity;
    this.q.append.run(entry.index, entry.name, entry.userId, keyId, boxPublicKey, signPublicKey, signature, entry.at);
  }

  /** The newest binding of a name: what the directory announces for it. */
  latestFor(name: string): KeyLogEntry | undefined {
    const r = this.q.latestFor.get(name);
    return r && entryOf(r);
  }

  /** The directory's keys as they are (identity_keys), oldest first: what a log made on upgrade starts with. */
  directory(): { userId: number; username: string; identity: PublicIdentity; at: number }[] {
    return this.q.directory.all().map((r) => ({
      userId: r.user_id,
      username: r.username,
      identity: { keyId: r.key_id, boxPublicKey: r.box_pk, signPublicKey: r.sign_pk, signature: r.signature },
      at: r.updated_at,
    }));
  }

  /** Bindings of a name after leaf `after`, at most `limit`. */
  pageFor(name: string, after: number, limit: number): KeyLogEntry[] {
    return this.q.pageFor.all(name, after, limit).map(entryOf);
  }
}
